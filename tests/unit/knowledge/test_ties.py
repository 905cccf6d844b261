"""A near tie between two sections of one document goes to the one that says yes or no."""

from __future__ import annotations

import numpy as np

from knowledge.answers import TIE, VERDICT_SIGNAL, _breaking_a_tie
from knowledge.ranking import FEATURES, Ranking, Signals, rank
from knowledge.search import KnowledgeBase
from tests.support.sections import section_index


def _found(says: dict[int, float]) -> Signals:
    kb = KnowledgeBase.load()
    n = len(kb.entries)
    features = np.zeros((n, len(FEATURES)))
    for i, v in says.items():
        features[i, VERDICT_SIGNAL] = v
    zeros = np.zeros(n)
    return Signals(zeros, zeros, zeros, zeros, zeros, features, zeros, zeros, -1.0)


def _ranking(scores: dict[int, float]) -> Ranking:
    n = len(KnowledgeBase.load().entries)
    column = np.full(n, -20.0)
    for i, v in scores.items():
        column[i] = v
    return rank(column[:, None], [1.0])


def test_a_near_tie_goes_to_the_section_that_says_yes_or_no() -> None:
    step, reminder = section_index("fiche-1", "etape-4"), section_index("fiche-1", "rappels")
    ranking = _ranking({step: 1.0, reminder: 1.0 + float(np.log(TIE)) + 0.05})
    assert _breaking_a_tie(KnowledgeBase.load(), _found({reminder: 0.6}), ranking, step) == reminder


def test_a_clear_lead_is_kept() -> None:
    step, reminder = section_index("fiche-1", "etape-4"), section_index("fiche-1", "rappels")
    ranking = _ranking({step: 1.0, reminder: 1.0 + float(np.log(TIE)) - 0.05})
    assert _breaking_a_tie(KnowledgeBase.load(), _found({reminder: 0.6}), ranking, step) == step


def test_a_near_tie_in_another_document_is_kept() -> None:
    step, oea = section_index("fiche-1", "etape-4"), section_index("fiche-4", "etape-3-oea")
    ranking = _ranking({step: 1.0, oea: 1.0})
    assert _breaking_a_tie(KnowledgeBase.load(), _found({oea: 0.6}), ranking, step) == step


def test_a_chosen_section_that_says_yes_or_no_is_kept() -> None:
    step, reminder = section_index("fiche-1", "etape-4"), section_index("fiche-1", "rappels")
    ranking = _ranking({step: 1.0, reminder: 1.0})
    assert _breaking_a_tie(KnowledgeBase.load(), _found({step: 0.3, reminder: 0.6}), ranking, step) == step
