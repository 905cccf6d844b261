"""When to poll next: the pure rule, one row per verdict, and its properties under hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relays.cadence import Activity, Cadence, Window, choose, is_active, next_interval, server_wait
from relays.scheduler import next_wait

NOW = datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
CADENCE = Cadence()  # 30 s calm, 15 s active, 900 s at most


def window(start: timedelta | None, end: timedelta | None) -> Window:
    return Window(None if start is None else NOW + start, None if end is None else NOW + end)


@pytest.mark.parametrize(
    ("activity", "active"),
    [
        (Activity(), False),
        (Activity(open_alerts=1), True),
        (Activity(windows=(window(2 * HOUR, 10 * HOUR),)), False),  # starts in two hours
        (Activity(windows=(window(HOUR, 10 * HOUR),)), True),  # starts in an hour exactly
        (Activity(windows=(window(-HOUR, HOUR),)), True),  # under way
        (Activity(windows=(window(-2 * HOUR, timedelta(0)),)), False),  # just over
        (Activity(windows=(window(-2 * HOUR, -HOUR),)), False),  # over an hour ago
        (Activity(windows=(window(timedelta(minutes=30), None),)), True),  # no end: near its start
        (Activity(windows=(window(-timedelta(minutes=59), None),)), True),  # ... and an hour after
        (Activity(windows=(window(-2 * HOUR, None),)), False),
        (Activity(windows=(window(None, timedelta(minutes=30)),)), True),  # no start: the hour before its end
        (Activity(windows=(window(None, None),)), False),  # no window at all
        (Activity(windows=(window(5 * HOUR, 6 * HOUR), window(-HOUR, HOUR))), True),
    ],
)
def test_the_active_pace_is_for_open_alerts_and_interruptions_near(activity: Activity, active: bool) -> None:
    assert is_active(activity, NOW) is active


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, 0.0),
        ({"Cache-Control": "no-cache"}, 0.0),
        ({"Cache-Control": "max-age=0, must-revalidate"}, 0.0),
        ({"Cache-Control": "public, max-age=60"}, 60.0),
        ({"cache-control": 'max-age="60"'}, 60.0),
        ({"Cache-Control": "max-age=60", "Age": "45"}, 15.0),
        ({"Cache-Control": "max-age=60", "Age": "600"}, 0.0),  # a stale copy from a cache
        ({"Cache-Control": "s-maxage=600"}, 0.0),  # for shared caches, not for us
        ({"Cache-Control": "max-age=soon"}, 0.0),  # unreadable: asks nothing
        ({"Retry-After": "120"}, 120.0),
        ({"Retry-After": "-5"}, 0.0),
        ({"Retry-After": "Tue, 08 Dec 2026 07:02:00 GMT"}, 120.0),  # against our clock
        ({"Retry-After": "Tue, 08 Dec 2026 07:02:00 GMT", "Date": "Tue, 08 Dec 2026 07:01:30 GMT"}, 30.0),
        ({"Retry-After": "Tue, 08 Dec 2026 06:00:00 GMT"}, 0.0),  # in the past
        ({"Retry-After": "tomorrow"}, 0.0),
        ({"Retry-After": "120", "Cache-Control": "max-age=300"}, 300.0),  # the longer wish wins
    ],
)
def test_the_server_s_wish_is_read_from_its_headers(headers: dict[str, str], seconds: float) -> None:
    assert server_wait(headers, NOW) == seconds


@pytest.mark.parametrize(
    ("active", "failures", "server", "spread", "seconds"),
    [
        (False, 0, 0.0, 1.0, 30.0),
        (True, 0, 0.0, 1.0, 15.0),
        (False, 1, 0.0, 1.0, 30.0),  # one failure: the state's pace, jittered
        (False, 1, 0.0, 0.8, 24.0),
        (False, 2, 0.0, 1.0, 60.0),  # doubled
        (True, 3, 0.0, 1.0, 60.0),  # from the active pace
        (False, 10, 0.0, 1.0, 900.0),  # capped
        (False, 200, 0.0, 0.8, 720.0),  # no overflow
        (True, 0, 45.0, 1.0, 45.0),  # the server asks more than our pace
        (True, 0, 10.0, 1.0, 15.0),  # ... or less: our pace
        (False, 2, 120.0, 0.8, 120.0),  # Retry-After beats a shorter back-off
        (False, 0, 86_400.0, 1.0, 900.0),  # a day is held to MAX_BACKOFF
        (False, 0, float("inf"), 1.0, 900.0),
    ],
)
def test_next_interval(active: bool, failures: int, server: float, spread: float, seconds: float) -> None:
    got = next_interval(CADENCE, active=active, failures=failures, server=server, spread=spread)
    assert got == pytest.approx(seconds)


def test_an_active_pace_set_slower_than_calm_is_held_to_calm() -> None:
    assert next_interval(Cadence(calm=10, active=15), active=True) == 10


def test_choose_puts_state_headers_and_failures_together() -> None:
    alert = Activity(open_alerts=1)
    assert choose(CADENCE, Activity(), [{}], failures=0, now=NOW) == 30
    assert choose(CADENCE, alert, [{}, {}], failures=0, now=NOW) == 15
    assert choose(CADENCE, alert, [{}, {"Cache-Control": "max-age=20"}], failures=0, now=NOW) == 20
    assert choose(CADENCE, alert, [{"Retry-After": "100"}], failures=1, now=NOW) == 100
    assert choose(CADENCE, alert, [], failures=2, now=NOW) == 30


@pytest.mark.parametrize(
    ("due", "interval", "jitter", "draw", "wait"),
    [
        (15.0, 30.0, 5.0, 0.0, 15.0),  # the poller's moment
        (15.0, 30.0, 5.0, 1.0, 20.0),  # plus the jitter drawn
        (600.0, 30.0, 0.0, 0.5, 30.0),  # a long back-off: the heartbeat keeps leadership alive
        (0.0, 30.0, 5.0, 0.5, 32.5),  # nothing due (a standby): the heartbeat
    ],
)
def test_the_job_comes_back_when_due_or_at_the_heartbeat(
    due: float, interval: float, jitter: float, draw: float, wait: float
) -> None:
    assert next_wait(due, interval, jitter, draw) == wait


finite = st.floats(min_value=0, max_value=10**6, allow_nan=False)
cadences = st.builds(
    Cadence,
    calm=st.floats(min_value=0.1, max_value=3600),
    active=st.floats(min_value=0.1, max_value=3600),
    max_backoff=st.floats(min_value=1, max_value=86_400),
)


@given(cadences, st.booleans(), st.integers(min_value=0, max_value=10_000), finite, st.floats(0.8, 1.0))
def test_never_sooner_than_the_server_allows_nor_later_than_needed(
    cadence: Cadence, active: bool, failures: int, server: float, spread: float
) -> None:
    got = next_interval(cadence, active=active, failures=failures, server=server, spread=spread)
    assert got >= min(server, cadence.max_backoff)  # politeness, up to the ceiling
    assert got <= max(cadence.calm, cadence.max_backoff, min(server, cadence.max_backoff))
    if failures == 0 and server == 0:
        assert got == (min(cadence.active, cadence.calm) if active else cadence.calm)
    if active:  # something open never makes the relay slower
        assert got <= next_interval(cadence, active=False, failures=failures, server=server, spread=spread)


@given(cadences, st.booleans(), st.integers(min_value=0, max_value=60), finite)
def test_more_failures_never_poll_sooner(cadence: Cadence, active: bool, failures: int, server: float) -> None:
    now = next_interval(cadence, active=active, failures=failures, server=server)
    later = next_interval(cadence, active=active, failures=failures + 1, server=server)
    assert later >= now


@given(
    st.dictionaries(
        st.sampled_from(["Cache-Control", "Age", "Retry-After", "Date", "ETag"]),
        st.text(max_size=40),
        max_size=5,
    )
)
def test_any_headers_give_a_finite_wait_that_is_never_negative(headers: dict[str, str]) -> None:
    wait = server_wait(headers, NOW)
    assert 0 <= wait < float("inf")
