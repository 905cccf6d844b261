"""The fitting of the ranker, the sentence model and the decline model (plain numpy, small data)."""

from __future__ import annotations

import numpy as np

from knowledge.fitting import (
    FLOOR_MARGIN,
    Row,
    calibration,
    choose_threshold,
    cost,
    fit_logistic,
    fit_ranker,
    fit_sentences,
    keeping,
)
from knowledge.weights import shipped


def test_the_ranker_learns_which_signal_points_at_the_right_section() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 10, 2))
    right = np.zeros((200, 10))
    right[np.arange(200), features[:, :, 0].argmax(axis=1)] = 1  # signal 0 decides, signal 1 is noise
    w = fit_ranker(features, right)
    assert w[0] > 1.0 and abs(w[1]) < 0.3


def test_the_sentence_model_handles_sections_of_different_lengths() -> None:
    rows = [
        (np.array([[1.0], [0.0], [0.0]]), np.array([1.0, 0.0, 0.0])),
        (np.array([[0.0], [1.0]]), np.array([0.0, 1.0])),
    ]
    assert fit_sentences(rows)[0] > 0


def test_the_decline_model_is_a_probability_that_rises_with_the_evidence() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 1))
    y = (x[:, 0] + rng.normal(scale=0.5, size=400) > 0).astype(float)
    model = fit_logistic(x, y)
    low, high = model.predict(np.array([[-2.0], [2.0]]))
    assert 0.0 < low < 0.2 and 0.8 < high < 1.0


def test_the_threshold_weighs_a_wrong_answer_more_than_a_decline() -> None:
    rows = [Row("f", np.zeros(1), right, True) for right in (True, True, False, True)]
    probs = np.array([0.9, 0.8, 0.7, 0.6])
    # answering down to 0.6 gains one right answer for one wrong one: not worth it at cost 2
    assert 0.7 < choose_threshold(rows, probs) <= 0.8


def test_the_calibration_table_counts_and_shares_per_bin() -> None:
    table = calibration(np.array([0.95, 0.92, 0.1]), [True, False, False])
    top = next(b for b in table if b["bin"] == "0.9-1.0")
    assert top["n"] == 2 and top["right"] == 0.5


def test_the_threshold_never_exceeds_what_the_contracts_allow() -> None:
    # the cost alone would decline above 0.7; a contract (the shared dev set's floor) allows 0.6
    rows = [Row("f", np.zeros(1), ok, True) for ok in (True, True, False, False, True)]
    probs = np.array([0.95, 0.85, 0.75, 0.7, 0.65])
    assert choose_threshold(rows, probs, highest=0.6) <= 0.6
    assert choose_threshold(rows, probs, highest=1.0) > 0.6


def test_a_floor_bounds_the_threshold_at_the_last_confidence_it_needs() -> None:
    # 4 questions, floor 0.75: three right answers must stay given, the lowest at 0.6
    assert keeping(0.75, 4, 0, [0.9, 0.8, 0.6, 0.3], []) == round(0.6 - FLOOR_MARGIN, 2)


def test_a_floor_no_threshold_reaches_still_bounds_the_threshold() -> None:
    # two of four right at best: the floor (0.95) is out of reach, the best score is kept instead
    assert keeping(0.95, 4, 0, [0.9, 0.55], []) == round(0.55 - FLOOR_MARGIN, 2)


def test_the_shipped_threshold_keeps_the_shared_dev_set_at_its_floor() -> None:
    weights = shipped()
    assert weights.threshold <= weights.report["highest_threshold_keeping_floors"]


def test_the_threshold_sits_inside_a_flat_stretch_not_on_its_single_lowest_point() -> None:
    # below 0.5 only wrong answers, above 0.8 only right ones; from 0.5 to 0.8 every three
    # hundredths trade two right answers for one wrong one (a flat cost); one wrong answer more at
    # 0.7925 makes 0.80 the single lowest point, which a new fit's few questions would move
    probs, right = [], []
    probs += [round(0.305 + 0.01 * k, 3) for k in range(20)]
    right += [False] * 20
    probs += [round(0.505 + 0.01 * k, 3) for k in range(30)]
    right += [k % 3 != 2 for k in range(30)]
    probs.append(0.7925)
    right.append(False)
    probs += [round(0.805 + 0.01 * k, 3) for k in range(15)]
    right += [True] * 15
    rows = [Row("f", np.zeros(1), ok, True) for ok in right]
    values = np.array(probs)
    grid = [round(0.05 + 0.01 * k, 2) for k in range(91)]
    assert min(grid, key=lambda t: cost(rows, values, t)) == 0.8
    assert 0.55 <= choose_threshold(rows, values) <= 0.75
