"""The rank signals are continuous in the cosines: a difference of a few thousandths, which the
shipped vectors' rounding or a close probe can make, moves a section by a share of a step, not a
whole one."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from knowledge.answers import answer, prepare
from knowledge.ranking import DENSE_STEP, FEATURES, reciprocal_rank
from tests.support.sections import section_index


def test_the_highest_value_ranks_first_and_equal_values_share_a_rank() -> None:
    assert reciprocal_rank(np.array([0.5, 0.9, 0.9, 0.1])).tolist() == [1 / 3, 1.0, 1.0, 1 / 4]


def test_a_value_just_below_another_loses_that_share_of_a_step() -> None:
    close = np.array([0.9, 0.9 - DENSE_STEP / 4, 0.9 - 3 * DENSE_STEP])
    ranks = reciprocal_rank(close, DENSE_STEP)
    assert ranks[0] == 1.0
    assert np.isclose(ranks[1], 1 / 1.25)
    assert np.isclose(ranks[2], 1 / 3)  # two whole steps below both
    assert reciprocal_rank(close).tolist() == [1.0, 1 / 2, 1 / 3]


def test_with_a_step_the_rank_tends_to_the_strict_one_as_the_step_shrinks() -> None:
    values = np.array([0.93, 0.91, 0.95, 0.90])
    assert np.allclose(reciprocal_rank(values, 1e-9), reciprocal_rank(values))


@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=60),
    st.sampled_from([0.0, 0.002, DENSE_STEP, 0.1]),
)
def test_a_higher_value_never_ranks_below_a_lower_one(values: list[float], step: float) -> None:
    x = np.array(values)
    ranks = reciprocal_rank(x, step)
    for i in range(len(x)):
        for j in range(len(x)):
            if x[i] > x[j]:
                assert ranks[i] >= ranks[j]
    assert ranks.max() == 1.0
    assert (ranks > 0).all()


@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=2, max_size=40), st.floats(-0.0014, 0.0014))
def test_the_vectors_rounding_moves_a_rank_by_a_small_share_of_a_step(
    values: list[float], shift: float
) -> None:
    x = np.array(values)
    moved = x.copy()
    moved[0] += shift
    before, after = 1 / reciprocal_rank(x, DENSE_STEP), 1 / reciprocal_rank(moved, DENSE_STEP)
    # each other section's step above or below the first moves by at most |shift| / DENSE_STEP
    assert abs(after[0] - before[0]) <= (len(x) - 1) * abs(shift) / DENSE_STEP + 1e-9


def test_a_section_whose_probes_are_a_few_thousandths_behind_stays_within_a_step() -> None:
    # fiche 1's reminders (which answer it) and its step 5 (which does not) are within a few
    # thousandths of cosine of each other by their probes: whichever is ahead (the shipped probes
    # decide), the other is not put a whole step below, and the reminders answer
    question = "Le bureau doit-il autoriser l'auto-déclenchement de la procédure de secours ?"
    found = prepare(question).found
    assert found is not None
    column = FEATURES.index("dense_probe_rank")
    reminders = found.features[section_index("fiche-1", "rappels"), column]
    step_5 = found.features[section_index("fiche-1", "etape-5"), column]
    assert max(reminders, step_5) == 1.0
    assert 0.5 < min(reminders, step_5) < 1.0
    assert answer(question).sources[0].section == "rappels"
