"""A message after a question: a fragment is read with its subject; a complete question is read
alone and in context, and the reading with the clearer evidence answers."""

from __future__ import annotations

import random
from pathlib import Path

from knowledge.answers import CONTEXT_MARGIN, consider, prepare
from knowledge.evaluation import load, verdict

DEV = Path(__file__).resolve().parents[2] / "data" / "dev"

ACCOUNT = "How do I create a Prodouane account?"
AEO = "We are AEO-F, can we record in our books instead of paper declarations during the outage?"
INFORM = "Do we need to inform the customs office?"


def test_a_complete_question_is_read_both_alone_and_in_context() -> None:
    prepared = prepare(INFORM, previous=AEO)
    assert not prepared.fragment
    assert prepared.in_context is not None and prepared.in_context.in_context is None
    # the reading in context carries the previous question's subject
    assert prepared.in_context.asked.text.startswith(AEO)


def test_a_fragment_is_read_only_in_context() -> None:
    prepared = prepare("et pour GAMMA ?", previous="Quel délai pour réintégrer les déclarations ?")
    assert prepared.fragment and prepared.in_context is None


def test_a_question_asked_first_has_one_reading() -> None:
    assert prepare(INFORM).in_context is None


def test_a_complete_follow_up_is_answered_with_the_previous_subject() -> None:
    # alone, informing the office is fiche 1's self-trigger step; after the AEO question it is the
    # AEO facility's "le bureau de douane doit en outre être préalablement informé"
    result = consider(INFORM, previous=AEO).answer
    assert not result.abstained
    assert (result.sources[0].doc, result.sources[0].section) == ("fiche-4", "etape-3-oea")
    assert "préalablement informé" in result.text
    alone = consider(INFORM).answer  # (declined since the tenth pass: "inform" whom, about what?)
    assert not alone.sources or alone.sources[0].section != "etape-3-oea"


def test_a_french_follow_up_too() -> None:
    result = consider(
        "c'est le bureau qui habilite les utilisateurs ?", previous="Comment adhérer à GAMMA ?"
    ).answer
    assert not result.abstained and result.sources[0].doc == "gamma"
    assert "Habilité l(es) utilisateur(s)" in result.text


def test_the_context_reading_wins_only_by_a_margin() -> None:
    assert (
        consider(INFORM, previous=AEO).answer.confidence > consider(INFORM).answer.confidence + CONTEXT_MARGIN
    )


def test_a_question_on_another_subject_is_answered_as_if_asked_alone() -> None:
    question = "Dans quel délai faut-il réintégrer les déclarations de secours dans Delta X ?"
    after = consider(question, previous=ACCOUNT).answer
    alone = consider(question).answer
    assert after.sources[:1] == alone.sources[:1] and after.text == alone.text


def test_questions_asked_after_an_unrelated_one_keep_their_answers() -> None:
    # metamorphic: the shared dev questions, each asked right after a question about another
    # document, are answered as well as when asked first (a few may change either way); each is
    # measured as unseen, its file's questions (shipped as probes) withheld
    items = [
        {**it, "file": name}
        for name in ("dev_questions.jsonl", "heldout_questions.jsonl")
        for it in load(DEV / name)
        if it["docs"]
    ]
    rng = random.Random(11)
    pairs = [
        (it, rng.choice([o for o in items if not set(o["docs"]) & set(it["docs"])])) for it in items[::2]
    ]
    alone = sum(verdict(it, consider(it["q"], withheld=it["file"]).answer) == "right" for it, _ in pairs)
    after = sum(
        verdict(it, consider(it["q"], previous=o["q"], withheld=it["file"]).answer) == "right"
        for it, o in pairs
    )
    assert after >= alone - max(2, len(pairs) // 30), (after, alone, len(pairs))


def test_a_question_read_alone_is_measured_once() -> None:
    found = prepare("Comment auto-déclencher la procédure de secours ?").found
    assert found is not None and found.own_probe is not None
    assert (found.own_probe == found.dense_probe).all() and found.own_negative == found.negative


def test_a_fragment_is_also_measured_as_the_message_alone() -> None:
    # read with the previous subject, "how do we become one?" is near the OEA facility's questions;
    # alone, it is nearer the questions no fiche answers, and the decline model is told so
    prepared = prepare("et comment on devient OEA ?", previous=AEO)
    found = prepared.found
    assert prepared.fragment and found is not None and found.own_probe is not None
    in_context = float(found.dense_probe.max()) - found.negative
    alone = float(found.own_probe.max()) - found.own_negative
    assert alone < in_context


def test_a_fragment_asks_the_previous_question_of_the_box_it_names() -> None:
    first = "Qu'est-ce qu'on met en case 44 du DAU en procédure de secours ?"
    prepared = prepare("et en case 31 ?", previous=first)
    assert prepared.fragment and prepared.intent.boxes == {"31"}


def test_a_fragment_naming_no_box_does_not_inherit_the_previous_box() -> None:
    # "after a physical check" is asked of the reintegration, which names no box
    first = "Case 44 du DAU en procédure de secours import, je mets quoi ?"
    prepared = prepare("et à la réintégration après un contrôle physique ?", previous=first)
    assert prepared.intent.boxes == frozenset()
