"""Scoring the answer engine on question sets, exactly as ``shared/checks/qa_eval.py`` scores ``ask``.

A question is ``{"q", "docs", "any"}``: right when the first source's document is one of ``docs``,
one phrase of ``any`` is in the answer (accents, case, spaces and punctuation ignored) and the
answer is at most 2,000 characters; a question with no ``docs`` is right when the engine
abstains. A follow-up is ``{"q1", "q2", "docs", "any"}``: ``q2`` is asked right after ``q1`` in
the same chat and scored the same way.

The report keeps counts and confidences, never the questions' text, so a locked set can be
measured (by the bench, by the tests) without anyone reading it. :func:`misses` gives the text of
the failures, for dev sets only.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.answers import Answer, Considered, consider

MAX_ANSWER = 2000


def norm(text: str) -> str:
    """Lower case, accents folded, only letters and digits kept (the checker's comparison)."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def is_followup(item: Mapping[str, Any]) -> bool:
    return "q2" in item


def weigh(item: Mapping[str, Any], withheld: str | None = None) -> Considered:
    """The engine's answer to one item (a question, or the second turn of an exchange), with the
    candidate it would give had it not declined. ``withheld``: the dev file the item comes from,
    whose questions the engine ships as probes (:mod:`knowledge.asked`) and must not see while it
    is measured on them."""
    if is_followup(item):
        return consider(str(item["q2"]), previous=str(item["q1"]), withheld=withheld)
    return consider(str(item["q"]), withheld=withheld)


def verdict(item: Mapping[str, Any], result: Answer) -> str:
    """ "right", "declined" (in scope, abstained), "wrong" (an answer that misses) or "answered"
    (out of scope, not abstained)."""
    docs = [s.doc for s in result.sources]
    if not item["docs"]:
        return "right" if result.abstained else "answered"
    if result.abstained:
        return "declined"
    ok = (
        bool(docs)
        and docs[0] in item["docs"]
        and any(norm(p) in norm(result.text) for p in item["any"])
        and len(result.text) <= MAX_ANSWER
    )
    return "right" if ok else "wrong"


@dataclass(slots=True)
class Report:
    """Counts for one question set; no question text."""

    in_scope: int = 0
    in_scope_right: int = 0
    out_of_scope: int = 0
    out_of_scope_right: int = 0
    #: answers given that are wrong: in scope with the wrong source or phrase, or out of scope
    wrong_answers: int = 0
    declined_in_scope: int = 0
    right_confidences: list[float] = field(default_factory=list)
    wrong_confidences: list[float] = field(default_factory=list)
    #: for every question a section was weighed for: (confidence, whether that answer is right)
    calibration: list[tuple[float, bool]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.in_scope + self.out_of_scope

    @property
    def accuracy(self) -> float:
        return (self.in_scope_right + self.out_of_scope_right) / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        def share(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "questions": self.total,
            "accuracy": round(self.accuracy, 4),
            "in_scope": share(self.in_scope_right, self.in_scope),
            "in_scope_n": f"{self.in_scope_right}/{self.in_scope}",
            "out_of_scope": share(self.out_of_scope_right, self.out_of_scope),
            "out_of_scope_n": f"{self.out_of_scope_right}/{self.out_of_scope}",
            "declined_in_scope": self.declined_in_scope,
            "confident_wrong": self.wrong_answers,
            "max_wrong_confidence": max(self.wrong_confidences, default=None),
            "min_right_confidence": min(self.right_confidences, default=None),
        }


def score(
    items: Iterable[Mapping[str, Any]],
    engine: Callable[[Mapping[str, Any]], Considered] | None = None,
    withheld: str | None = None,
) -> Report:
    """Counts for ``items``, answered by ``engine`` (by default :func:`weigh`, ``withheld`` being
    the dev file they come from)."""
    report = Report()
    for item in items:
        considered = engine(item) if engine is not None else weigh(item, withheld)
        result = considered.answer
        outcome = verdict(item, result)
        if item["docs"]:
            report.in_scope += 1
            report.in_scope_right += outcome == "right"
            report.declined_in_scope += outcome == "declined"
        else:
            report.out_of_scope += 1
            report.out_of_scope_right += outcome == "right"
        if outcome in ("wrong", "answered"):
            report.wrong_answers += 1
            report.wrong_confidences.append(result.confidence)
        elif outcome == "right" and not result.abstained:
            report.right_confidences.append(result.confidence)
        if considered.candidate is not None:
            right = bool(item["docs"]) and verdict(item, considered.candidate) == "right"
            report.calibration.append((result.confidence, right))
    return report


CALIBRATION_BINS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def calibration_table(pairs: Sequence[tuple[float, bool]]) -> list[dict[str, Any]]:
    """Per confidence bin: how many questions, and the share whose answer (given or not) is right."""
    table = []
    for lo, hi in zip(CALIBRATION_BINS, CALIBRATION_BINS[1:], strict=False):
        inside = [ok for c, ok in pairs if lo <= c < hi or (hi == 1.0 and c == 1.0)]
        table.append(
            {
                "bin": f"{lo:.1f}-{hi:.1f}",
                "n": len(inside),
                "right": round(sum(inside) / len(inside), 3) if inside else None,
            }
        )
    return table


def merge(reports: Sequence[Report]) -> Report:
    out = Report()
    for r in reports:
        out.in_scope += r.in_scope
        out.in_scope_right += r.in_scope_right
        out.out_of_scope += r.out_of_scope
        out.out_of_scope_right += r.out_of_scope_right
        out.wrong_answers += r.wrong_answers
        out.declined_in_scope += r.declined_in_scope
        out.right_confidences += r.right_confidences
        out.wrong_confidences += r.wrong_confidences
        out.calibration += r.calibration
    return out


def misses(items: Iterable[Mapping[str, Any]], withheld: str | None = None) -> list[str]:
    """One line per failed question, with its text: for dev sets only, never a locked one."""
    out = []
    for item in items:
        result = weigh(item, withheld).answer
        outcome = verdict(item, result)
        if outcome != "right":
            q = f"{item['q1']!r} → {item['q2']!r}" if is_followup(item) else repr(item["q"])
            where = [f"{s.doc}#{s.section}" for s in result.sources[:2]]
            out.append(f"{outcome}: {q} (confidence {result.confidence}, sources {where})")
    return out
