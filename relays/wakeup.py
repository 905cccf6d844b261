"""Waking the sender: at once in this process, and across instances by PostgreSQL LISTEN/NOTIFY.

    poll records events ─▶ run's poll job ─▶ Sender.wake() ─▶ the local sender claims now
    (PostgreSQL) the recording transaction ─ pg_notify('prodouane_outbox') ─▶ on commit, every
        instance's :func:`listen` ─▶ its Sender.wake()

The notification is sent inside the transaction that records the events and their deliveries
(:func:`announcing` wraps the fan-out hook), so PostgreSQL delivers it only once the rows are
there to claim, and never for a poll that rolled back. The sender still looks at the outbox on a
slow tick (:attr:`relays.sender.Sender.tick`), which covers what nobody announces: a retry coming
due, a subscriber enrolled by another process on SQLite, a listener reconnecting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import URL, text
from sqlalchemy.orm import Session

from .events import Event
from .store import EventHook

__all__ = ["CHANNEL", "announcing", "listen"]

log = logging.getLogger(__name__)

CHANNEL = "prodouane_outbox"
_RETRY_FIRST, _RETRY_MAX = 1.0, 60.0


def announcing(hook: EventHook) -> EventHook:
    """``hook`` (the fan-out), then, on PostgreSQL, a notification to every listening instance."""

    def announce(session: Session, events: list[Event]) -> None:
        hook(session, events)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

    return announce


def conninfo(url: URL) -> str:
    """A libpq connection string for SQLAlchemy's ``url`` (``postgresql+psycopg://…``)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(url: URL, wake: Callable[[], None]) -> None:
    """Call ``wake`` at every announcement on ``url``'s database, until cancelled.

    A dedicated autocommit connection (psycopg's own, not the pool's) LISTENs; when it is lost the
    listener says so in one line and reconnects with a doubling pause, waking once on reconnection
    for anything announced meanwhile.
    """
    import psycopg

    delay = _RETRY_FIRST
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo(url), autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                if delay > _RETRY_FIRST:
                    log.warning("listening for outbox announcements again")
                delay = _RETRY_FIRST
                wake()  # whatever was announced while nobody listened
                async for _ in conn.notifies():
                    wake()
        except (psycopg.Error, OSError) as exc:
            log.warning(
                "listening for outbox announcements failed (%s); the tick covers; retrying in %.0f s",
                type(exc).__name__,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)
