"""A store filled through the real pipeline — sample pages, poll recording, fan-out, the sender —
for the web tests, with a settable clock so the page's "now" and ages are reproducible."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relays import subscribers as subs
from relays.channels.base import PermanentError
from relays.channels.memory import MemoryChannel
from relays.fanout import enqueue_hook
from relays.metrics import Metrics
from relays.poller import read_page
from relays.sender import Sender
from relays.store import Store

SCENARIO = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"
#: When each of the first four sample pages is polled: calm page with a planned interruption, an
#: alert on DELTA G, its first BIP, then BIP 2 and a black alert on ICS2.
TIMELINE = (
    ("01-calme.html", datetime(2026, 12, 2, 15, 5, tzinfo=UTC)),
    ("02-alerte-delta-g.html", datetime(2026, 12, 3, 9, 35, tzinfo=UTC)),
    ("03-bip-1.html", datetime(2026, 12, 3, 10, 33, tzinfo=UTC)),
    ("04-bip-2-et-ics2.html", datetime(2026, 12, 3, 12, 33, tzinfo=UTC)),
)
#: The page is looked at one minute after the last poll: the source is healthy.
LOOKED_AT = TIMELINE[-1][1] + timedelta(minutes=1)
GONE_CHAT = "987654321"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


def hostile_page() -> bytes:
    """An alert whose CID text is markup: the status page must show it as text."""
    text = 'Panne <script>alert("x")</script> <img src=x onerror="alert(1)"> & <b>gras</b>'
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"""<html><body><h2>Messages</h2><article><h3>ALERTE - DELTA G - EDI</h3>
    <p>Publié le 03/12/2026 à 10h32</p><p>{escaped}</p></article></body></html>""".encode()


def record(store: Store, name: str, body: bytes, at: datetime) -> None:
    store.record_poll("meteo", name, read_page(name, body), now=at, on_events=enqueue_hook(clock=lambda: at))


async def fill(store: Store, clock: Clock, metrics: Metrics | None = None) -> dict[str, MemoryChannel]:
    """Three subscribers, the first four sample pages polled in order, every due message sent.

    The third subscriber's chat refuses every message, so its deliveries end as dead letters.
    With ``metrics``, the sender reports its outcomes to them, as in production.
    """
    subs.add(store, channel="telegram", address="123456789", client="Transitaire Dupont (EDI)")
    subs.add(
        store, channel="slack", address="C0OPSDESK", client="Commissionnaire Martin", services=["DELTA G"]
    )
    subs.add(store, channel="telegram", address=GONE_CHAT, client="Ancien client", services=["ICS2"])
    channels = {"telegram": MemoryChannel("telegram"), "slack": MemoryChannel("slack")}
    channels["telegram"].fail_address(GONE_CHAT, PermanentError)
    sender = Sender(store, channels, clock=clock, metrics=metrics)
    for name, at in TIMELINE:
        clock.now = at
        record(store, name, (SCENARIO / name).read_bytes(), at)
        await sender.drain()
    clock.now = LOOKED_AT
    return channels


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()
