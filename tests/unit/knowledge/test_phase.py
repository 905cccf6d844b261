"""Which phase of an outage a question asks about, and the ranking signal it gives."""

from __future__ import annotations

import pytest

from knowledge.documents import load_documents
from knowledge.intents import read_intent
from knowledge.ranking import _phase_matches
from knowledge.search import KnowledgeBase

DOCS = load_documents()


@pytest.mark.parametrize(
    "question",
    [
        "et après ?",
        "Une fois la coupure terminée, on renvoie tout ?",
        "Quand ça remarche, je fais quoi ?",
        "and afterwards?",
        "What do we do once the systems are back up?",
        "Après la fin d'alerte, combien de temps pour réintégrer ?",
        # any determiner: the cues are the outage's names after "après", "à l'issue de", "une fois"
        "Après une panne Delta G, que faut-il renvoyer ?",
        "À l'issue de cette maintenance, on fait quoi ?",
    ],
)
def test_a_question_about_the_time_after_the_outage_reads_as_after(question: str) -> None:
    assert read_intent(question, DOCS).phase == "after"


@pytest.mark.parametrize(
    "question",
    [
        "Pendant la panne, on dépose comment ?",
        "What do we do during the outage?",
        "meanwhile, what then?",
        "Que faire pendant une interruption programmée des services en ligne ?",
        "Durant cette coupure, on dépose quoi ?",
        "Que faire lors d'une maintenance ?",
    ],
)
def test_a_question_about_the_outage_itself_reads_as_during(question: str) -> None:
    assert read_intent(question, DOCS).phase == "during"


@pytest.mark.parametrize(
    "question",
    [
        "Comment auto-déclencher la procédure de secours ?",
        "Pendant la panne et après, que faire ?",  # both: the question does not choose
        "pendant combien de temps dure l'alerte ?",
    ],
)
def test_a_question_naming_no_single_phase_has_none(question: str) -> None:
    assert read_intent(question, DOCS).phase is None


def _sections(values, kb: KnowledgeBase) -> set[str]:  # type: ignore[no-untyped-def]
    return {f"{d.id}#{s.id}" for (d, s), v in zip(kb.entries, values, strict=True) if v}


def test_after_points_to_the_sections_about_the_return_of_the_services() -> None:
    kb = KnowledgeBase.load()
    after = _sections(_phase_matches(kb, read_intent("et une fois terminée ?", DOCS)), kb)
    assert {"note-2023-08#reprise", "fiche-1#etape-6", "fiche-4#etape-4-delai"} <= after
    assert not after & {"note-2023-08#consignes", "note-2023-08#objet", "fiche-1#etape-5"}


def test_during_points_to_the_fallback_and_the_instructions_for_the_day() -> None:
    kb = KnowledgeBase.load()
    during = _sections(_phase_matches(kb, read_intent("pendant la coupure, on fait quoi ?", DOCS)), kb)
    assert {"note-2023-08#consignes", "fiche-4#etape-3-depot"} <= during
    assert not during & {"note-2023-08#reprise", "fiche-4#etape-4-delai", "fiche-1#etape-6"}


def test_a_question_without_a_phase_changes_no_section() -> None:
    kb = KnowledgeBase.load()
    assert not _phase_matches(kb, read_intent("Qui signe la note ?", DOCS)).any()


def test_the_back_up_procedure_is_not_the_time_after_the_outage() -> None:
    # "back-up procedure" is English for the procédure de secours, not "the systems are back up"
    assert read_intent("What is the back-up procedure for Delta G?", DOCS).phase is None
    assert read_intent("Delta G is back up, what now?", DOCS).phase == "after"
