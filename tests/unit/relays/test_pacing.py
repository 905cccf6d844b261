"""The pacer: exact sliding windows, fairness across keys, cancellation, server push-back.

Pure window arithmetic is checked with explicit times. Behaviour on a real event loop is checked
with invariants that hold however slow the machine is: a send "occupies" the window from when it
was granted until ``per`` after it finished, so the intervals ``[entered, left + per)`` we record
inside ``slot()`` (sub-intervals of those) may never overlap more than ``rate`` deep.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from relays.pacing import Pacer, SlidingWindow, _Stamp


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted(itertools.chain(((a, 1) for a, _ in intervals), ((b, -1) for _, b in intervals)))
    depth = best = 0
    for _, step in events:  # ends sort before starts at the same instant: half-open intervals
        depth += step
        best = max(best, depth)
    return best


async def run_slots(pacer: Pacer, jobs: list[tuple[str, bool]], per: float) -> list[tuple[str, float, float]]:
    """Run one ``slot`` per job concurrently; returns (key, entered, left + per) in entry order."""
    loop = asyncio.get_running_loop()
    seen: list[tuple[str, float, float]] = []

    async def one(key: str, group: bool) -> None:
        async with pacer.slot(key, group):
            entered = loop.time()
            await asyncio.sleep(0)  # a request that takes a little while
            seen.append((key, entered, loop.time() + per))

    await asyncio.wait_for(asyncio.gather(*(one(k, g) for k, g in jobs)), timeout=10)
    return sorted(seen, key=lambda s: s[1])


# -- the window itself, with explicit times ----------------------------------------------------


def test_window_admits_rate_stamps_then_frees_exactly_per_after_the_oldest() -> None:
    window = SlidingWindow(rate=2, per=1.0)
    assert window.ready_at(0.0) == 0.0
    window.add(_Stamp(0.0))
    window.add(_Stamp(0.5))
    assert window.ready_at(0.6) == 1.0
    window.add(_Stamp(1.0))
    assert window.ready_at(1.0) == 1.5


def test_margin_is_added_to_every_wait() -> None:
    window = SlidingWindow(rate=1, per=1.0, margin=0.001)
    window.add(_Stamp(10.0))
    assert window.ready_at(10.2) == pytest.approx(11.001)
    assert window.ready_at(11.001) == pytest.approx(11.001)


def test_a_pending_stamp_blocks_until_it_is_finished() -> None:
    window = SlidingWindow(rate=1, per=1.0)
    stamp = _Stamp(0.0, pending=True)
    window.add(stamp)
    assert window.ready_at(50.0) is None  # the request has not finished: no telling yet
    stamp.at, stamp.pending = 60.0, False
    assert window.ready_at(60.5) == 61.0


def test_old_stamps_are_forgotten() -> None:
    window = SlidingWindow(rate=1, per=1.0)
    window.add(_Stamp(0.0))
    assert not window.idle(0.5)
    assert window.idle(1.0)


def test_nonsense_windows_are_refused() -> None:
    with pytest.raises(ValueError):
        SlidingWindow(rate=0, per=1.0)


# -- the pacer on a real loop -----------------------------------------------------------------


async def test_a_burst_never_exceeds_the_global_window() -> None:
    pacer = Pacer(global_rate=5, global_per=0.05, per_key_rate=None, group_rate=None)
    seen = await run_slots(pacer, [(f"chat{i}", False) for i in range(40)], per=0.05)

    assert len(seen) == 40
    assert max_overlap([(a, b) for _, a, b in seen]) <= 5


async def test_one_key_is_spaced_and_keeps_its_order() -> None:
    pacer = Pacer(global_rate=None, per_key_rate=1, per_key_per=0.03, group_rate=None)
    loop = asyncio.get_running_loop()
    order: list[int] = []

    async def one(i: int) -> tuple[float, float]:
        async with pacer.slot("chat"):
            entered = loop.time()
            order.append(i)
            await asyncio.sleep(0)
            return entered, loop.time() + 0.03

    intervals = await asyncio.gather(*(one(i) for i in range(6)))
    assert order == list(range(6))
    assert max_overlap(list(intervals)) <= 1


async def test_group_window_applies_to_group_keys_only() -> None:
    pacer = Pacer(global_rate=None, per_key_rate=None, group_rate=2, group_per=0.1)
    seen = await run_slots(pacer, [("-1", True)] * 6 + [("7", False)] * 6, per=0.1)

    group = [(a, b) for key, a, b in seen if key == "-1"]
    assert max_overlap(group) <= 2
    private = [a for key, a, _ in seen if key == "7"]
    assert max(private) < max(a for a, _ in group)  # not held back by the group window


async def test_a_busy_key_does_not_hold_up_other_keys() -> None:
    pacer = Pacer(global_rate=30, per_key_rate=1, per_key_per=0.2, group_rate=None)
    seen = await run_slots(pacer, [("busy", False)] * 3 + [("other", False)], per=0.0)

    keys_in_entry_order = [key for key, _, _ in seen]
    assert keys_in_entry_order.index("other") < keys_in_entry_order.index("busy", 1)


async def test_ready_waiters_are_served_in_arrival_order() -> None:
    pacer = Pacer(global_rate=1, global_per=0.02, per_key_rate=None, group_rate=None)
    seen = await run_slots(pacer, [(k, False) for k in "abcde"], per=0.0)
    assert [key for key, _, _ in seen] == list("abcde")


async def test_a_cancelled_waiter_leaves_no_trace() -> None:
    pacer = Pacer(global_rate=1, global_per=30.0, per_key_rate=None, group_rate=None)
    await pacer.acquire("a")
    waiting = asyncio.ensure_future(pacer.acquire("b"))
    await asyncio.sleep(0)
    assert pacer.waiting == 1

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pacer.waiting == 0


async def test_a_slot_granted_to_a_task_cancelled_before_it_ran_is_given_back() -> None:
    per = 0.1
    pacer = Pacer(global_rate=1, global_per=per, per_key_rate=None, group_rate=None, margin=0.0)
    await pacer.acquire("a")
    granted_then_cancelled = asyncio.ensure_future(pacer.acquire("b"))
    await asyncio.sleep(0)
    while pacer.waiting:  # step the loop one turn at a time until the timer grants "b"
        await asyncio.sleep(0)
    # "b" was granted on the previous turn; its task resumes on this one, after us.
    assert not granted_then_cancelled.done()
    granted_then_cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await granted_then_cancelled

    # Its slot was handed back: the next caller does not wait another `per`.
    start = asyncio.get_running_loop().time()
    nxt = asyncio.ensure_future(pacer.acquire("c"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert nxt.done() or asyncio.get_running_loop().time() - start > per
    await nxt


async def test_penalise_holds_one_key_back_for_the_servers_retry_after() -> None:
    pacer = Pacer(global_rate=30, per_key_rate=None, group_rate=None)
    loop = asyncio.get_running_loop()
    before = loop.time()
    pacer.penalise("slow", 0.1)

    other = asyncio.ensure_future(pacer.acquire("fast"))
    await asyncio.sleep(0)
    assert other.done()
    await pacer.acquire("slow")
    assert loop.time() >= before + 0.1


async def test_a_global_penalty_holds_everyone_back() -> None:
    pacer = Pacer()
    loop = asyncio.get_running_loop()
    before = loop.time()
    pacer.penalise(None, 0.05)
    await pacer.acquire("x")
    assert loop.time() >= before + 0.05


async def test_waiting_does_not_spin() -> None:
    calls = 0

    class Counting(Pacer):
        def _dispatch(self) -> None:
            nonlocal calls
            calls += 1
            super()._dispatch()

    pacer = Counting(global_rate=None, per_key_rate=1, per_key_per=0.05, group_rate=None)
    await run_slots(pacer, [("k", False)] * 4, per=0.0)
    assert calls <= 4 * 4  # a few per grant (arrival, timer, completion), never a poll loop


async def test_urgent_waiters_go_before_those_already_waiting() -> None:
    pacer = Pacer(global_rate=1, global_per=0.02, per_key_rate=None, group_rate=None)
    await pacer.acquire("first")  # the window is full: everyone below waits
    order: list[str] = []

    async def one(key: str, urgent: bool) -> None:
        await pacer.acquire(key, urgent=urgent)
        order.append(key)

    tasks = [asyncio.ensure_future(one(key, False)) for key in ("alert-1", "alert-2")]
    await asyncio.sleep(0)
    tasks += [asyncio.ensure_future(one(key, True)) for key in ("reply-1", "reply-2")]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    assert order == ["reply-1", "reply-2", "alert-1", "alert-2"]
