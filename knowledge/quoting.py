"""Which sentences of a section answer: the quote is chosen sentence by sentence, then cut by blocks.

Within the chosen section each sentence gets a score from a small fitted model
(:data:`FEATURES`, weights in :attr:`knowledge.weights.Weights.sentence`): its embedding's cosine
with the question (relative to the section's best sentence), the weighted share of the question's
topic words it contains (with its section's heading), whether it opens the section (the rule a
step starts with), its length, and how close the question is to the probe questions it answers.
The best sentence is the answer's first line; the blocks (paragraphs, list items) of the
passage are ranked by their best sentence, so the sentence that answers is never the one left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.embeddings import ITEMS_WITH_LEAD
from knowledge.intents import gives_contact, gives_time
from knowledge.ranking import DENSE_SCALE, Signals
from knowledge.search import KnowledgeBase
from knowledge.text import Query

FEATURES: tuple[str, ...] = (
    "dense",
    "coverage",
    "opens_section",
    "introduces_list",
    "length_log",
    "gives_time",
    "probe",
)
MIN_RELEVANCE = 0.05  # a block whose best sentence is this much less likely than the best is left out
KEY_RELEVANCE = 0.2  # a sentence giving the delay asked for leads the answer if at least this relevant
KEY_COVERAGE = 0.2  # ...or if it holds at least this weighted share of the question's topic words


def sentence_features(
    kb: KnowledgeBase, found: Signals, query: Query, section: int, asks_time: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The sentence indices of ``section`` (rows of ``kb.units``) and their signals."""
    rows = np.nonzero(kb.sentence_section == section)[0]
    if not len(rows):
        return rows, np.zeros((0, len(FEATURES)))
    cosines = found.sentence_cosines[rows]
    coverage = kb.sentence_coverage_each(query, with_heading=False)[rows]
    opens = (np.arange(len(rows)) == 0).astype(np.float64)
    # a lead-in quoted with its items ("en case 44 du DAU E/S : la mention spéciale « 50000 »"), not
    # one whose colon opens a paragraph the quote cannot carry
    introduces = np.array(
        [
            text.endswith(":") and kb.units.sentence_quote[j] != text
            for j, text in ((j, kb.units.sentence_text[j]) for j in rows)
        ],
        dtype=np.float64,
    )
    length = np.array([math.log(len(kb.units.sentence_text[j]) + 1) for j in rows])
    # a question asking "how long / until when" is answered by the sentence that gives a time
    timely = np.array(
        [asks_time and gives_time(kb.units.sentence_quote[j]) for j in rows], dtype=np.float64
    )
    return rows, np.stack(
        [
            DENSE_SCALE * (cosines - cosines.max()),
            coverage,
            opens,
            introduces,
            length,
            timely,
            _probe_closeness(kb, found, rows),
        ],
        axis=1,
    )


def _probe_closeness(kb: KnowledgeBase, found: Signals, rows: np.ndarray) -> np.ndarray:
    """Per sentence, how close the question is to the probes it answers, relative to the best.

    A sentence no probe points at reads as the weakest one that has some; a section without
    probes gives zeros (the signal is then silent).
    """
    dense = kb.dense
    if found.probe_cosines is None or not len(found.probe_cosines):
        return np.zeros(len(rows))
    best = np.full(len(rows), -1.0)
    position = {int(r): n for n, r in enumerate(rows)}
    for p in np.nonzero(np.isin(dense.probe_sentence, rows))[0]:
        n = position[int(dense.probe_sentence[p])]
        best[n] = max(best[n], float(found.probe_cosines[p]))
    if not (best > -1.0).any():
        return np.zeros(len(rows))
    # a list's lead-in is quoted with its first items: a probe answered by an item is answered by it
    texts, contexts = kb.units.sentence_text, kb.units.sentence_context
    for n, j in enumerate(rows):
        if texts[int(j)].endswith(":"):
            items = [
                m
                for m in range(n + 1, min(n + 1 + ITEMS_WITH_LEAD, len(rows)))
                if contexts[int(rows[m])] == texts[int(j)]
            ]
            best[n] = max([best[n], *(best[m] for m in items)])
    floor = float(best[best > -1.0].min())
    best = np.where(best > -1.0, best, floor)
    closeness: np.ndarray = DENSE_SCALE * (best - best.max())
    return closeness


@dataclass(frozen=True, slots=True)
class Quote:
    """The sentences of one section with their relevance to the question (the best one is 1)."""

    rows: np.ndarray  # sentence indices (rows of ``kb.units``)
    relevance: np.ndarray  # probability relative to the best sentence, in (0, 1]
    texts: tuple[str, ...]  # each sentence as it reads in the section
    quotes: tuple[str, ...]  # what is quoted when it answers (a list's lead-in with its first items)
    #: the weighted share of the question's topic words each sentence holds (without the heading)
    coverage: np.ndarray | None = None

    @property
    def key(self) -> str:
        """The sentence that answers best, as quoted (the first one on a tie)."""
        return self.quotes[int(np.argmax(self.relevance))] if len(self.rows) else ""

    def key_giving(self, gives: Callable[[str], bool], by_topic: bool = False) -> str:
        """The best sentence among those that give what the question asks for (a delay, a phone
        number, a yes or a no), if one is relevant enough; otherwise :attr:`key`.

        With ``by_topic``, a sentence that gives it and holds a fair share of the question's topic
        words qualifies even when the sentence model ranks it low: "faut-il une autorisation du
        bureau ?" is answered by "aucune autorisation ne soit requise", not by the section's
        opening rule.
        """
        best = -1.0
        chosen = self.key
        covered = self.coverage if self.coverage is not None else np.zeros(len(self.quotes))
        for quote, rel, cov in zip(self.quotes, self.relevance, covered, strict=True):
            relevant = rel >= KEY_RELEVANCE or (by_topic and cov >= KEY_COVERAGE)
            if relevant and rel > best and gives(quote):
                best, chosen = float(rel), quote
        return chosen


def relevance(
    kb: KnowledgeBase,
    found: Signals,
    query: Query,
    section: int,
    weights: Sequence[float],
    asks_time: bool = False,
) -> Quote:
    """The sentences of ``section`` scored by the sentence model."""
    rows, x = sentence_features(kb, found, query, section, asks_time)
    if not len(rows):
        return Quote(rows, np.zeros(0), (), ())
    z = x @ np.asarray(weights, dtype=np.float64)
    rel = np.exp(z - z.max())
    return Quote(
        rows,
        rel,
        tuple(kb.units.sentence_text[int(j)] for j in rows),
        tuple(kb.units.sentence_quote[int(j)] for j in rows),
        x[:, FEATURES.index("coverage")],
    )


def scorer(quote: Quote, contact: bool = False) -> Callable[[str], float]:
    """How well a block (or a sentence) answers: the relevance of its best sentence.

    When a phone number or an e-mail address is asked for, a block giving one counts as the best.
    """
    pairs = list(zip(quote.texts, (float(r) for r in quote.relevance), strict=True))

    def score(block: str) -> float:
        value = max((r for text, r in pairs if text in block), default=0.0)
        if contact and gives_contact(block):
            value = max(value, 1.0)
        return value if value >= MIN_RELEVANCE else 0.0

    return score
