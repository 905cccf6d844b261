"""The question sets, scored exactly as ``shared/checks/qa_eval.py`` scores ``ask --batch``.

A question is right when the first source's document is an accepted one, one expected phrase is
in the answer (accents, case, spaces and punctuation ignored), and the answer is at most 2,000
characters; an out-of-scope question (no accepted document) is right when the engine abstains.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from knowledge.answers import answer

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data"
SHARED_DEV = REPO / ".." / "shared" / "eval" / "dev_questions.jsonl"


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _score(items: list[dict[str, Any]]) -> tuple[float, list[str]]:
    misses = []
    for it in items:
        result = answer(it["q"])
        docs = [s.doc for s in result.sources]
        if not it["docs"]:
            ok = result.abstained
        else:
            ok = (
                not result.abstained
                and bool(docs)
                and docs[0] in it["docs"]
                and any(norm(p) in norm(result.text) for p in it["any"])
                and len(result.text) <= 2000
            )
        if not ok:
            misses.append(f"{it['q']!r}: abstained={result.abstained} sources={docs[:2]}")
    return 1 - len(misses) / len(items), misses


def _dev_path() -> Path:
    if (DATA / "dev_questions.jsonl").is_file():
        return DATA / "dev_questions.jsonl"
    if SHARED_DEV.is_file():
        return SHARED_DEV
    pytest.skip("dev_questions.jsonl found neither in tests/data nor in ../shared/eval")


def test_dev_questions_are_answered_accurately() -> None:
    accuracy, misses = _score(_load(_dev_path()))
    assert accuracy >= 0.95, misses


@pytest.mark.skipif(not SHARED_DEV.is_file(), reason="../shared/eval is not next to the repository")
def test_the_local_dev_copy_matches_the_shared_set() -> None:
    assert _load(DATA / "dev_questions.jsonl") == _load(SHARED_DEV)


def test_heldout_questions_are_answered_accurately() -> None:
    accuracy, misses = _score(_load(DATA / "heldout_questions.jsonl"))
    assert accuracy >= 0.85, misses


@pytest.mark.parametrize("name", ["dev_questions.jsonl", "heldout_questions.jsonl"])
def test_every_out_of_scope_question_abstains(name: str) -> None:
    items = [it for it in _load(DATA / name) if not it["docs"]]
    assert items
    assert [it["q"] for it in items if not answer(it["q"]).abstained] == []


def test_the_heldout_set_is_varied() -> None:
    items = _load(DATA / "heldout_questions.jsonl")
    assert len(items) >= 30
    assert sum(1 for it in items if not it["docs"]) >= 8
    for doc in ("fiche-1", "fiche-4", "fiche-9", "note-2023-08", "gamma"):
        assert sum(1 for it in items if doc in it["docs"]) >= 2, doc
