"""The shipped questions' vectors in 8 bits: the cosines the engine reads move by less than it can tell."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.quantized import BLOCK, Quantized


def _unit(rows: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((rows, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@given(st.integers(min_value=0, max_value=3 * BLOCK + 7), st.integers(min_value=0, max_value=2**16))
def test_cosines_from_eight_bits_are_within_a_quarter_of_a_hundredth(rows: int, seed: int) -> None:
    vectors = _unit(rows, seed)
    query = _unit(1, seed + 1)[0]
    got = Quantized.of(vectors) @ query
    assert got.shape == (rows,) and got.dtype == np.float32
    assert np.abs(got - vectors @ query).max(initial=0.0) < 0.0025


def test_rows_are_restored_close_to_the_originals() -> None:
    vectors = _unit(20, 3)
    q = Quantized.of(vectors)
    assert q.shape == (20, 384) and len(q) == 20 and q.codes.dtype == np.int8
    assert np.abs(q.rows() - vectors).max() < 0.002
    assert np.array_equal(q.row(7), q.rows()[7])


def test_a_zero_row_stays_zero_and_a_flat_array_is_refused() -> None:
    q = Quantized.of(np.zeros((2, 4), dtype=np.float32))
    assert (q @ np.ones(4, dtype=np.float32)).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        Quantized.of(np.zeros(4, dtype=np.float32))
