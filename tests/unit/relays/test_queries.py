"""The read side: what the status page, the bots and the CLI are shown, from the sample scenario."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relays import queries
from relays.errors import StoreError
from relays.events import InterruptionPlanned, dump
from relays.fanout import enqueue_hook
from relays.poller import read_page
from relays.queries import HealthState, Source
from relays.store import EventRow, Store, make_engine

SCENARIO = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def replay(store: Store, upto: str) -> None:
    for n, page in enumerate(sorted(SCENARIO.glob("*.html"))):
        if page.name[:2] > upto:
            break
        at = T0 + timedelta(hours=n)
        store.record_poll("meteo", page.name, read_page(page.name, page.read_bytes()), now=at)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    yield s
    s.close()


def test_open_alerts_come_oldest_first_with_their_bulletins_in_order(store: Store) -> None:
    replay(store, "04")
    alerts = queries.open_alerts(store)
    assert [a.services for a in alerts] == [("DELTA G",), ("ICS2",)]
    delta = alerts[0]
    assert [b.number for b in delta.bulletins] == [1, 2] and delta.latest_bulletin == delta.bulletins[-1]
    assert delta.since == delta.published_at and alerts[1].bulletins == ()


def test_the_last_end_prefers_the_services_asked_about(store: Store) -> None:
    assert queries.last_end(store) is None
    replay(store, "06")
    assert queries.last_end(store).services == ("ICS2",)  # type: ignore[union-attr]
    assert queries.last_end(store, ("DELTA G",)).services == ("DELTA G",)  # type: ignore[union-attr]
    assert queries.last_end(store, ("GAMMA",)).services == ("ICS2",)  # type: ignore[union-attr]


def planned(store: Store, n: int, starts: datetime | None, ends: datetime | None) -> None:
    event = InterruptionPlanned(
        id=f"I{n}",
        source="p",
        detected_at=T0,
        services=("DELTA G",),
        modes=(),
        starts_at=starts,
        ends_at=ends,
    )
    with store.transaction() as session:
        session.add(EventRow(id=event.id, kind=event.kind, source="p", detected_at=T0, payload=dump(event)))


def test_upcoming_interruptions_are_those_not_over_yet_soonest_first(store: Store) -> None:
    now = T0 + timedelta(days=1)
    planned(store, 1, now + timedelta(days=3), now + timedelta(days=3, hours=8))
    planned(store, 2, now - timedelta(hours=2), now + timedelta(hours=1))  # under way
    planned(store, 3, now - timedelta(days=1), now - timedelta(hours=1))  # over
    planned(store, 4, now + timedelta(hours=5), None)  # no end known: by its start
    planned(store, 5, None, None)  # no window could be read: not listed
    shown = queries.upcoming_interruptions(store, now)
    assert [i.starts_at for i in shown] == [
        now - timedelta(hours=2),
        now + timedelta(hours=5),
        now + timedelta(days=3),
    ]


@pytest.mark.parametrize(
    ("source", "state"),
    [
        (None, HealthState.NEVER),
        (Source("meteo", False, 2, T0, "timeout", None, T0), HealthState.NEVER),
        (Source("meteo", True, 5, T0, "captcha", T0, T0), HealthState.DEGRADED),
        (Source("meteo", False, 0, None, None, T0 - timedelta(minutes=4), T0), HealthState.LATE),
        (Source("meteo", False, 0, None, None, T0 - timedelta(minutes=2), T0), HealthState.OK),
    ],
)
def test_the_health_of_a_source(source: Source | None, state: HealthState) -> None:
    assert queries.health(source, now=T0, max_age=timedelta(minutes=3)).state is state


def test_the_status_page_reads_alerts_history_outbox_and_subscribers_at_once(store: Store) -> None:
    from relays import subscribers as subs

    subs.add(store, channel="console", address="desk", client="Desk")
    at = T0
    for page in sorted(SCENARIO.glob("0[12]*.html")):
        store.record_poll(
            "meteo",
            page.name,
            read_page(page.name, page.read_bytes()),
            now=at,
            on_events=enqueue_hook(clock=lambda: at),
        )
    status = queries.status(store, source_name="meteo", now=at, max_age=timedelta(minutes=3))
    assert status.health.state is HealthState.OK
    assert [a.services for a in status.alerts] == [("DELTA G",)]
    assert [line.kind for line in status.history] == ["alert_opened", "interruption_planned"]  # newest first
    assert status.outbox.counts["pending"] == status.outbox.due + status.outbox.scheduled > 0
    assert list(status.outbox.counts)[:6] == ["pending", "sending", "sent", "failed", "dead", "skipped"]
    assert status.subscribers == {"console": (1, 0)}
    assert queries.scheduled_later(store, at) == status.outbox.scheduled


def test_an_unreadable_store_is_a_store_error_and_the_probe_names_it(tmp_path: Path) -> None:
    broken = Store(make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}"))
    with pytest.raises(StoreError) as caught:
        queries.open_alerts(broken)
    assert caught.value.reason == "cannot_open"  # the storage's fault, named: its folder is missing
    assert "does not exist" in str(caught.value) and "\n" not in str(caught.value)
    assert queries.ping(broken) == "OperationalError"
