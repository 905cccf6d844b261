"""The decline model's evidence: the step a section belongs to counts as a whole."""

from __future__ import annotations

import numpy as np

from knowledge.answers import prepare
from knowledge.decline import FEATURES, features
from knowledge.ranking import rank
from knowledge.search import KnowledgeBase
from knowledge.weights import shipped


def test_a_step_split_into_sections_lends_its_probability_to_the_chosen_one() -> None:
    kb = KnowledgeBase.load()
    p = prepare("Dans quel délai réintégrer les déclarations déposées en procédure de secours ?")
    assert p.found is not None
    ranking = rank(p.found.features, shipped().ranker)
    chosen = int(ranking.order[0])
    evidence = dict(
        zip(FEATURES, features(kb, p.asked.query, p.found, ranking, chosen, p.intent), strict=True)
    )
    same = kb.part == kb.part[chosen]
    assert same.sum() > 1  # fiche 4's Étape 4 holds seven sections
    assert evidence["part_probability"] == float(ranking.probabilities[same].sum())
    assert evidence["part_probability"] > evidence["top_probability"]
    # the margin over the best section of another step is at least the margin over the next one
    assert evidence["part_margin"] >= evidence["margin"]
    assert np.isfinite(evidence["part_margin"])
