"""The sender: what it does with claims, removed and paused subscribers (regressions found in review)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
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


async def test_an_abandoned_claim_is_taken_back_once_its_lease_expires(store: Store) -> None:
    with store.transaction() as session:
        session.add(memory_subscriber("a", "A"))
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    dead = Sender(store, {"memory": MemoryChannel()}, worker="other-host:1:dead", clock=lambda: T0)
    assert len(dead.claim()) == 1  # claimed, then its process died
    channel = MemoryChannel()
    later = Sender(store, {"memory": channel}, clock=lambda: T0 + timedelta(minutes=5))
    report = await later.drain()
    assert report.sent == 1 and len(channel.sent) == 1


async def test_removed_and_paused_subscribers_get_nothing_more(store: Store) -> None:
    with store.transaction() as session:
        for address in ("gone", "paused", "kept"):
            session.add(memory_subscriber(address, address))
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    gone = subs.find(store, "gone")
    paused = subs.find(store, "paused")
    assert gone and paused
    subs.remove(store, gone.id)
    subs.update(store, paused.id, paused=True)
    channel = MemoryChannel()
    await Sender(store, {"memory": channel}, clock=lambda: T0).drain()
    assert [m.address for m in channel.sent] == ["kept"]
    with store.sessions() as session:
        statuses = {r.subscriber_id: r.status for r in session.query(DeliveryRow)}
    assert statuses[gone.id] == "skipped" and statuses[paused.id] == "skipped"
