"""The relay's Prometheus metrics: counters the poller and sender bump, gauges read from the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from relays import subscribers as subs
from relays.channels.memory import MemoryChannel
from relays.events import AlertClosed, dump
from relays.fanout import enqueue
from relays.metrics import Metrics, reason_label
from relays.poller import read_page
from relays.sender import Sender
from relays.store import EventRow, Store, make_engine

SCENARIO = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    yield s
    s.close()


def families(metrics: Metrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        out.setdefault(family.name, []).extend((s.labels, s.value) for s in family.samples)
    return out


def test_polls_are_counted_by_outcome_and_parse_failures_by_reason() -> None:
    metrics = Metrics.create()
    metrics.record_poll(True)
    metrics.record_poll(True)
    metrics.record_poll(False, "captcha: an anti-bot or access-denied page")
    metrics.record_poll(False, None)  # the page could not be fetched: not a parse failure
    value = metrics.registry.get_sample_value
    assert value("prodouane_polls_total", {"outcome": "ok"}) == 2
    assert value("prodouane_polls_total", {"outcome": "failed"}) == 2
    assert value("prodouane_parse_failures_total", {"reason": "captcha"}) == 1


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("captcha", "captcha"),
        ("maintenance: the portal shows a maintenance page", "maintenance"),
        ("Unrecognised: no status table", "unrecognised"),
        ("something new 1234: with a detail", "other"),  # free text never becomes a label
        ("", "other"),
        (None, "other"),
    ],
)
def test_parse_failure_reasons_are_bounded_labels(reason: str | None, label: str) -> None:
    assert reason_label(reason) == label


def test_events_are_counted_by_kind() -> None:
    metrics = Metrics.create()
    metrics.record_events(["alert_opened", "bulletin", "bulletin"])
    metrics.record_events([])
    assert metrics.registry.get_sample_value("prodouane_events_total", {"kind": "bulletin"}) == 2
    assert metrics.registry.get_sample_value("prodouane_events_total", {"kind": "alert_opened"}) == 1


def test_deliveries_are_counted_by_channel_and_outcome_with_the_latency_of_sent_ones() -> None:
    metrics = Metrics.create()
    metrics.record_delivery("telegram", "sent", 1.5)
    metrics.record_delivery("telegram", "sent", 40.0)
    metrics.record_delivery("telegram", "retried")
    metrics.record_delivery("slack", "dead")
    value = metrics.registry.get_sample_value
    assert value("prodouane_deliveries_total", {"channel": "telegram", "outcome": "sent"}) == 2
    assert value("prodouane_deliveries_total", {"channel": "telegram", "outcome": "retried"}) == 1
    assert value("prodouane_deliveries_total", {"channel": "slack", "outcome": "dead"}) == 1
    assert value("prodouane_delivery_latency_seconds_count", {"channel": "telegram"}) == 2
    assert value("prodouane_delivery_latency_seconds_sum", {"channel": "telegram"}) == 41.5
    assert value("prodouane_delivery_latency_seconds_bucket", {"channel": "telegram", "le": "2.0"}) == 1


def test_an_unknown_delivery_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown delivery outcome"):
        Metrics.create().record_delivery("telegram", "maybe")


async def test_the_sender_measures_latency_from_detection_for_the_events_own_message(store: Store) -> None:
    """An end of alert owes its message and, two hours before the reintegration deadline, a reminder."""
    now = datetime.now(UTC)
    end = AlertClosed(
        id="A1:closed",
        source="page",
        detected_at=now - timedelta(seconds=1),
        alert_id="A1",
        services=("DELTA G",),
        modes=("EDI",),
        published_at=now - timedelta(hours=23),  # deadline in 1 h: the reminder is due already
    )
    subs.add(store, channel="slack", address="C0DESK01", client="Desk")
    with store.transaction() as session:
        session.add(
            EventRow(
                id=end.id, kind=end.kind, source=end.source, detected_at=end.detected_at, payload=dump(end)
            )
        )
        assert enqueue(session, [end], now=now - timedelta(hours=2)) == 2  # the message and the reminder
    metrics = Metrics.create()
    report = await Sender(store, {"slack": MemoryChannel("slack")}, metrics=metrics).drain()
    assert report.sent == 2
    value = metrics.registry.get_sample_value
    assert value("prodouane_deliveries_total", {"channel": "slack", "outcome": "sent"}) == 2
    # a reminder is late on purpose: counted, but not in the latency histogram
    assert value("prodouane_delivery_latency_seconds_count", {"channel": "slack"}) == 1


def test_two_instances_do_not_share_a_registry() -> None:
    first, second = Metrics.create(), Metrics.create()
    first.record_poll(True)
    assert second.registry.get_sample_value("prodouane_polls_total", {"outcome": "ok"}) == 0


def test_gauges_are_read_from_the_store_at_scrape_time(store: Store) -> None:
    metrics = Metrics.create(store)
    before = families(metrics)
    assert before["prodouane_open_alerts"] == [({}, 0.0)]
    assert not before.get("prodouane_last_successful_poll_timestamp_seconds")  # never polled: no sample
    at = datetime(2026, 12, 3, 9, 35, tzinfo=UTC)
    page = SCENARIO / "02-alerte-delta-g.html"
    store.record_poll("meteo", "page", read_page("page", page.read_bytes()), now=at)
    after = families(metrics)
    assert after["prodouane_open_alerts"] == [({}, 1.0)]
    assert after["prodouane_last_successful_poll_timestamp_seconds"] == [({}, at.timestamp())]
    assert dict((labels["status"], v) for labels, v in after["prodouane_outbox_depth"]) == {
        "pending": 0.0,
        "sending": 0.0,
        "dead": 0.0,
    }
    assert after["prodouane_store_up"] == [({}, 1.0)]


def test_a_store_that_does_not_answer_gives_store_up_zero_not_a_failed_scrape(tmp_path: Path) -> None:
    broken = Store(make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'relay.sqlite3'}"))
    metrics = Metrics.create(broken)
    metrics.record_poll(True)
    found = families(metrics)
    assert found["prodouane_store_up"] == [({}, 0.0)]
    assert "prodouane_open_alerts" not in found
    assert ({"outcome": "ok"}, 1.0) in found["prodouane_polls"]


def test_the_exposition_names_every_family_and_its_content_type() -> None:
    text = Metrics.create().render().decode()
    for name in ("prodouane_polls_total", "prodouane_delivery_latency_seconds"):
        assert f"# TYPE {name.removesuffix('_total')}" in text
    assert Metrics.content_type.startswith("text/plain")


def test_the_interval_in_force_and_the_304s_are_shown() -> None:
    metrics = Metrics.create()
    assert families(metrics)["prodouane_poll_interval_seconds"] == [({}, 0.0)]  # nothing polls here yet
    metrics.set_poll_interval(15.0)
    metrics.record_not_modified()
    metrics.record_not_modified()
    shown = families(metrics)
    assert shown["prodouane_poll_interval_seconds"] == [({}, 15.0)]
    assert ({}, 2.0) in shown["prodouane_polls_not_modified"]
