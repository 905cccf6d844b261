"""Tiny météo pages written inline, and a poll that records one the way ``run`` does.

``page(alert("DELTA G", "03/12/2026 à 10h00"))`` is a page with one alert; ``poll(store, body, n)``
records it at minute ``n`` after :data:`T0`, fanning its events out to the subscribers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relays.events import Event
from relays.fanout import enqueue_hook
from relays.lifecycle import Rules
from relays.meteo import parse_page
from relays.store import Store, SubscriberRow

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def memory_subscriber(address: str, client: str) -> SubscriberRow:
    """A subscriber on the in-memory channel (a test-only channel ``subscribers.add`` refuses)."""
    return SubscriberRow(
        channel="memory",
        address=address,
        client=client,
        lang="fr",
        services=[],
        modes=[],
        kinds=[],
        role="client",
        active=True,
        paused=False,
        profile={},
        created_at=T0,
    )


def page(*articles: str) -> bytes:
    body = "".join(f"<article>{a}</article>" for a in articles)
    return f"<html><body><h2>Messages</h2>{body}</body></html>".encode()


def alert(services: str, when: str, modes: str = "EDI") -> str:
    return f"<h3>ALERTE - {services} - {modes}</h3><p>Publié le {when}</p><p>Panne.</p>"


def end(services: str, when: str, modes: str = "EDI") -> str:
    return f"<h3>FIN D'ALERTE - {services} - {modes}</h3><p>Publié le {when}</p><p>Résolu.</p>"


def poll(store: Store, body: bytes, n: int) -> list[Event]:
    return store.record_poll(
        "meteo",
        f"p{n}",
        parse_page(body),
        now=T0 + timedelta(minutes=n),
        rules=Rules(),
        on_events=enqueue_hook(clock=lambda: T0),
    )
