"""BM25 over a small corpus (the fiches' sections, their sentences), in numpy.

The Lucene variant, as ``bm25s`` computes it by default: a term's score in a document is
``idf × tf / (tf + k1 × (1 − b + b × length / average length))`` with
``idf = ln(1 + (N − df + 0.5) / (df + 0.5))``. The corpus is a few hundred documents, so each term's
scores over all documents are computed once, when first asked for, and kept: a question costs a
dictionary look-up per term. Written here rather than imported: the library cost 5 MB of resident
memory in the long-running process for two indexes this size.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence

import numpy as np

K1 = 1.2
B = 0.75


class BM25:
    """One index; ``scores(term)`` is that term's BM25 score in every document (zeros if unknown)."""

    def __init__(self, corpus: Sequence[Sequence[str]], k1: float = K1, b: float = B) -> None:
        self._n = len(corpus)
        lengths = np.array([len(doc) for doc in corpus], dtype=np.float64)
        average = float(lengths.mean()) if self._n else 0.0
        #: per document, the denominator's constant part: k1 × (1 − b + b × length / average)
        self._norm = k1 * (1 - b + b * lengths / (average or 1.0))
        self._postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(corpus):
            for term, tf in Counter(doc).items():
                self._postings.setdefault(term, []).append((i, tf))
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._nothing = np.zeros(self._n, dtype=np.float32)

    def __contains__(self, term: object) -> bool:
        return term in self._postings

    def scores(self, term: str) -> np.ndarray:
        cached = self._cache.get(term)
        if cached is not None:
            return cached
        postings = self._postings.get(term)
        if postings is None:
            return self._nothing
        df = len(postings)
        idf = math.log(1 + (self._n - df + 0.5) / (df + 0.5))
        out = np.zeros(self._n, dtype=np.float32)
        for i, tf in postings:
            out[i] = idf * tf / (tf + self._norm[i])
        with self._lock:
            self._cache[term] = out
        return out
