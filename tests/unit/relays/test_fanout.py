"""The fan-out: reminders that move with their window, a newcomer told of what is open first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from relays import queries
from relays import subscribers as subs
from relays.channels.memory import MemoryChannel
from relays.events import Event, InterruptionCancelled, InterruptionPlanned, dump
from relays.fanout import catch_up, enqueue
from relays.sender import Sender
from relays.store import DeliveryRow, EventRow, Store
from tests.support.pages import T0, alert, memory_subscriber, page, poll


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    yield s
    s.close()


def test_a_moved_interruption_cancels_the_old_windows_reminders(store: Store) -> None:
    with store.transaction() as session:
        session.add(memory_subscriber("a", "A"))
    notice = (
        "<h3>Interruption programmée</h3><p>Publié le 01/12/2026 à 10h00</p>"
        "<p>DELTA T sera interrompu le {day} décembre 2026 de 9h00 à 17h00.</p>"
    )
    poll(store, page(notice.format(day=8)), 1)
    poll(store, page(notice.format(day=10)), 2)
    with store.sessions() as session:
        pending = [
            (r.purpose, r.due_at)
            for r in session.query(DeliveryRow).filter_by(status="pending")
            if r.purpose != "notify"
        ]
    assert sorted(d.day for _, d in pending) == [9, 10]  # the 10th's reminder (24 h before) and start


async def test_a_subscriber_joining_mid_outage_is_told_of_the_open_alert_first(store: Store) -> None:
    from relays.fanout import catch_up

    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    late = subs.add(store, channel="console", address="late", client="Late")
    with store.transaction() as session:
        assert catch_up(session, late, now=T0) == 1
        assert catch_up(session, late, now=T0) == 0  # once
    poll(
        store,
        page(
            alert("DELTA G", "03/12/2026 à 10h00"),
            "<h3>BIP n°1 - DELTA G</h3><p>Publié le 03/12/2026 à 11h00</p><p>Suite.</p>",
        ),
        2,
    )
    channel = MemoryChannel(name="console")
    await Sender(store, {"console": channel}, clock=lambda: T0).drain()
    texts = [m.text.splitlines()[0] for m in channel.sent]
    assert texts[0].startswith("🔴 ALERTE — DELTA G") and texts[1].startswith("ℹ️ BIP N°1")
    assert channel.sent[1].thread_ref == channel.delivered[0].ref  # the BIP replies to its copy of the alert


def record(store: Store, *events: Event) -> None:
    with store.transaction() as session:
        for event in events:
            session.add(
                EventRow(
                    id=event.id,
                    kind=event.kind,
                    source="p",
                    detected_at=event.detected_at,
                    payload=dump(event),
                )
            )
        enqueue(session, list(events), now=T0)


def test_a_withdrawn_interruption_is_neither_reminded_nor_shown_nor_owed_to_a_newcomer(store: Store) -> None:
    with store.transaction() as session:
        session.add(memory_subscriber("a", "A"))
    window = {"starts_at": T0 + timedelta(days=5), "ends_at": T0 + timedelta(days=5, hours=8)}
    planned = InterruptionPlanned(
        id="I1", source="p", detected_at=T0, services=("DELTA T",), modes=(), **window
    )
    record(store, planned)
    cancelled = InterruptionCancelled(
        id="I1:cancelled",
        source="p",
        detected_at=T0,
        interruption_id="I1",
        services=("DELTA T",),
        modes=(),
        **window,
    )
    record(store, cancelled)
    with store.sessions() as session:
        rows = {(r.event_id, r.purpose): r.status for r in session.query(DeliveryRow)}
    assert rows == {
        ("I1", "notify"): "pending",  # already told: the withdrawal follows it
        ("I1", "interruption_reminder"): "skipped",
        ("I1", "interruption_start"): "skipped",
        ("I1:cancelled", "notify"): "pending",
    }
    assert queries.upcoming_interruptions(store, T0) == ()
    late = subs.add(store, channel="console", address="late", client="Late")
    with store.transaction() as session:
        assert catch_up(session, late, now=T0) == 0
