"""Prometheus metrics: what the relay did (counters, a latency histogram) and what the store holds.

Counters and the histogram are bumped by the poller and the sender (each given ``metrics=``) through
small methods — :meth:`Metrics.record_poll`, :meth:`Metrics.record_not_modified`,
:meth:`Metrics.record_events` and :meth:`Metrics.record_delivery`; the poller also sets the interval
in force (:meth:`Metrics.set_poll_interval`, this process's own choice). The other gauges are not
kept in memory: a custom collector reads them from the store at scrape time, so they are right
whichever process (or instance) moved the rows, and right again after a restart.

Everything lives in one dedicated ``CollectorRegistry`` per :class:`Metrics`, never the global one,
so tests and several instances in one process never clash.

    prodouane_polls_total{outcome="ok|failed"}
    prodouane_parse_failures_total{reason}            page fetched but not trusted (PageError codes)
    prodouane_polls_not_modified_total                 conditional GETs answered 304 (any URL polled)
    prodouane_poll_interval_seconds                    seconds chosen before the next poll (calm,
                                                       active, backed off or the server's wish;
                                                       before jitter; 0 where nothing polls)
    prodouane_events_total{kind}
    prodouane_deliveries_total{channel,outcome}        sent / retried / failed / dead / skipped
    prodouane_delivery_latency_seconds{channel}        event detected → message accepted
    prodouane_outbox_depth{status}                     pending / sending / dead   (from the store)
    prodouane_open_alerts                                                         (from the store)
    prodouane_last_successful_poll_timestamp_seconds                              (from the store)
    prodouane_store_up                                 1 when the store can be read and written
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .errors import StoreError
from .queries import DEPTH_STATUSES, gauges
from .store import Store

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

#: Reason codes of ``relays.meteo.PageError``; anything else is counted as ``other``.
PARSE_REASONS: frozenset[str] = frozenset(
    {"empty", "truncated", "captcha", "maintenance", "unrecognised", "unparseable"}
)
#: Delivery outcomes, as the sender reports them.
DELIVERY_OUTCOMES: frozenset[str] = frozenset({"sent", "retried", "failed", "dead", "skipped"})
#: Seconds from detection to delivery: a healthy relay sends in seconds, retries take minutes.
LATENCY_BUCKETS: tuple[float, ...] = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)


def reason_label(reason: str | None) -> str:
    """A bounded label for a parse failure: ``"captcha: an anti-bot page"`` → ``"captcha"``."""
    if not reason:
        return "other"
    code = reason.split(":", 1)[0].strip().lower()
    return code if code in PARSE_REASONS else "other"


@dataclass(frozen=True, slots=True)
class StoreCollector(Collector):
    """Gauges read from the store at each scrape; a store that does not answer, or that failed a write
    with none going through since (a full disk, writes refused), gives store_up 0."""

    store: Store
    source_name: str | None = None  # None: the most recent success of any source

    def describe(self) -> Iterator[Metric]:
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        depth, open_alerts, last_ok, up = self._families()
        try:
            read = gauges(self.store, self.source_name)
        except StoreError as exc:
            log.warning("metrics scrape: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        for status in DEPTH_STATUSES:
            depth.add_metric([status], read.depth.get(status, 0))
        open_alerts.add_metric([], read.open_alerts)
        if read.last_success is not None:
            last_ok.add_metric([], read.last_success.timestamp())
        up.add_metric([], 0 if self.store.health.fault is not None else 1)
        yield from (depth, open_alerts, last_ok, up)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "prodouane_outbox_depth", "Deliveries in the outbox by status.", labels=["status"]
            ),
            GaugeMetricFamily("prodouane_open_alerts", "Alerts currently open."),
            GaugeMetricFamily(
                "prodouane_last_successful_poll_timestamp_seconds",
                "Unix time of the last poll whose page could be read.",
            ),
            GaugeMetricFamily(
                "prodouane_store_up",
                "1 when the store answers and no write has failed since the last one went through, else 0.",
            ),
        )


class Metrics:
    """The relay's metrics in their own registry. Build with :meth:`create`."""

    content_type: str = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.polls = Counter(
            "prodouane_polls", "Polls of the météo page by outcome.", ["outcome"], registry=registry
        )
        self.parse_failures = Counter(
            "prodouane_parse_failures",
            "Pages fetched but not trusted, by reason.",
            ["reason"],
            registry=registry,
        )
        self.not_modified = Counter(
            "prodouane_polls_not_modified",
            "Conditional requests of the polled URLs answered 304 Not Modified.",
            registry=registry,
        )
        self.poll_interval = Gauge(
            "prodouane_poll_interval_seconds",
            "Seconds this process waits before its next poll (before jitter); 0 where nothing polls.",
            registry=registry,
        )
        self.events = Counter(
            "prodouane_events", "Lifecycle events recorded, by kind.", ["kind"], registry=registry
        )
        self.deliveries = Counter(
            "prodouane_deliveries",
            "Delivery attempts by channel and outcome.",
            ["channel", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "prodouane_delivery_latency_seconds",
            "Seconds from an event's detection to its message being accepted.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        for outcome in ("ok", "failed"):
            self.polls.labels(outcome=outcome)  # both series exist from the start, at 0

    @classmethod
    def create(cls, store: Store | None = None, *, source_name: str | None = "meteo") -> Metrics:
        """Counters in a fresh registry, plus the store's gauges when a store is given."""
        metrics = cls(CollectorRegistry(auto_describe=False))
        if store is not None:
            metrics.registry.register(StoreCollector(store, source_name))
        return metrics

    # --- what the poller calls ---------------------------------------------------------------
    def record_poll(self, ok: bool, reason: str | None = None) -> None:
        """One poll. ``reason``: the PageError reason when the page was fetched but not trusted
        (``"captcha"`` or ``"captcha: detail"``); None for a good poll or a fetch failure."""
        self.polls.labels(outcome="ok" if ok else "failed").inc()
        if not ok and reason is not None:
            self.parse_failures.labels(reason=reason_label(reason)).inc()

    def record_not_modified(self) -> None:
        """One conditional request answered 304 (the kept copy was read again)."""
        self.not_modified.inc()

    def set_poll_interval(self, seconds: float) -> None:
        """The interval now in force: seconds chosen before the next poll."""
        self.poll_interval.set(seconds)

    def record_events(self, kinds: Iterable[str]) -> None:
        """The kinds of the events one poll recorded (``[e.kind for e in events]``)."""
        for kind in kinds:
            self.events.labels(kind=kind).inc()

    # --- what the sender calls ---------------------------------------------------------------
    def record_delivery(self, channel: str, outcome: str, latency_seconds: float | None = None) -> None:
        """One delivery attempt's outcome; ``latency_seconds`` (detection → sent) for ``sent`` only."""
        if outcome not in DELIVERY_OUTCOMES:
            raise ValueError(f"unknown delivery outcome {outcome!r}")
        self.deliveries.labels(channel=channel, outcome=outcome).inc()
        if latency_seconds is not None:
            self.latency.labels(channel=channel).observe(max(0.0, latency_seconds))

    # --- exposition --------------------------------------------------------------------------
    def render(self) -> bytes:
        """The registry in Prometheus text format (serve it with :attr:`content_type`)."""
        return generate_latest(self.registry)
