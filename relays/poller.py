"""One poll: fetch the page(s), parse, diff against the store, record — and when to poll next.

The first URL is the météo page itself and decides the source's health; further URLs (a BIP page,
an RSS/Atom feed) add their messages to the same snapshot when they can be read. A 304 answer
re-reads the last body we kept in memory, so "not modified" still counts as a healthy poll in
which the open alerts are seen. After a failed poll the next ones back off exponentially (with
jitter) up to ``max_backoff`` seconds; a good poll resets the pace.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from .errors import StoreError
from .events import Event
from .fetch import Fetched, Fetcher, FetchError
from .lifecycle import Failure, Rules
from .meteo import PageError, parse_page
from .snapshot import Snapshot
from .store import EventHook, Store

log = logging.getLogger(__name__)


class PollMetrics(Protocol):
    """What the poller reports (``relays.metrics.Metrics`` implements it)."""

    def record_poll(self, ok: bool, reason: str | None = None) -> None: ...

    def record_events(self, kinds: Iterable[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class PollResult:
    location: str
    events: tuple[Event, ...]
    snapshot: Snapshot | None
    failure: str | None


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
        interval: float = 60.0,
        max_backoff: float = 900.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: PollMetrics | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one météo URL is needed")
        self.store, self.fetcher, self.urls = store, fetcher, urls
        self.source_name, self.rules, self.on_events = source_name, rules, on_events
        self.interval, self.max_backoff, self.clock = interval, max_backoff, clock
        self.failures = 0
        self.not_before = 0.0  # monotonic time before which scheduled ticks are skipped
        self.last_success: datetime | None = None
        self._cache: dict[str, Fetched] = {}
        self.metrics = metrics
        self._fetch_failed = False  # whether the last failure was the fetch (else the page)

    async def _get(self, url: str) -> Fetched:
        cached = self._cache.get(url)
        fetched = await self.fetcher.fetch(
            url, etag=cached.etag if cached else None, last_modified=cached.last_modified if cached else None
        )
        if fetched.not_modified and cached is not None:
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
        observation = await self.observe()
        now = self.clock()
        events = await asyncio.to_thread(
            self.store.record_poll,
            self.source_name,
            self.urls[0],
            observation,
            now=now,
            rules=self.rules,
            on_events=self.on_events,
        )
        if self.metrics is not None:
            self.metrics.record_events(e.kind for e in events)
            if isinstance(observation, Failure):
                self.metrics.record_poll(False, None if self._fetch_failed else observation.reason)
            else:
                self.metrics.record_poll(True)
        if isinstance(observation, Failure):
            self.failures += 1
            self.not_before = time.monotonic() + self.backoff_delay()
            log.warning("poll failed (%d in a row): %s", self.failures, observation.reason)
            return PollResult(self.urls[0], tuple(events), None, observation.reason)
        self.failures = 0
        self.not_before = 0.0
        self.last_success = now
        return PollResult(self.urls[0], tuple(events), observation, None)

    def backoff_delay(self) -> float:
        """Seconds to wait after ``failures`` consecutive failures: doubled each time, jittered, capped."""
        if self.failures == 0:
            return 0.0
        base = min(self.max_backoff, self.interval * float(2 ** min(self.failures - 1, 30)))
        return base * random.uniform(0.8, 1.0)

    async def tick(self) -> PollResult | None:
        """The scheduled job: skips the tick while backing off after failures."""
        if time.monotonic() < self.not_before:
            return None
        try:
            return await self.poll_once()
        except StoreError:  # the store's fault, logged by it: the next tick polls and records again
            return None
        except Exception:  # the scheduler must keep running whatever one poll did
            log.exception("poll crashed")
            self.failures += 1
            self.not_before = time.monotonic() + self.backoff_delay()
            return None
