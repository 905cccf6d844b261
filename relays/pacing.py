"""Client-side pacing that keeps every send inside the platforms' sliding-window rate limits.

Telegram allows 30 messages per second overall, 1 per second per chat and 20 per minute per
group; Slack allows 1 message per second per channel. A 429 is not harmless for us: the platform
may extend the ban, and the retry delays a compliance alert. So we pace *before* sending, with
exact sliding-window logs (never more than ``rate`` sends in any ``per``-second window), not
token buckets, which let a burst through right after a quiet spell.

python-telegram-bot ships ``AIORateLimiter`` (aiolimiter, a leaky bucket): against a server that
enforces a strict sliding window it still lets bursts through, reaching only about 0.8 of the
bound while collecting 429s. That is why we keep our own.

Two ways to take a slot:

* ``await pacer.acquire(key, group)`` stamps the slot at the moment it is granted;
* ``async with pacer.slot(key, group): await send()`` stamps it again when the request has
  finished. The server saw the request somewhere between the grant and the answer, so spacing
  the next send from the *answer* keeps the server's window satisfied whatever the network
  jitter or the HTTP connection pool did to the request in between. Channels use this one.

Re-stamping at the answer costs a request's whole round trip per window: at 30 msg/s with
30 ms round trips the overall window only reaches 0.97 of the bound, with 150 ms (Telegram from
Europe) 0.87. With ``global_at_grant`` the overall window (the one that sets the throughput) is
paced by the moment each send is *granted*, plus only that request's delay beyond the fastest
recent round trip (``answer - fastest``, never before the grant): a request that reached the
server late because our loop or the network held it back still counts from when it may have
arrived, while the ordinary, unavoidable round trip costs nothing (once 16 round trips have
been seen: before that, opening connections, it is the answer-time stamp). ``global_margin`` (a
few ms) covers the rest. The per-chat and per-group windows, which never limit a fan-out, keep the
answer-time stamp.

Waiters are served first come, first served among those that may send now, so one busy chat
(1 message/s) never holds up a fan-out to other chats, and messages to one key keep their order.
An ``urgent`` waiter (a reply to a person) goes before every waiter that is not: a bot's replies
and its alerts share one pacer per token, so they never collide, and the person comes first.
Nothing polls: one timer is armed for the earliest moment a slot frees. A cancelled waiter leaves
no trace, and a slot granted to a task cancelled before it could use it is given back.
``margin`` (1 ms) is added to every window so that our clock and the server's never disagree at
the edge. A pacer belongs to one event loop.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

__all__ = ["Pacer", "SlidingWindow"]

_PRUNE_EVERY = 256
_TRUSTED_AFTER = 16  # round trips seen before the fastest of them is trusted


@dataclass(slots=True, eq=False)
class _Stamp:
    at: float
    pending: bool = False
    grant: bool = False  # re-stamped at its grant plus its excess delay, not at its answer


class SlidingWindow:
    """At most ``rate`` stamps in any ``per``-second window; times are the caller's clock."""

    __slots__ = ("_stamps", "margin", "per", "rate")

    def __init__(self, rate: int, per: float, margin: float = 0.0) -> None:
        if rate < 1 or per <= 0:
            raise ValueError("rate must be >= 1 and per > 0")
        self.rate = rate
        self.per = per
        self.margin = margin
        self._stamps: list[_Stamp] = []

    def ready_at(self, now: float) -> float | None:
        """The earliest time one more stamp fits (``<= now`` if it fits now); ``None`` while
        that depends on a stamp still pending (its request has not finished)."""
        horizon = now - self.per - self.margin
        self._stamps = [s for s in self._stamps if s.pending or s.at > horizon]
        if len(self._stamps) < self.rate:
            return now
        times = sorted((math.inf if s.pending else s.at for s in self._stamps), reverse=True)
        oldest_that_counts = times[self.rate - 1]
        if math.isinf(oldest_that_counts):
            return None
        return oldest_that_counts + self.per + self.margin

    def add(self, stamp: _Stamp) -> None:
        self._stamps.append(stamp)

    def discard(self, stamp: _Stamp) -> None:
        if stamp in self._stamps:
            self._stamps.remove(stamp)

    def idle(self, now: float) -> bool:
        """True when the window holds nothing that still counts (safe to forget)."""
        return self.ready_at(now) == now and not self._stamps


@dataclass(slots=True, eq=False)
class _Waiter:
    key: str
    group: bool
    future: asyncio.Future[None]
    pending: bool
    urgent: bool = False
    stamps: list[tuple[SlidingWindow, _Stamp]] = field(default_factory=list)


class Pacer:
    """Grants send slots that respect all configured sliding windows; ``None`` disables one."""

    def __init__(
        self,
        global_rate: int | None = 30,
        global_per: float = 1.0,
        per_key_rate: int | None = 1,
        per_key_per: float = 1.0,
        group_rate: int | None = 20,
        group_per: float = 60.0,
        *,
        margin: float = 0.001,
        spread: bool = False,
        global_at_grant: bool = False,
        global_margin: float | None = None,
    ) -> None:
        self._global = (
            SlidingWindow(global_rate, global_per, margin if global_margin is None else global_margin)
            if global_rate
            else None
        )
        self._global_at_grant = global_at_grant
        self._round_trips: deque[float] = deque(maxlen=64)
        # With ``spread``, global grants are also at least per/rate apart: the same throughput, but
        # no burst of ``rate`` requests on the wire at once — so a process killed mid-fan-out has
        # about one message in flight (that a restart may send twice), not a whole window's worth.
        # The spacing follows an ideal schedule (one grant every per/rate seconds): a grant that came
        # late (a timer fires a little after its moment) does not push every later one back too,
        # which at 30/s would lose ~1 ms per grant, 3 % of the bound. The window above still holds.
        self._interval = global_per / global_rate if spread and global_rate else None
        self._next_spaced = -math.inf
        self._per_key = (per_key_rate, per_key_per) if per_key_rate else None
        self._group = (group_rate, group_per) if group_rate else None
        self._margin = margin
        self._keys: dict[str, SlidingWindow] = {}
        self._groups: dict[str, SlidingWindow] = {}
        self._penalties: dict[str, float] = {}
        self._global_penalty = -math.inf
        self._waiters: list[_Waiter] = []
        self._timer: asyncio.TimerHandle | None = None
        self._grants = 0

    @property
    def waiting(self) -> int:
        """How many callers are waiting for a slot."""
        return len(self._waiters)

    async def acquire(self, key: str, group: bool = False, *, urgent: bool = False) -> None:
        """Wait until one more send to ``key`` fits every window; the slot is stamped now."""
        await self._wait(key, group, pending=False, urgent=urgent)

    @asynccontextmanager
    async def slot(self, key: str, group: bool = False, *, urgent: bool = False) -> AsyncIterator[None]:
        """Like :meth:`acquire`, and the slot is re-stamped when the block exits (except in the
        overall window with ``global_at_grant``)."""
        waiter = await self._wait(key, group, pending=True, urgent=urgent)
        granted = asyncio.get_running_loop().time()
        try:
            yield
        finally:
            now = asyncio.get_running_loop().time()
            self._round_trips.append(now - granted)
            # Until enough answers came back (new connections being opened) nothing is discounted.
            fastest = min(self._round_trips) if len(self._round_trips) >= _TRUSTED_AFTER else 0.0
            for _, stamp in waiter.stamps:
                if stamp.pending:
                    stamp.at = max(stamp.at, now - fastest if stamp.grant else now)
                    stamp.pending = False
            self._dispatch()

    def penalise(self, key: str | None, seconds: float) -> None:
        """Grant nothing for ``key`` (or, with ``None``, for anyone) during ``seconds``.

        For a server's ``retry_after``. Must be called from the pacer's event loop.
        """
        until = asyncio.get_running_loop().time() + seconds
        if key is None:
            self._global_penalty = max(self._global_penalty, until)
        else:
            self._penalties[key] = max(self._penalties.get(key, -math.inf), until)
        self._dispatch()

    # -- internals -----------------------------------------------------------------------------

    async def _wait(self, key: str, group: bool, *, pending: bool, urgent: bool = False) -> _Waiter:
        loop = asyncio.get_running_loop()
        waiter = _Waiter(key, group, loop.create_future(), pending, urgent)
        if urgent:  # after the urgent ones already waiting, before everyone else
            at = next((i for i, w in enumerate(self._waiters) if not w.urgent), len(self._waiters))
            self._waiters.insert(at, waiter)
        else:
            self._waiters.append(waiter)
        self._dispatch()
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                for window, stamp in waiter.stamps:  # granted but never used: give it back
                    window.discard(stamp)
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            self._dispatch()
            raise
        return waiter

    def _windows(self, key: str, group: bool) -> list[SlidingWindow]:
        windows = [self._global] if self._global else []
        if self._per_key:
            if key not in self._keys:
                self._keys[key] = SlidingWindow(*self._per_key, self._margin)
            windows.append(self._keys[key])
        if group and self._group:
            if key not in self._groups:
                self._groups[key] = SlidingWindow(*self._group, self._margin)
            windows.append(self._groups[key])
        return windows

    def _global_ready(self, now: float) -> float | None:
        ready = self._global.ready_at(now) if self._global is not None else now
        if ready is not None and self._interval is not None:
            ready = max(ready, self._next_spaced)
        return None if ready is None else max(ready, self._global_penalty)

    def _key_ready(self, waiter: _Waiter, now: float) -> float | None:
        ready = self._penalties.get(waiter.key, -math.inf)
        for window in self._windows(waiter.key, waiter.group)[1 if self._global else 0 :]:
            at = window.ready_at(now)
            if at is None:
                return None
            ready = max(ready, at)
        return ready

    def _grant(self, waiter: _Waiter, now: float) -> None:
        for window in self._windows(waiter.key, waiter.group):
            stamp = _Stamp(now, waiter.pending, self._global_at_grant and window is self._global)
            window.add(stamp)
            waiter.stamps.append((window, stamp))
        if self._interval is not None:  # on schedule, forgiving up to half an interval of lateness
            self._next_spaced = max(self._next_spaced, now - self._interval / 2) + self._interval
        waiter.future.set_result(None)
        self._grants += 1
        if self._grants % _PRUNE_EVERY == 0:
            self._prune(now)

    def _dispatch(self) -> None:
        """Grant every waiter that may send now, in arrival order; arm one timer for the rest.

        While the global window is full nobody can go, so that case costs O(1) however many
        waiters there are; when it depends on a request still in flight, no timer is armed and
        the end of that request dispatches again.
        """
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiters:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        global_ready = self._global_ready(now)
        if global_ready is None or global_ready > now:
            if global_ready is not None:
                self._timer = loop.call_at(global_ready, self._dispatch)
            return
        wake = math.inf
        blocked: set[str] = set()
        remaining: list[_Waiter] = []
        waiters, self._waiters = self._waiters, remaining
        for index, waiter in enumerate(waiters):
            if waiter.future.done():
                continue
            if waiter.key in blocked:  # keeps the order of messages to one key
                remaining.append(waiter)
                continue
            ready = self._key_ready(waiter, now)
            if ready is None or ready > now:
                blocked.add(waiter.key)
                remaining.append(waiter)
                wake = min(wake, math.inf if ready is None else ready)
                continue
            self._grant(waiter, now)
            global_ready = self._global_ready(now)
            if global_ready is None or global_ready > now:  # full: the rest wait for it
                remaining.extend(w for w in waiters[index + 1 :] if not w.future.done())
                wake = math.inf if global_ready is None else global_ready
                break
        if remaining and math.isfinite(wake):
            self._timer = loop.call_at(wake, self._dispatch)

    def _prune(self, now: float) -> None:
        for table in (self._keys, self._groups):
            for key in [k for k, window in table.items() if window.idle(now)]:
                del table[key]
        for key in [k for k, until in self._penalties.items() if until <= now]:
            del self._penalties[key]
