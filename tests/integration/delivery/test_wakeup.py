"""The sender of ``run`` is woken, not polled, by the poll that recorded events (the other
instances' NOTIFY on PostgreSQL: test_high_availability.py); a dead sender's claims are taken back
from its stale heartbeat.

Each sender here would otherwise sleep an hour between looks at the outbox, so only the wake-up can
have made it deliver within the test's (generous) timeout.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from relays.channels.memory import MemoryChannel
from relays.outbox import DeliveryStatus
from relays.sender import Sender
from relays.store import DeliveryRow, SenderBeatRow, Store
from tests.support.pages import T0, alert, memory_subscriber, page, poll

HOUR = 3600.0
LATER = T0 + timedelta(hours=1)  # the pages are recorded at T0: their deliveries are due by then


async def wait_for(check: object, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def test_a_recorded_poll_wakes_a_sender_that_would_sleep_an_hour(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    with store.transaction() as session:
        session.add_all([memory_subscriber("a", "A"), memory_subscriber("b", "B")])
    channel = MemoryChannel()
    sender = Sender(store, {"memory": channel}, tick=HOUR, clock=lambda: LATER)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run_forever(stop=stop))
    try:
        await wait_for(lambda: _beats(store) == 1)  # running, and has looked at an empty outbox
        await asyncio.to_thread(poll, store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
        sender.wake()  # what run's poll job does after a poll that recorded events
        await wait_for(lambda: len(channel.sent) == 2)
    finally:
        stop.set()
        await task
    assert _beats(store) == 0  # a sender that stopped no longer beats
    store.close()


async def test_a_sender_whose_heartbeat_is_stale_has_its_claims_handed_back(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    with store.transaction() as session:
        session.add(memory_subscriber("a", "A"))
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    dead = Sender(store, {"memory": MemoryChannel()}, worker="dead", clock=lambda: LATER)
    dead.heartbeat()
    assert len(dead.claim()) == 1  # claimed, then the process dies: it never beats again
    later = LATER + timedelta(seconds=dead.stale + 1)
    alive = Sender(store, {"memory": MemoryChannel()}, worker="alive", clock=lambda: later)
    assert alive.heartbeat() == 1
    with store.sessions() as session:
        row = session.scalars(select(DeliveryRow)).one()
        assert (row.status, row.claimed_by) == (DeliveryStatus.PENDING, None)
        assert session.get(SenderBeatRow, "dead") is None
    assert [c.subscriber.address for c in alive.claim()] == ["a"]  # well before the 120 s lease
    store.close()


def _beats(store: Store) -> int:
    with store.sessions() as session:
        return len(session.scalars(select(SenderBeatRow.worker)).all())
