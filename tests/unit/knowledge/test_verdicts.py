"""A section holding a sentence that says yes or no to a yes/no question is a ranking signal."""

from __future__ import annotations

import numpy as np

from knowledge.answers import prepare
from knowledge.ranking import FEATURES
from knowledge.search import KnowledgeBase

SIGNAL = FEATURES.index("says_yes_or_no")


def _signal(question: str) -> dict[str, float]:
    found = prepare(question).found
    assert found is not None
    kb = KnowledgeBase.load()
    return {f"{d.id}#{s.id}": float(v) for (d, s), v in zip(kb.entries, found.features[:, SIGNAL], strict=True)}


def test_the_reminder_that_denies_the_bureau_a_say_answers_a_must_question() -> None:
    signal = _signal("Le bureau doit-il m'autoriser à passer en procédure de secours ?")
    assert signal["fiche-1#rappels"] > 0.3  # "ne peut en aucun cas être conditionnée à l'autorisation…"
    assert signal["fiche-1#etape-5"] == 0  # informs the bureau, says neither yes nor no to "must it authorise"


def test_a_question_that_asks_for_no_yes_or_no_gets_no_such_signal() -> None:
    signal = _signal("Quand puis-je auto-déclencher la procédure de secours ?")
    assert not np.any(list(signal.values()))
