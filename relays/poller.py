"""One poll: fetch the page(s), parse, diff against the store, record — and when to poll next.

The first URL is the météo page itself and decides the source's health; further URLs (a BIP page,
an RSS/Atom feed) add their messages to the same snapshot when they can be read. Each request is
conditional (the last good answer's ``ETag`` / ``Last-Modified``, kept in memory only); a 304
answer re-reads the last body we kept, so "not modified" is exactly the same healthy poll as the
unchanged page would be: the open alerts are seen, absences are counted the same way, and nothing
opens or closes that the same page would not open or close.

After each poll the next one is chosen by :func:`relays.cadence.choose` from what the store then
holds (alerts open, interruptions announced), the answers' pacing headers and the failures in a
row: 30 s calm, 15 s active, backed off after failures, never sooner than the server allows.
:meth:`Poller.tick` skips a scheduled run that comes before that; :meth:`Poller.until_due` tells
the scheduler when to come back.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from . import queries
from .cadence import Activity, Cadence, Window, choose
from .errors import StoreError
from .events import Event
from .fetch import Fetched, Fetcher, FetchError
from .lifecycle import Failure, Rules
from .meteo import PageError, parse_page
from .snapshot import Snapshot
from .store import EventHook, Store

log = logging.getLogger(__name__)

EARLY = 1.0  # seconds: a scheduled run this close to the due moment (or 10 % of the interval) polls


class PollMetrics(Protocol):
    """What the poller reports (``relays.metrics.Metrics`` implements it)."""

    def record_poll(self, ok: bool, reason: str | None = None) -> None: ...

    def record_events(self, kinds: Iterable[str]) -> None: ...

    def record_not_modified(self) -> None: ...

    def set_poll_interval(self, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class PollResult:
    location: str
    events: tuple[Event, ...]
    snapshot: Snapshot | None
    failure: str | None
    next_in: float = 0.0  # seconds chosen before the next poll (before the scheduler's jitter)


def read_page(location: str, body: bytes, content_type: str | None = None) -> Snapshot | Failure:
    """Parse one page into a snapshot, or the reason it cannot be trusted."""
    try:
        return parse_page(body, location=location, content_type=content_type)
    except PageError as exc:
        return Failure(str(exc))


def merge(primary: Snapshot, extra: list[Snapshot]) -> Snapshot:
    if not extra:
        return primary
    items = list(primary.items)
    for other in extra:
        offset = len(items)
        items.extend(replace(i, parent=None if i.parent is None else i.parent + offset) for i in other.items)
    statuses = primary.statuses + tuple(s for o in extra for s in o.statuses)
    return replace(primary, items=tuple(items), statuses=statuses)


class Poller:
    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        urls: list[str],
        *,
        source_name: str = "meteo",
        rules: Rules = Rules(),
        on_events: EventHook | None = None,
        cadence: Cadence | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: PollMetrics | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one météo URL is needed")
        self.store, self.fetcher, self.urls = store, fetcher, urls
        self.source_name, self.rules, self.on_events = source_name, rules, on_events
        self.cadence, self.clock = cadence or Cadence(), clock
        self.failures = 0
        self.not_before = 0.0  # monotonic time before which scheduled ticks are skipped
        self.next_in = self.cadence.calm  # the interval in force: seconds chosen after the last poll
        self.activity = Activity()  # what the store held after the last poll
        self.last_success: datetime | None = None
        self._cache: dict[str, Fetched] = {}
        self._answers: list[Mapping[str, str]] = []  # this poll's answers' pacing headers
        self.metrics = metrics
        self._fetch_failed = False  # whether the last failure was the fetch (else the page)
        if metrics is not None:
            metrics.set_poll_interval(self.next_in)

    async def _get(self, url: str) -> Fetched:
        cached = self._cache.get(url)
        try:
            fetched = await self.fetcher.fetch(
                url,
                etag=cached.etag if cached else None,
                last_modified=cached.last_modified if cached else None,
            )
        except FetchError as exc:
            self._answers.append(exc.headers)
            raise
        self._answers.append(fetched.pace)
        if fetched.not_modified and cached is not None:
            if self.metrics is not None:
                self.metrics.record_not_modified()
            if (fetched.etag, fetched.last_modified) != (cached.etag, cached.last_modified):
                cached = replace(cached, etag=fetched.etag, last_modified=fetched.last_modified)
                self._cache[url] = cached
            return cached
        if fetched.not_modified:  # a 304 we did not ask for: nothing to read
            raise FetchError("http 304", "not modified, but no earlier copy is kept")
        self._cache[url] = fetched
        return fetched

    async def observe(self) -> Snapshot | Failure:
        try:
            return await self._observe()
        except Exception as exc:  # a bug or an unforeseen error must count as a bad poll, not vanish
            log.exception("poll failed unexpectedly")
            self._fetch_failed = True
            return Failure(f"error: {type(exc).__name__}: {exc}")

    async def _observe(self) -> Snapshot | Failure:
        primary_url, *others = self.urls
        self._fetch_failed = False
        try:
            fetched = await self._get(primary_url)
        except FetchError as exc:
            self._fetch_failed = True
            return Failure(str(exc))
        observation = read_page(primary_url, fetched.body, fetched.content_type)
        if isinstance(observation, Failure):
            self._cache.pop(primary_url, None)  # never answer a later 304 with a bad body
            return observation
        extra: list[Snapshot] = []
        for url in others:
            try:
                other = await self._get(url)
            except FetchError as exc:
                log.warning("secondary source %s unreadable: %s", url, exc)
                continue
            parsed = read_page(url, other.body, other.content_type)
            if isinstance(parsed, Snapshot):
                extra.append(parsed)
            else:
                log.warning("secondary source %s unusable: %s", url, parsed.reason)
        return merge(observation, extra)

    async def poll_once(self) -> PollResult:
        started = time.monotonic()
        self._answers = []
        observation = await self.observe()
        now = self.clock()
        try:
            events = await asyncio.to_thread(
                self.store.record_poll,
                self.source_name,
                self.urls[0],
                observation,
                now=now,
                rules=self.rules,
                on_events=self.on_events,
            )
        except StoreError:  # nothing recorded: the server's wishes still hold for the next poll
            self._pace(started, now)
            raise
        if self.metrics is not None:
            self.metrics.record_events(e.kind for e in events)
            if isinstance(observation, Failure):
                self.metrics.record_poll(False, None if self._fetch_failed else observation.reason)
            else:
                self.metrics.record_poll(True)
        if isinstance(observation, Failure):
            self.failures += 1
            log.warning("poll failed (%d in a row): %s", self.failures, observation.reason)
        else:
            self.failures = 0
            self.last_success = now
        self.activity = await asyncio.to_thread(self._activity, now)
        next_in = self._pace(started, now)
        if isinstance(observation, Failure):
            return PollResult(self.urls[0], tuple(events), None, observation.reason, next_in)
        return PollResult(self.urls[0], tuple(events), observation, None, next_in)

    def _activity(self, now: datetime) -> Activity:
        """Alerts open and interruptions announced, as the store holds them after this poll (the
        last known ones if the store cannot be read now)."""
        try:
            open_alerts = len(self.store.open_alerts())
            windows = tuple(
                Window(i.starts_at, i.ends_at) for i in queries.upcoming_interruptions(self.store, now)
            )
        except (StoreError, SQLAlchemyError) as exc:
            log.warning("cannot read what is open to choose the poll interval: %s", exc)
            return self.activity
        return Activity(open_alerts, windows)

    def _pace(self, started: float, now: datetime) -> float:
        """Choose the next poll's moment (from this poll's start) and show it in the metrics."""
        self.next_in = choose(
            self.cadence,
            self.activity,
            self._answers,
            failures=self.failures,
            now=now,
            spread=random.uniform(0.8, 1.0),
        )
        self.not_before = started + self.next_in
        if self.metrics is not None:
            self.metrics.set_poll_interval(self.next_in)
        return self.next_in

    def until_due(self) -> float:
        """Seconds until the next poll is due (0: due now)."""
        return max(0.0, self.not_before - time.monotonic())

    async def tick(self) -> PollResult | None:
        """The scheduled job: polls when due, skips a run that comes before (backing off, the server's
        wish, or a scheduler firing at a fixed pace a little ahead of the chosen one)."""
        if self.until_due() > min(EARLY, 0.1 * self.next_in):
            return None
        try:
            return await self.poll_once()
        except StoreError:  # the store's fault, logged by it: the next tick polls and records again
            return None
        except Exception:  # the scheduler must keep running whatever one poll did
            log.exception("poll crashed")
            self.failures += 1
            self._pace(time.monotonic(), self.clock())
            return None
