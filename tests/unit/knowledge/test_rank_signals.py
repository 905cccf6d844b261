"""The rank signals read a difference the shipped vectors' rounding can make as no difference."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from knowledge.answers import prepare
from knowledge.ranking import DENSE_TIE, FEATURES, reciprocal_rank
from tests.support.sections import section_index


def test_the_highest_value_ranks_first_and_equal_values_share_a_rank() -> None:
    assert reciprocal_rank(np.array([0.5, 0.9, 0.9, 0.1])).tolist() == [1 / 3, 1.0, 1.0, 1 / 4]


def test_values_within_the_tie_share_the_higher_ones_rank() -> None:
    close = np.array([0.9, 0.9 - DENSE_TIE / 2, 0.9 - 3 * DENSE_TIE])
    assert reciprocal_rank(close, DENSE_TIE).tolist() == [1.0, 1.0, 1 / 3]
    assert reciprocal_rank(close).tolist() == [1.0, 1 / 2, 1 / 3]


@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=60))
def test_a_higher_value_never_ranks_below_a_lower_one(values: list[float]) -> None:
    x = np.array(values)
    ranks = reciprocal_rank(x, DENSE_TIE)
    for i in range(len(x)):
        for j in range(len(x)):
            if x[i] > x[j]:
                assert ranks[i] >= ranks[j]
    assert ranks.max() == 1.0


def test_sections_whose_probes_are_as_close_share_the_probe_rank() -> None:
    # fiche 1's reminders (which answer it) and its step 5 (which does not) are within a
    # ten-thousandth of each other by their probes: neither is second by rounding
    found = prepare("Le bureau doit-il autoriser l'auto-déclenchement de la procédure de secours ?").found
    assert found is not None
    column = FEATURES.index("dense_probe_rank")
    reminders = found.features[section_index("fiche-1", "rappels"), column]
    step_5 = found.features[section_index("fiche-1", "etape-5"), column]
    assert reminders == step_5 == 1.0
