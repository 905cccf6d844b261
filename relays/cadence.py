"""When to poll next: a pure rule from what is going on, what the server said and the failures so far.

Detection is as fast as politeness allows::

    state                                              wait before the next poll
    calm: nothing open, no interruption near            POLL_INTERVAL_CALM    (30 s)
    active: an alert open, or an announced             POLL_INTERVAL_ACTIVE  (15 s; never slower than calm)
      interruption from an hour before its start
      until its end
    after n failed polls in a row                      that interval × 2^(n-1), jittered (× 0.8–1.0),
                                                       at most MAX_BACKOFF (15 min)
    never sooner than the server allows                Cache-Control: max-age (less the answer's Age)
                                                       and Retry-After (seconds, or a date read against
                                                       the answer's Date), on any answer, 304s and
                                                       errors included — a wish longer than
                                                       MAX_BACKOFF is held to MAX_BACKOFF, so a
                                                       misconfigured cache header cannot silence the
                                                       relay for a day

The scheduler (``relays.scheduler``) adds up to ``POLL_JITTER`` seconds on top, as before, so a
fleet of relays does not hit the portal at the same second. Nothing here reads a clock or draws a
random number: the caller passes ``now`` and the jitter factor ``spread``, so every verdict is a
row in a table of cases (``tests/unit/relays/test_cadence.py``).
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Activity", "Cadence", "Window", "choose", "is_active", "next_interval", "server_wait"]


@dataclass(frozen=True, slots=True)
class Cadence:
    """The intervals in seconds (``lead``: how long before an announced window polling speeds up)."""

    calm: float = 30.0
    active: float = 15.0
    max_backoff: float = 900.0
    lead: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Window:
    """An announced planned interruption's window (either end may be unknown)."""

    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class Activity:
    """What the store says is going on: how many alerts are open, which interruptions are announced."""

    open_alerts: int = 0
    windows: tuple[Window, ...] = ()


def _near(window: Window, now: datetime, lead: timedelta) -> bool:
    """From ``lead`` before the window's start until its end. A window with no end counts ``lead``
    past its start; one with no start, from ``lead`` before its end."""
    start, end = window.starts_at, window.ends_at
    if start is None and end is None:
        return False
    if start is None:
        assert end is not None
        start = end
    if end is None:
        end = start + lead
    return start - lead <= now < end


def is_active(activity: Activity, now: datetime, lead: timedelta = timedelta(hours=1)) -> bool:
    """Whether the relay should poll at the active pace: an alert is open, or an interruption is near."""
    return activity.open_alerts > 0 or any(_near(w, now, lead) for w in activity.windows)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _seconds(value: str) -> float | None:
    """A delta-seconds value (``"120"``, ``"\\"120\\""``); None when it is not one."""
    text = value.strip().strip('"')
    if not (text.isascii() and text.isdigit()):  # "¹" and "٣" are digits to str.isdigit, not to float
        return None
    return float(text)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _max_age(cache_control: str) -> float | None:
    for directive in cache_control.split(","):
        name, _, value = directive.partition("=")
        if name.strip().lower() == "max-age":
            return _seconds(value)
    return None


def server_wait(headers: Mapping[str, str], now: datetime) -> float:
    """Seconds the server asks us to wait before asking again (0 when it asks nothing).

    ``Cache-Control: max-age`` less ``Age`` (the copy is fresh that long: asking sooner gets the
    same answer); ``Retry-After`` as seconds or as an HTTP date, read against the answer's ``Date``
    when it has one (the server's clock, not ours), else against ``now``. A value that cannot be
    read asks nothing.
    """
    lowered = _lower(headers)
    waits = [0.0]
    max_age = _max_age(lowered.get("cache-control", ""))
    if max_age is not None:
        age = _seconds(lowered.get("age", "0")) or 0.0
        waits.append(max_age - age)
    retry_after = lowered.get("retry-after")
    if retry_after is not None:
        seconds = _seconds(retry_after)
        if seconds is None and (when := _date(retry_after)) is not None:
            seconds = (when - (_date(lowered.get("date")) or now)).total_seconds()
        if seconds is not None:
            waits.append(seconds)
    return max(0.0, *waits)


def next_interval(
    cadence: Cadence, *, active: bool, failures: int = 0, server: float = 0.0, spread: float = 1.0
) -> float:
    """Seconds before the next poll: the state's interval, backed off after ``failures`` bad polls
    in a row (``spread``, in [0.8, 1], is the jitter factor the caller drew), never sooner than
    ``server`` (what the server asked, held to ``max_backoff``)."""
    base = min(cadence.active, cadence.calm) if active else cadence.calm
    if failures > 0:
        ceiling = max(cadence.max_backoff, base)  # a back-off never polls faster than the state's pace
        base = min(ceiling, base * float(2 ** min(failures - 1, 30))) * spread
    wish = server if math.isfinite(server) else cadence.max_backoff
    return max(base, min(wish, cadence.max_backoff))


def choose(
    cadence: Cadence,
    activity: Activity,
    answers: Iterable[Mapping[str, str]],
    *,
    failures: int,
    now: datetime,
    spread: float = 1.0,
) -> float:
    """The whole rule: (state, the last poll's answers' headers, failures in a row) → seconds."""
    server = max((server_wait(headers, now) for headers in answers), default=0.0)
    return next_interval(
        cadence,
        active=is_active(activity, now, cadence.lead),
        failures=failures,
        server=server,
        spread=spread,
    )
