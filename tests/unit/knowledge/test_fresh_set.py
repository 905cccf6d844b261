"""The fresh question set: colloquial operator questions written before the engine was re-tuned.

It guards generalisation (contact and "que faire" questions, named documents, acronyms, GAMMA's
own rule, near-domain questions that must abstain), scored like ``shared/checks/qa_eval.py``.
"""

from __future__ import annotations

from tests.unit.knowledge.test_eval import DATA, _load, _score


def test_fresh_questions_are_answered_accurately() -> None:
    accuracy, misses = _score(_load(DATA / "fresh_questions.jsonl"))
    assert accuracy >= 0.9, misses


def test_the_fresh_set_is_broad_enough_to_mean_something() -> None:
    items = _load(DATA / "fresh_questions.jsonl")
    out_of_scope = [it for it in items if not it["docs"]]
    covered = {doc for it in items for doc in it["docs"]}
    assert len(items) >= 70
    assert len(out_of_scope) >= 15
    assert covered == {"fiche-1", "fiche-4", "fiche-9", "note-2023-08", "gamma"}
