"""The store's open alerts at a glance, read with the standard library when the store is a SQLite file.

``prodouane-relay ask`` follows the open alerts, but a one-shot process cannot afford SQLAlchemy
and our ORM models (about a third of a second before the first row) to read five columns of one
table. :func:`open_alerts` reads them with :mod:`sqlite3`, read-only — the file is neither
written nor created, nor anything beside it (:func:`read_only_connection`, which
:mod:`relays.storage` uses for its read-only engines too) — and decodes them as the models do:
JSON lists, naive UTC timestamps made aware. Any other database (PostgreSQL) is read through
:class:`relays.store.Store` as before. ``tests/unit/relays/test_glance.py`` holds it to what the
store itself returns.

This module imports nothing beyond the standard library, so that importing it costs nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

__all__ = ["as_live", "open_alerts", "read_only_connection", "sqlite_file"]


class _Alert(Protocol):
    """What the answer engine reads of an open alert (:class:`relays.store.AlertState` has it)."""

    @property
    def services(self) -> Sequence[str]: ...
    @property
    def modes(self) -> Sequence[str]: ...
    @property
    def level(self) -> str | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def title(self) -> str: ...


def as_live(alerts: Iterable[_Alert]) -> list[dict[str, Any]]:
    """Open alerts as the answer engine takes them (``knowledge.answers.answer(live=…)``): the one
    mapping the bot, the command line and this module's own fallback share."""
    return [
        {
            "services": a.services,
            "modes": a.modes,
            "level": a.level,
            "published_at": a.published_at,
            "title": a.title,
        }
        for a in alerts
    ]

#: The columns of ``alerts`` the answer engine reads, in :meth:`relays.store.Store.open_alerts`'s order.
_OPEN = (
    "SELECT services, modes, level, published_at, title FROM alerts WHERE status = 'open' ORDER BY opened_at"
)


def read_only_connection(path: Path) -> Callable[[], sqlite3.Connection]:
    """Connections that never write ``path``, nor create it or anything beside it.

    With no WAL file beside it, no process has the store open and the file alone is the whole
    store: it is read as the immutable file it is (SQLite then creates no WAL index either).
    Otherwise a process is writing (``run``): read through its WAL, read-only; if even that
    cannot be set up (a read-only folder, a full disk) and the WAL holds nothing, read the file.
    """
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    wal = path.with_name(path.name + "-wal")

    def connect() -> sqlite3.Connection:
        if not wal.exists():
            return sqlite3.connect(f"{uri}&immutable=1", uri=True, check_same_thread=False)
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            name = getattr(exc, "sqlite_errorname", "") or ""
            pending = wal.exists() and wal.stat().st_size > 0
            if not name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR")) or pending:
                raise
        return sqlite3.connect(f"{uri}&immutable=1", uri=True, check_same_thread=False)

    return connect


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL (relative or absolute, no query); None for any
    other URL, which only SQLAlchemy reads (another database, a driver, options, in memory)."""
    if not url.startswith("sqlite:///") or "?" in url:
        return None
    path = url.removeprefix("sqlite:///")
    return Path(path) if path and path != ":memory:" else None


def _utc(value: Any) -> datetime | None:
    """A timestamp as the store's ``UTCDateTime`` gives it back: aware UTC (stored naive, in UTC)."""
    if value is None:
        return None
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _alerts_in(path: Path) -> list[dict[str, Any]]:
    conn = read_only_connection(path)()
    try:
        rows = conn.execute(_OPEN).fetchall()
    finally:
        conn.close()
    return [
        {
            "services": tuple(json.loads(services)),
            "modes": tuple(json.loads(modes)),
            "level": level,
            "published_at": _utc(published_at),
            "title": title,
        }
        for services, modes, level, published_at, title in rows
    ]


def _alerts_through_store(url: str) -> list[dict[str, Any]]:
    from .store import Store

    store = Store.open(url, schema="as_is")
    try:
        return as_live(store.open_alerts())
    finally:
        store.close()


def open_alerts(url: str) -> list[dict[str, Any]]:
    """The open alerts of the store at ``url``, oldest first, as the answer engine reads them
    (``services``, ``modes``, ``level``, ``published_at``, ``title``); none when there is no
    SQLite file there. Anything that stops the reading (a damaged file, a store not yet migrated,
    a server that does not answer) is raised: the caller decides what it means."""
    path = sqlite_file(url)
    if path is None:
        return _alerts_through_store(url)
    if not path.is_file():
        return []
    return _alerts_in(path)
