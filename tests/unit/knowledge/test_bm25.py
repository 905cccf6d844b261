"""BM25 (Lucene variant): rarer terms weigh more, repeated terms saturate, long documents are damped."""

from __future__ import annotations

import math

import numpy as np

from knowledge.bm25 import BM25


def test_a_term_scores_where_it_occurs_and_nowhere_else() -> None:
    index = BM25([["a", "b"], ["b", "c"], ["c", "c", "d"]])
    assert "a" in index and "z" not in index
    assert index.scores("a")[0] > 0 and index.scores("a")[1:].tolist() == [0.0, 0.0]
    assert not index.scores("z").any()


def test_rarer_terms_weigh_more_and_repeats_saturate() -> None:
    index = BM25([["a", "b"], ["b", "c"], ["c", "c", "d"], ["e", "f"]])
    assert index.scores("a")[0] > index.scores("b")[0]  # "a" is in one document, "b" in two
    once, twice = index.scores("c")[1], index.scores("c")[2]
    assert once < twice < 2 * once


def test_the_lucene_formula() -> None:
    corpus = [["x", "y", "y"], ["y"]]
    index = BM25(corpus, k1=1.2, b=0.75)
    idf = math.log(1 + (2 - 2 + 0.5) / (2 + 0.5))
    expected = idf * 2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / 2))
    assert np.isclose(index.scores("y")[0], expected)
