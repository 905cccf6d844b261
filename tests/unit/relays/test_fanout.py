"""The fan-out: reminders that move with their window, a newcomer told of what is open first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from relays import subscribers as subs
from relays.channels.memory import MemoryChannel
from relays.sender import Sender
from relays.store import DeliveryRow, Store
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
