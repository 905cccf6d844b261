"""The probe questions: tied to real sections and sentences, embedded with the index, never quoted."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from knowledge import probe_terms
from knowledge.answers import answer, prepare
from knowledge.documents import load_documents
from knowledge.embeddings import digest, load_index, units
from knowledge.probes import (
    ASKED_FILE,
    NEGATIVES_FILE,
    PROBES_FILE,
    Probe,
    load_asked,
    load_negatives,
    load_probes,
    shipped_questions_digest,
)
from knowledge.ranking import FEATURES, PROBES_AVERAGED, closest_probes
from knowledge.search import KnowledgeBase
from tests.support.sections import section_index

MIN_PER_SECTION = 4


def test_every_probe_names_an_existing_section_and_quotes_one_of_its_sentences() -> None:
    docs = {d.id: d for d in load_documents()}
    u = units(list(docs.values()))
    written = load_probes()
    for probe, sentence in zip(written, u.probe_sentence[: len(written)], strict=True):
        assert probe.doc in docs, probe
        body = " ".join(docs[probe.doc].section(probe.section).body.split())
        assert probe.answer and probe.answer in body, probe
        assert sentence >= 0, f"no sentence of {probe.doc}#{probe.section} holds {probe.answer!r}"


def test_every_section_has_probes_in_french_and_in_english() -> None:
    per_section = Counter((p.doc, p.section, p.lang) for p in load_probes())
    for doc in load_documents():
        for section in doc.sections:
            fr, en = per_section[(doc.id, section.id, "fr")], per_section[(doc.id, section.id, "en")]
            assert fr + en >= MIN_PER_SECTION and fr and en, (doc.id, section.id, fr, en)


def test_the_shipped_index_holds_one_vector_per_probe() -> None:
    docs = load_documents()
    index = load_index(docs)
    asked, _ = load_asked()
    assert index.probes.shape == (len(load_probes()) + len(asked), 384)
    assert np.allclose(np.linalg.norm(index.probes.rows(), axis=1), 1.0, atol=1e-2)


def test_changing_the_probes_changes_the_digest(tmp_path: Path) -> None:
    # so a stale index (or weights fitted on other probes) is caught by the digest tests
    docs = load_documents()
    probes = list(load_probes())
    edited = [*probes[:-1], Probe(probes[-1].doc, probes[-1].section, "fr", "autre question ?", "")]
    assert digest(units(docs, edited)) != digest(units(docs, probes))
    assert digest(units(docs, ())) != digest(units(docs, probes))


def test_a_probe_file_that_is_absent_means_no_probes(tmp_path: Path) -> None:
    assert load_probes(tmp_path / "missing.jsonl") == ()
    path = tmp_path / "probes.jsonl"
    path.write_text(json.dumps({"doc": "fiche-1", "section": "etape-1", "q": " a  b ", "answer": "x"}) + "\n")
    assert load_probes(path) == (Probe("fiche-1", "etape-1", "fr", "a b", "x"),)


def test_an_answer_never_shows_a_probe_question() -> None:
    # probes help find the section; the answer quotes only the official text
    # one in 28 (one in seven with HYPOTHESIS_PROFILE=deep): every section, every style
    for probe in load_probes()[:: 7 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 28]:
        text = answer(probe.question).text
        assert probe.question not in text


def test_a_sections_closeness_is_the_mean_of_its_closest_probes() -> None:
    assert PROBES_AVERAGED == 5
    cosines = np.array([0.9, 0.1, 0.5, 0.7, 0.8, 0.3, 0.6, 0.2])
    owner = np.array([0, 0, 0, 0, 2, 2, 0, 0])
    # section 0: the five closest of 0.9, 0.1, 0.5, 0.7, 0.6, 0.2 (0.1 left out); section 1 has none
    assert closest_probes(cosines, owner, 3).tolist() == pytest.approx([0.58, -1.0, 0.55])
    assert closest_probes(np.zeros(0), np.zeros(0, dtype=np.int32), 2).tolist() == [-1.0, -1.0]


def test_the_questions_no_section_answers_are_embedded_and_in_the_digest() -> None:
    docs = load_documents()
    negatives = load_negatives()
    assert len(negatives) >= 100
    _, asked = load_asked()
    assert load_index(docs).negatives.shape == (len(negatives) + len(asked), 384)
    assert digest(units(docs, negatives=negatives[:-1])) != digest(units(docs, negatives=negatives))


def test_no_question_is_both_answered_by_a_section_and_by_none() -> None:
    answered = {p.question.casefold() for p in load_probes()}
    assert not answered & {q.casefold() for q in load_negatives()}


def test_the_probes_sharing_the_questions_words_mark_the_section_that_answers() -> None:
    # every self-triggering step has probes within a hundredth of this question in meaning; the
    # word saying what is asked ("autoriser") is in the probes of the reminder that answers it
    p = prepare("Le bureau doit-il autoriser l'auto-déclenchement de la procédure de secours ?")
    assert p.found is not None
    words = p.found.features[:, FEATURES.index("probe_words")]
    reminder, when = section_index("fiche-1", "rappels"), section_index("fiche-1", "etape-4")
    assert words[reminder] == words.max() > words[when]
    assert ((words >= 0) & (words <= 1)).all()


def test_an_english_probe_is_read_into_the_fiches_terms() -> None:
    kb = KnowledgeBase.load()
    english = [i for i, text in enumerate(kb.units.probes) if "authoris" in text.lower() and " the " in text]
    assert english
    assert any(any(t.startswith("autoris") for t in kb.probe_terms(i)) for i in english)


def test_the_shipped_probe_words_are_those_of_the_shipped_probes() -> None:
    # regenerate with `python -m knowledge.probe_terms` after editing the probes
    kb = KnowledgeBase.load()
    shipped = probe_terms.load(digest(kb.units))
    assert shipped is not None, "knowledge/index/probe_terms.npz is stale: python -m knowledge.probe_terms"
    assert [frozenset(t) for t in shipped] == [kb.read_probe(i) for i in range(len(shipped))]


def test_probe_words_read_from_other_probes_are_ignored() -> None:
    assert probe_terms.load(digest(units(load_documents(), probes=(), negatives=()))) is None


def test_probe_words_survive_their_compact_file(tmp_path: Path) -> None:
    terms = [("autoris", "bureau"), (), ("bureau", "secour", "délai")]
    probe_terms.ProbeTerms.of(terms).save(tmp_path / "t.npz", "d1")
    loaded = probe_terms.load("d1", tmp_path / "t.npz")
    assert loaded is not None and list(loaded) == [tuple(t) for t in terms]
    assert probe_terms.load("d2", tmp_path / "t.npz") is None
    assert probe_terms.load("d1", tmp_path / "missing.npz") is None


def test_the_shipped_index_attaches_each_question_where_the_files_do() -> None:
    # at run time the sections and sentences of the probes come from the shipped index, the files
    # being checked by the hash of their bytes only: they must be what reading the files gives
    docs = load_documents()
    u, index = units(docs), load_index(docs)
    assert index.probe_section.tolist() == list(u.probe_section)
    assert index.probe_sentence.tolist() == list(u.probe_sentence)
    assert len(index.negatives) == len(u.negatives)


def test_building_the_knowledge_base_reads_no_shipped_question() -> None:
    # parsing the 11,000 questions was a third of `ask`'s start-up: the vectors and the probe
    # words are checked against the hash of the files' bytes instead
    kb = KnowledgeBase(load_documents())
    assert kb.dense.digest == digest(kb.units)
    assert kb.probe_terms(0)
    read = cast(Any, kb.units.questions_read)
    assert read.cache_info().misses == 0
    assert len(kb.units.probes) == len(kb.dense.probe_section)  # read when asked for, once
    assert read.cache_info().misses == 1


def test_the_question_files_digest_follows_their_bytes(tmp_path: Path) -> None:
    package = Path(str(resources.files("knowledge")))
    (tmp_path / "index").mkdir()
    for name in (PROBES_FILE, NEGATIVES_FILE, ASKED_FILE):
        shutil.copy(package / name, tmp_path / name)
    assert shipped_questions_digest(tmp_path) == shipped_questions_digest()
    with (tmp_path / ASKED_FILE).open("a", encoding="utf-8") as handle:
        handle.write('{"q": "Autre question ?", "from": ["x.jsonl"]}\n')
    edited = shipped_questions_digest(tmp_path)
    assert edited != shipped_questions_digest()
    (tmp_path / NEGATIVES_FILE).unlink()
    assert shipped_questions_digest(tmp_path) not in (edited, shipped_questions_digest())
