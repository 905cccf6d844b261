"""Folding, stemming, language detection and the bilingual glossary."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.text import analyse_fr, analyse_question, detect_lang, fold


def test_folding_removes_accents_and_case() -> None:
    assert fold("Réintégrées À Délai") == "reintegrees a delai"


@given(st.text())
def test_folding_drops_every_combining_mark_and_keeps_every_other_character(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text.replace("@", "a").replace("œ", "oe"))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert fold(text) == (text.replace("@", "a").lower() if text.isascii() else kept.lower())


def test_french_inflections_share_one_stem() -> None:
    assert analyse_fr("réintégrées") == analyse_fr("réintégrer")
    assert analyse_fr("déclarations") == analyse_fr("déclaration")


def test_stop_words_are_dropped() -> None:
    assert analyse_fr("de la le les des") == []


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Puis-je auto-déclencher la procédure de secours ?", "fr"),
        ("contingent tarifaire pendant la panne", "fr"),
        ("Can I trigger the fallback procedure at night?", "en"),
        ("What is GPS used for in GAMMA?", "en"),
    ],
)
def test_language_is_detected(question: str, lang: str) -> None:
    assert detect_lang(question) == lang


def test_english_glossary_expands_into_the_fiches_french_terms() -> None:
    terms = analyse_question("How do I self-trigger the fallback procedure?").terms()
    for french in ("auto déclencher", "procédure de secours"):
        for term in analyse_fr(french):
            assert term in terms


@pytest.mark.parametrize(
    ("english", "french"),
    [
        ("box", "case"),
        ("release", "mainlevée"),
        ("end of alert", "fin d'alerte"),
        ("provider", "prestataire"),
        ("deadline", "délai"),
        ("night", "24 heures"),
        ("member states", "États membres"),
        ("low-value consignment", "valeur négligeable"),
        ("assistance request", "demande d'assistance"),
    ],
)
def test_glossary_pairs(english: str, french: str) -> None:
    terms = analyse_question(f"what about the {english}?", lang="en").terms()
    assert set(analyse_fr(french)) <= set(terms)


def test_question_words_are_intent_not_topic() -> None:
    query = analyse_question("Comment renouveler mon passeport ?")
    assert [g.word for g in query.topic] == ["renouveler", "passeport"]
    assert any(g.weak for g in query.groups)


def test_french_abbreviations_expand() -> None:
    terms = analyse_question("Faut-il informer le bureau après la DA ?").terms()
    assert set(analyse_fr("demande d'assistance")) <= set(terms)
