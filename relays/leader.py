"""Only one instance polls at a time: leadership by PostgreSQL advisory lock, or by a lease row.

Two or more instances may run against one database for high availability. On PostgreSQL the
leader holds a session-level advisory lock on a dedicated connection: if its process dies, the
server drops the connection and the lock with it, and a standby — which tries at every poll tick —
takes over within one poll interval. Elsewhere (SQLite) a lease row with an expiry does the same
job: the holder renews it at each tick; a standby takes it once it has expired.

The current holder (instance id, host, pid, since) is written to the ``leases`` table in both
cases, for the status page and for operators.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

from .store import LeaseRow, Store

log = logging.getLogger(__name__)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    return int.from_bytes(hashlib.sha256(f"prodouane-relay:{name}".encode()).digest()[:8], "big", signed=True)


class Leadership:
    """``acquire()`` says whether this instance leads ``name`` now (and keeps leading it)."""

    def __init__(self, store: Store, name: str, *, instance: str, ttl: timedelta) -> None:
        self.store, self.name, self.instance, self.ttl = store, name, instance, ttl
        self._conn: Connection | None = None
        self.leading = False

    @property
    def _postgres(self) -> bool:
        return self.store.engine.dialect.name == "postgresql"

    def acquire(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        try:
            leading = self._advisory() if self._postgres else self._lease(now)
            if leading:
                self._record(now)
        except Exception as exc:  # the database is unreachable or refuses writes: nobody polls from here
            if not self.store.health.note(exc, doing="the poller's leadership check"):
                log.exception("leadership check failed")
            self._drop_connection()
            leading = False
        if leading and not self.leading:
            log.warning("instance %s now leads %s", self.instance, self.name)
        self.leading = leading
        return leading

    def _advisory(self) -> bool:
        if self._conn is not None:
            # Still holding? A broken connection means the lock is gone. Commit, so the session is
            # never left "idle in transaction" (a server timeout would kill it, and the lock).
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        conn = self.store.engine.connect()
        got = bool(
            conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(self.name)}).scalar()
        )
        conn.commit()
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def _lease(self, now: datetime) -> bool:
        with self.store.transaction() as session:
            row = session.get(LeaseRow, self.name, with_for_update=True)
            if row is None:
                session.add(
                    LeaseRow(
                        name=self.name,
                        holder=self.instance,
                        pid=os.getpid(),
                        host=socket.gethostname(),
                        since=now,
                        expires_at=now + self.ttl,
                    )
                )
                return True
            if row.holder == self.instance or row.expires_at <= now:
                if row.holder != self.instance:
                    row.holder, row.pid, row.host, row.since = (
                        self.instance,
                        os.getpid(),
                        socket.gethostname(),
                        now,
                    )
                row.expires_at = now + self.ttl
                return True
            return False

    def _record(self, now: datetime) -> None:
        if not self._postgres:
            return
        with self.store.transaction() as session:
            row = session.get(LeaseRow, self.name)
            if row is None:
                session.add(
                    LeaseRow(
                        name=self.name,
                        holder=self.instance,
                        pid=os.getpid(),
                        host=socket.gethostname(),
                        since=now,
                        expires_at=now + self.ttl,
                    )
                )
            elif row.holder != self.instance:
                row.holder, row.pid, row.host, row.since = (
                    self.instance,
                    os.getpid(),
                    socket.gethostname(),
                    now,
                )
                row.expires_at = now + self.ttl
            else:
                row.expires_at = now + self.ttl

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                # Never hand a connection that may still hold the lock back to the pool.
                self._conn.invalidate()
                self._conn.close()
            except Exception:
                log.debug("closing the leadership connection failed", exc_info=True)
            self._conn = None

    def release(self) -> None:
        """Step down (graceful shutdown): a standby takes over at its next tick."""
        if self._postgres:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(self.name)})
                    self._conn.commit()
                finally:
                    self._drop_connection()
        elif self.leading:
            with self.store.transaction() as session:
                row = session.get(LeaseRow, self.name)
                if row is not None and row.holder == self.instance:
                    row.expires_at = datetime.now(UTC)
        self.leading = False

    def holder(self) -> LeaseRow | None:
        with self.store.sessions() as session:
            return session.get(LeaseRow, self.name)
