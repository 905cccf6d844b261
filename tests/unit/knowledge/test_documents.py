"""The knowledge base files: every document loads, is clean, and keeps the official wording."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from knowledge.documents import DOC_IDS, Document, DocumentError, load_documents, parse
from knowledge.services import CANONICAL

# Copies of the five public DGDDI seed documents (shared/seeds), so a clean clone can check them.
SEEDS = Path(__file__).resolve().parents[2] / "data" / "seeds"
SEED_FILES = {
    "fiche-1": "000_9d8109aef78c5c07.txt",
    "fiche-4": "001_721295b516557103.txt",
    "note-2023-08": "002_93db584faad35c95.txt",
    "gamma": "003_d4b2b98d4704acac.txt",
    "fiche-9": "004_23d43f5e46c9ba30.txt",
}


def _norm(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def test_the_five_documents_load_with_their_fixed_ids() -> None:
    docs = load_documents()
    assert tuple(d.id for d in docs) == DOC_IDS == ("fiche-1", "fiche-4", "fiche-9", "note-2023-08", "gamma")


@pytest.mark.parametrize("doc", load_documents(), ids=lambda d: d.id)
def test_every_document_has_metadata_and_non_empty_sections(doc) -> None:  # type: ignore[no-untyped-def]
    assert doc.title and doc.short
    assert "DGDDI" in doc.source and SEED_FILES[doc.id] in doc.source
    assert doc.services and all(s in CANONICAL for s in doc.services)
    ids = [s.id for s in doc.sections]
    assert len(ids) == len(set(ids)), "section ids must be unique"
    for section in doc.sections:
        assert re.fullmatch(r"[a-z0-9-]+", section.id)
        assert section.heading.strip() and section.label.strip()
        assert len(section.body.strip()) > 40, f"{doc.id}#{section.id} is empty"
        assert section.source(doc.short).ref.startswith("DGDDI, ")


def test_documents_cover_the_expected_services() -> None:
    docs = {d.id: d for d in load_documents()}
    assert set(docs["fiche-1"].services) == {"DELTA G", "DELTA X Import", "DELTA X Export"}
    assert "DELTA X Import" in docs["fiche-4"].services
    assert {"ICS", "ICS2"} <= set(docs["fiche-9"].services)
    assert "GAMMA" in docs["gamma"].services
    assert docs["note-2023-08"].date == "2023-08-01"


def test_sections_carry_the_roles_other_parts_rely_on() -> None:
    docs = {d.id: d for d in load_documents()}
    assert "deadline" in docs["fiche-4"].section("etape-4-delai").roles
    assert "assistance-request" in docs["fiche-1"].section("etape-5").roles
    assert {"selftrigger"} <= set(docs["fiche-1"].section("etape-3").roles)
    assert "resumption" in docs["fiche-1"].section("etape-6").roles
    for doc_id in ("fiche-1", "fiche-4", "fiche-9", "gamma"):
        assert docs[doc_id].with_role("fallback"), doc_id


def test_conversion_noise_is_gone() -> None:
    for doc in load_documents():
        for section in doc.sections:
            assert "screenshot" not in section.body.lower()
            assert "**" not in section.body and "](" not in section.body
            assert "....." not in section.body


def test_gamma_keeps_its_fallback_procedure_in_full() -> None:
    gamma = next(d for d in load_documents() if d.id == "gamma")
    fallback = " ".join(s.body for s in gamma.sections if s.id.startswith("iv-"))
    for phrase in (
        "impossibilité pour un opérateur d'émettre ou d'imprimer un DAA ou un DSA",
        "alerte rouge ou noire",
        "service douanier qui décide de l'autorisation",
        "GPS génère un numéro à indiquer sur le formulaire papier DAA ou DSA",
    ):
        assert phrase in fallback


def _plain(text: str) -> str:
    """Text without markup (links, HTML tags, emphasis, list and heading markers) or extra spaces."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link reads as its text
    text = re.sub(r"<(https?://[^>\s]+)>", r"\1", text)  # an autolink reads as its address
    text = re.sub(r"<sup>.*?</sup>", "", text)  # footnote calls
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = text.replace("**", "").replace("\\*", "*").replace("’", "'")
    text = re.sub(r"(?m)^\s*(?:#+|[-*•▶►■□]|\d+\s*-)\s+", " ", text)
    text = re.sub(r"(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)", "", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" (?=[.,;:!?)])", "", text).strip()


def _sentences(body: str) -> list[str]:
    out = []
    for line in body.splitlines():
        for sentence in re.split(r"(?<=[.!?;:])\s+", _plain(line)):
            sentence = sentence.rstrip(".;:, ")
            if sentence:
                out.append(sentence)
    return out


@pytest.mark.parametrize("doc", load_documents(), ids=lambda d: d.id)
def test_every_sentence_is_the_official_wording(doc) -> None:  # type: ignore[no-untyped-def]
    seed = _plain((SEEDS / SEED_FILES[doc.id]).read_text(encoding="utf-8"))
    added = [
        f"{section.id}: {sentence}"
        for section in doc.sections
        for sentence in _sentences(section.body)
        if sentence not in seed
    ]
    assert added == []


LEFT_OUT = Path(__file__).resolve().parents[2] / "data" / "seed-left-out.txt"


def _words(text: str) -> str:
    """The words of ``text``, lower case, one space apart and around: markup, punctuation and line
    breaks ignored (a list item of the seed may be a table row or a paragraph in the knowledge base)."""
    return " " + " ".join(re.findall(r"\w+", text.lower().replace("’", "'"))) + " "


def _left_out() -> dict[str, set[str]]:
    listed: dict[str, set[str]] = {}
    doc = ""
    for line in LEFT_OUT.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("[") and line.endswith("]"):
            doc = line[1:-1]
            listed[doc] = set()
        else:
            listed[doc].add(line)
    return listed


@pytest.mark.parametrize("doc", load_documents(), ids=lambda d: d.id)
def test_nothing_of_the_seed_is_dropped_but_what_is_listed_with_its_reason(doc) -> None:  # type: ignore[no-untyped-def]
    # the converse of the verbatim test: the GAMMA form's rubrics, its signature and the portal's
    # steps were once missing, and a question about them could only be declined or answered wrong
    text = _words(" ".join(f"{s.heading} . {s.body}" for s in doc.sections) + f" {doc.title}")
    seed = (SEEDS / SEED_FILES[doc.id]).read_text(encoding="utf-8")
    dropped = {s for s in _sentences(seed) if _words(s).strip() and _words(s) not in text}
    listed = _left_out().get(doc.id, set())
    assert sorted(dropped - listed) == [], (
        "dropped from knowledge/docs: keep them, or list them with a reason"
    )
    assert sorted(listed - dropped) == [], f"in knowledge/docs again: remove them from {LEFT_OUT.name}"


def _gamma() -> tuple[Document, str]:
    """The GAMMA presentation and the text of all its sections."""
    gamma = next(d for d in load_documents() if d.id == "gamma")
    return gamma, " ".join(s.body for s in gamma.sections)


def test_the_gamma_membership_form_keeps_its_edi_section() -> None:
    _, text = _gamma()
    assert "tous les messages électroniques entrants" in text
    assert "sous forme de message EDI" in text
    assert "N° SIRET de votre prestataire EDI" in text
    assert "transmettre signé" not in text


def test_the_seed_copies_match_the_shared_seeds() -> None:
    shared = Path(__file__).resolve().parents[3] / ".." / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not next to the repository")
    for name in SEED_FILES.values():
        assert (SEEDS / name).read_bytes() == (shared / name).read_bytes(), name


def test_a_file_without_front_matter_is_refused() -> None:
    with pytest.raises(DocumentError):
        parse("## Étape 1 {#etape-1}\n\ntext\n")


def test_unknown_services_are_refused() -> None:
    text = '+++\nid = "x"\ntitle = "t"\nshort = "s"\nsource = "DGDDI"\nservices = ["DELTA Z"]\n+++\n## A {#a}\n\nbody\n'
    with pytest.raises(DocumentError, match="unknown services"):
        parse(text)


def test_the_gamma_presentation_keeps_what_users_ask_about_the_portal() -> None:
    # operators ask what InfoAccises is for, whether an SMS number is needed to sign up, whether
    # they can see their recent log-ins: the presentation answers, so the knowledge base must too
    gamma, text = _gamma()
    assert "Vérifier la validité d'un numéro d'accise" in text
    assert "Contrôler la cohérence du numéro de votre acquéreur intracommunautaire" in text
    assert "d'une adresse Mél obligatoirement" in text
    assert "[Service non encore ouvert]" in text
    assert "Historique des dernières connexions sur le compte" in text
    assert gamma.section("i-teleservices").heading


def test_the_gamma_presentation_keeps_how_an_account_is_activated() -> None:
    # "my account is still not active": the confirmation mail's link makes the registration
    # definitive, and the identifier and password are asked again; the presentation says so
    gamma, text = _gamma()
    activation = gamma.section("ii-activation").body
    assert "votre inscription ne sera définitive qu'après l'avoir activé" in activation
    assert "Cliquez sur le lien de validation de votre compte pour activer vos droits." in activation
    assert "l'identifiant saisi lors de votre inscription" in activation
    assert "Dans la fiche d'inscription, le SIRET est remplacé par le nom de la société." in text
    # the presentation's own slides, one section each: what signing up needs, the form, the
    # activation, the personal space; the membership form's EDI rubric apart from its users'
    for section in (
        "ii-compte",
        "ii-fiche",
        "ii-activation",
        "ii-espace",
        "iii-instruction",
        "iii-formulaire-edi",
    ):
        assert gamma.section(section).part in ("II", "III")


def test_a_front_matter_that_is_not_closed_or_not_toml_is_refused_in_one_line() -> None:
    with pytest.raises(DocumentError, match="not closed"):
        parse('+++\nid = "x"\n## A {#a}\n\nbody\n')
    with pytest.raises(DocumentError, match="not valid TOML"):
        parse("+++\nid: x\n+++\n## A {#a}\n\nbody\n")
