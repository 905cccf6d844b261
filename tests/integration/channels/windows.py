"""Checks on what a fake server recorded: counts per sliding window, from its own timestamps."""

from __future__ import annotations

from collections.abc import Iterable


def max_in_window(times: Iterable[float], per: float) -> int:
    """The largest number of timestamps in any half-open window ``(t - per, t]``."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - per:
            start += 1
        best = max(best, end - start + 1)
    return best
