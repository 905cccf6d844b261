"""What can go wrong with the store, in our words: opening a database, its faults, and their memory.

:func:`make_engine` opens a database by URL: a URL that cannot be parsed or whose driver is not
installed is a :class:`~relays.errors.ConfigError` (a bad setting or argument), never a library
traceback. ``read_only=True`` opens a SQLite file without ever writing it — not even its WAL
index — so reading commands work on a read-only copy (a read-only mount, a backup); a file that
does not exist is not created.

:func:`store_fault` names a database failure that is the storage's, not a bug of ours — the disk
is full, the store is read-only or refuses writes, the file is damaged, the server does not answer
— as a :class:`~relays.errors.StoreError` with a reason code and one line for people::

    full         the disk (or the server's) is full                SQLITE_FULL, PostgreSQL 53xxx
    read_only    the store refuses writes                          SQLITE_READONLY, 42501, 25006
    corrupt      the SQLite file is damaged or not a database      SQLITE_CORRUPT, SQLITE_NOTADB
    cannot_open  the SQLite file or its folder cannot be opened    SQLITE_CANTOPEN
    io_error     the disk failed a read or a write                 SQLITE_IOERR, 58xxx
    unreachable  the server does not answer, or has no such database   08xxx, 3D000, 57P0x
    auth         the server refuses our credentials                28xxx
    locked       another process holds the store                   SQLITE_BUSY (not a fault)
    unavailable  any other operational failure of the database

:class:`StoreHealth` remembers, in a running process, that the store is failing (since when,
why), so that every part names it: the log, ``/readyz``, the ``prodouane_store_up`` gauge, the
status page; the poll that records again clears it and tells the admins (``StoreRecovered``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .errors import ConfigError, StoreError
from .glance import read_only_connection

__all__ = ["StoreHealth", "make_engine", "shown_url", "sqlite_path", "store_fault"]

log = logging.getLogger(__name__)

#: Seconds to wait for a PostgreSQL server before saying it does not answer.
CONNECT_TIMEOUT = 10

_SQLITE = {
    "SQLITE_FULL": "full",
    "SQLITE_READONLY": "read_only",
    "SQLITE_PERM": "read_only",
    "SQLITE_AUTH": "read_only",
    "SQLITE_CORRUPT": "corrupt",
    "SQLITE_NOTADB": "corrupt",
    "SQLITE_CANTOPEN": "cannot_open",
    "SQLITE_IOERR": "io_error",
    "SQLITE_BUSY": "locked",
    "SQLITE_LOCKED": "locked",
}
_POSTGRES = {  # SQLSTATE, or its class (first two characters)
    "53": "full",
    "42501": "read_only",
    "25006": "read_only",
    "XX001": "corrupt",
    "XX002": "corrupt",
    "58": "io_error",
    "08": "unreachable",
    "3D000": "unreachable",
    "57P01": "unreachable",
    "57P02": "unreachable",
    "57P03": "unreachable",
    "28": "auth",
}
_SAYS = {
    "full": "the disk is full",
    "read_only": "the store refuses writes",
    "corrupt": "the SQLite file is damaged (restore it from a backup)",
    "cannot_open": "cannot open the SQLite file",
    "io_error": "the disk failed a read or a write",
    "unreachable": "cannot connect to the database",
    "auth": "the database refuses our credentials",
    "locked": "the store is locked by another process",
    "unavailable": "the database failed",
}
#: Reasons that are not a fault of the storage itself (contention): never shown as "store down".
NOT_FAULTS = frozenset({"locked"})


def shown_url(url: str | URL) -> str:
    """The URL fit for people and logs: the password masked (a SQLite URL is its path)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparsable database URL>"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL (None for another database, or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def _reason(exc: BaseException) -> tuple[str, str] | None:
    """(reason, the driver's first line) for a database failure that is the storage's."""
    if isinstance(exc, PoolTimeout):
        return "unreachable", "no connection available"
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", "") or ""
        for prefix, code in _SQLITE.items():
            if name.startswith(prefix):
                return code, detail
        return None  # SQLITE_ERROR and the like: a schema or a bug, not the storage
    state = getattr(orig, "sqlstate", None)
    if state:
        found = _POSTGRES.get(state) or _POSTGRES.get(state[:2])
        if found is not None:
            return found, detail
        return ("unavailable", detail) if exc.connection_invalidated else None
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return "unreachable", detail  # no SQLSTATE: the connection itself failed (refused, no host…)
    return None


def store_fault(exc: BaseException, url: str | URL | None = None) -> StoreError | None:
    """Our words for ``exc`` when it is the storage failing (see the module docstring), else None.

    ``url`` names the store in the message (its password masked).
    """
    if isinstance(exc, StoreError):
        return exc
    found = _reason(exc)
    if found is None:
        return None
    reason, detail = found
    where = f" ({shown_url(url)})" if url is not None else ""
    path = sqlite_path(url) if url is not None else None
    if path is not None and reason in ("cannot_open", "io_error", "read_only"):
        reason, detail = _on_disk(path, reason, detail)
    return StoreError(f"{_SAYS[reason]}{where}: {detail}", reason=reason)


def _on_disk(path: Path, reason: str, detail: str) -> tuple[str, str]:
    """What the file system says of a SQLite file that could not be opened, read or written: SQLite
    reports a full disk or a read-only folder as an I/O error or "cannot open" when it happens while
    creating the WAL files."""
    folder = path.parent
    if not folder.exists():
        return "cannot_open", f"its folder {folder} does not exist"
    if not folder.is_dir():
        return "cannot_open", f"{folder} is not a folder"
    if path.is_dir():
        return "cannot_open", f"{path} is a folder"
    try:
        if os.statvfs(folder).f_bavail == 0:
            return "full", f"no space left on the file system of {folder}"
    except OSError:
        pass
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "read_only", f"{folder} cannot be written (read-only file system or permissions)"
    if not path.exists():
        return "cannot_open", f"{path} does not exist"
    return reason, detail


# --- opening ------------------------------------------------------------------------------------
def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _sqlite_pragmas(read_only: bool) -> Callable[[Any, Any], None]:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives a killed process
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return apply


#: Free bytes a SQLite store needs to be opened for writing (its WAL index, the first pages).
MIN_FREE = 1 << 20


def _check_room(path: Path) -> None:
    """Refuse to open a SQLite file for writing on a (nearly) full disk: SQLite would leave its
    half-made WAL index beside it and fail anyway."""
    try:
        stat = os.statvfs(path.parent)
    except OSError:
        return  # no folder: SQLite says so when it connects
    free = stat.f_bavail * stat.f_frsize
    if free < MIN_FREE:
        raise StoreError(
            f"the disk is full ({path}): {free // 1024} KiB left on the file system of {path.parent}",
            reason="full",
        )


def make_engine(url: str | URL, *, read_only: bool = False) -> Engine:
    """An engine for ``url``; nothing connects yet. A URL that cannot be used is a ConfigError; a
    SQLite file to write on a full disk, a StoreError.

    ``read_only``: for SQLite, connections that never write the file (nor create it); elsewhere the
    same engine (a reading command simply does not write).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"{str(url)[:80]!r} is not a database URL (e.g. sqlite:////var/lib/relay/relay.sqlite3 or "
            "postgresql+psycopg://user:password@host/db)",
            reason="bad_url",
        ) from exc
    kwargs: dict[str, Any] = {"json_serializer": _json}
    sqlite = parsed.get_backend_name() == "sqlite"
    path = sqlite_path(parsed) if sqlite else None
    if path is not None and read_only:
        kwargs["creator"] = read_only_connection(path)
    elif path is not None:
        _check_room(path)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        driver = parsed.drivername
        raise ConfigError(
            f"cannot use a {driver} database: {exc} (supported: sqlite, postgresql+psycopg)",
            reason="no_driver",
        ) from exc
    if sqlite:
        from sqlalchemy import event

        event.listen(engine, "connect", _sqlite_pragmas(read_only))
    return engine


def probe_write(engine: Engine) -> None:
    """Fail now (SQLAlchemy's error) when a SQLite store cannot be written at all (read-only file or
    folder), rather than at the first poll. Takes the write lock and gives it back: writes nothing."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.exec_driver_sql("ROLLBACK")


# --- memory of a fault while running ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fault:
    """The store is failing: since when, and the last error it gave."""

    since: datetime
    error: StoreError

    @property
    def reason(self) -> str:
        return self.error.reason

    @property
    def message(self) -> str:
        return str(self.error)


class StoreHealth:
    """Whether the store failed a write and has not recorded one since (thread-safe).

    The parts of ``run`` that write report what happened: :meth:`note` a failure (a storage fault
    is logged once per episode, as one line naming the store, with what could not be done), and
    :meth:`recovered` a write that went through (logged once, when a fault ends).
    """

    def __init__(
        self, url: str | URL | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self._url = url
        self._clock = clock

    @property
    def fault(self) -> Fault | None:
        with self._lock:
            return self._fault

    def note(self, exc: BaseException, *, doing: str) -> bool:
        """Whether ``exc`` is a storage fault (else the caller handles it as before). The first of
        an episode is logged as an error, without traceback; the next ones at debug level."""
        error = store_fault(exc, self._url)
        if error is None:
            return False
        if error.reason in NOT_FAULTS:
            log.warning("%s: %s; trying again", doing, error)
            return True
        with self._lock:
            new = self._fault is None
            self._fault = Fault(self._clock() if new else self._fault.since, error)  # type: ignore[union-attr]
        if new:
            log.error(
                "storage fault: %s — %s failed; retried until the store can be written, nothing is lost",
                error,
                doing,
                extra={"reason": error.reason},
            )
        else:
            log.debug("storage fault goes on: %s (%s)", error, doing)
        return True

    def recovered(self) -> Fault | None:
        """A write went through: the fault that has just ended, if there was one (logged)."""
        with self._lock:
            ended, self._fault = self._fault, None
        if ended is not None:
            log.warning(
                "the store can be written again (it failed from %s: %s)",
                ended.since.isoformat(timespec="seconds"),
                ended.message,
                extra={"reason": ended.reason},
            )
        return ended
