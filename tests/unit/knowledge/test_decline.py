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


def _evidence(question: str) -> tuple[dict[str, float], int]:
    kb = KnowledgeBase.load()
    p = prepare(question)
    assert p.found is not None
    ranking = rank(p.found.features, shipped().ranker)
    chosen = int(ranking.order[0])
    values = features(kb, p.asked.query, p.found, ranking, chosen, p.intent)
    return dict(zip(FEATURES, values, strict=True)), chosen


def test_sections_giving_the_same_contact_lend_their_probability() -> None:
    # the SAU's number is in three steps of fiche 1: whichever is chosen, the others agree with it
    evidence, chosen = _evidence("Quel est le numéro de téléphone du SAU ?")
    kb = KnowledgeBase.load()
    assert "0970280100" in kb.contacts[chosen]
    assert evidence["value_agreement"] > 0


def test_a_question_asking_for_no_contact_has_no_agreement() -> None:
    evidence, _ = _evidence("Dans quel délai réintégrer les déclarations déposées en procédure de secours ?")
    assert evidence["value_agreement"] == 0
