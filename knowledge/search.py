"""The search index over the sections of the knowledge base, and the signals an answer needs.

One BM25 index (``bm25s``) holds one entry per section. A section's heading is indexed three times
and its document's title once, so "Étape 4 – Quand pouvez-vous auto-déclencher…" outranks a body
that merely mentions the words. When a question names téléservices, sections of documents that
cover them are boosted and the others damped, so "GAMMA: can I self-trigger?" lands on the GAMMA
presentation rather than on fiche 1.

Besides the ranking, a search reports how much of the question the documents speak about at all:
each word of the question is weighted by its rarity (IDF; a word the corpus never uses weighs as
much as a specific one), and ``vocab_coverage`` is the weighted share the corpus knows,
``section_coverage`` the weighted share present in the best section. These two numbers drive
abstention in :mod:`knowledge.answers`.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import bm25s
import numpy as np

from knowledge.documents import Document, Section, load_documents
from knowledge.text import Query, TermGroup, analyse_fr

HEADING_WEIGHT = 3  # how many times a heading is indexed
BOOST_COVERED = 1.4  # a document covering a service the question names
BOOST_RELATED = 1.1  # a document written for a neighbouring service (fiche 4 for Delta G)
DAMP_OTHER = 0.5  # a document covering none of the services the question names
UNKNOWN_DF = 2  # the document frequency a word unknown to the corpus is weighed as
INTENT_WEIGHT = 0.5  # "comment", "can I": a hint at the heading, weaker than the topic words


@dataclass(frozen=True, slots=True)
class Hit:
    document: Document
    section: Section
    score: float


@dataclass(frozen=True, slots=True)
class Retrieval:
    query: Query
    hits: tuple[Hit, ...]
    vocab_coverage: float
    section_coverage: float
    known_groups: int


class KnowledgeBase:
    """The documents, their sections and the index; build it once with :meth:`load`."""

    _lock = threading.Lock()
    _shared: KnowledgeBase | None = None

    def __init__(self, documents: Sequence[Document]) -> None:
        self.documents = tuple(documents)
        self.entries: tuple[tuple[Document, Section], ...] = tuple(
            (d, s) for d in self.documents for s in d.sections
        )
        corpus: list[list[str]] = []
        section_terms: list[frozenset[str]] = []
        for doc, sec in self.entries:
            heading, title, body = analyse_fr(sec.heading), analyse_fr(doc.title), analyse_fr(sec.body)
            corpus.append(heading * HEADING_WEIGHT + title + body)
            section_terms.append(frozenset(heading + title + body))
        self.section_terms = tuple(section_terms)
        n = len(corpus)
        df: dict[str, int] = {}
        for terms in section_terms:
            for t in terms:
                df[t] = df.get(t, 0) + 1
        self.idf = {t: math.log(1 + (n - k + 0.5) / (k + 0.5)) for t, k in df.items()}
        # A word the fiches never use weighs like a specific word (one found in two sections):
        # missing it matters, but an odd verb must not outweigh the whole topic.
        self.unknown_idf = math.log(1 + (n - UNKNOWN_DF + 0.5) / (UNKNOWN_DF + 0.5))
        # bm25s sets its own logger to DEBUG at import, which would print under any root level.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._bm25.index(corpus, show_progress=False)

    @classmethod
    def load(cls) -> KnowledgeBase:
        """The process-wide knowledge base, built on first use (thread-safe)."""
        if cls._shared is None:
            with cls._lock:
                if cls._shared is None:
                    cls._shared = cls(load_documents())
        return cls._shared

    @cached_property
    def by_doc(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}

    def weight(self, group: TermGroup) -> float:
        """How much a question word matters: the IDF of its rarest known term, or the maximum."""
        known = [self.idf[t] for t in group.terms if t in self.idf]
        return max(known) if known else self.unknown_idf

    def knows(self, group: TermGroup) -> bool:
        return any(t in self.idf for t in group.terms)

    def _scores(self, terms: Sequence[str]) -> np.ndarray:
        vocab = self._bm25.vocab_dict
        known = [t for t in terms if t and t in vocab]
        if not known:
            return np.zeros(len(self.entries), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def search(self, query: Query, services: Sequence[str] = (), k: int = 5) -> Retrieval:
        scores = self._scores(query.terms()) + INTENT_WEIGHT * self._scores(query.terms(weak=True))
        if services:
            wanted = set(services)
            factors = np.array(
                [
                    BOOST_COVERED
                    if wanted & set(d.services)
                    else BOOST_RELATED
                    if wanted & set(d.related)
                    else DAMP_OTHER
                    for d, _ in self.entries
                ],
                dtype=np.float32,
            )
            scores = scores * factors
        order = np.argsort(-scores, kind="stable")[:k]
        hits = tuple(
            Hit(self.entries[i][0], self.entries[i][1], float(scores[i])) for i in order if scores[i] > 0
        )
        topic = query.topic
        weights = [self.weight(g) for g in topic]
        total = sum(weights) or 1.0
        known = [self.knows(g) for g in topic]
        vocab_cov = sum(w for w, ok in zip(weights, known, strict=True) if ok) / total
        section_cov = 0.0
        if hits:
            terms = self.section_terms[int(order[0])]
            inside = sum(w for g, w in zip(topic, weights, strict=True) if set(g.terms) & terms)
            section_cov = inside / total
        return Retrieval(query, hits, vocab_cov, section_cov, sum(known))
