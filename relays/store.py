"""The durable store (SQLAlchemy): alerts, events and the health of each source.

One poll is one transaction: the prior state is read, the pure lifecycle diff runs, and its events,
the alert changes, the source's health and (through ``on_events``) the outbox rows are written
together — a crash can never record an event without its deliveries or the reverse. Event ids are
primary keys, so the same event can never be stored twice.

SQLite (a file) is the embedded default; PostgreSQL works by URL. Opening a database, its faults
and their memory while running are :mod:`relays.storage`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from . import events as ev
from . import storage
from .errors import StoreError
from .outbox import DeliveryStatus, Purpose

if TYPE_CHECKING:  # the lifecycle is imported by what records polls or reads alerts, not by every user
    from .lifecycle import AlertState, Failure, Outcome, Prior, Rules, SourceState
    from .snapshot import Snapshot


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database (SQLite keeps no offsets)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class AlertRow(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    services: Mapped[list[str]] = mapped_column(JSON)
    modes: Mapped[list[str]] = mapped_column(JSON)
    level: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), index=True)
    absent_polls: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inferred_close: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reopened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    announced_services: Mapped[list[str] | None] = mapped_column(JSON)
    announced_modes: Mapped[list[str] | None] = mapped_column(JSON)
    stated_level: Mapped[str | None] = mapped_column(String(16))
    old_ends: Mapped[list[str] | None] = mapped_column(JSON)
    aliases: Mapped[list[str] | None] = mapped_column(JSON)
    bips: Mapped[list[str] | None] = mapped_column(JSON)
    level_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventRow(Base):
    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    alert_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("alerts.id"), index=True)
    source: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class SourceRow(Base):
    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    consecutive_bad: Mapped[int] = mapped_column(Integer, default=0)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    bad_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    high_water: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubscriberRow(Base):
    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_subscriber_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(Text)
    client: Mapped[str] = mapped_column(Text)
    eori: Mapped[str | None] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(2), default="fr")
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    role: Mapped[str] = mapped_column(String(8), default="client")  # "client" | "admin"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # company, address, phone…
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_reason: Mapped[str | None] = mapped_column(Text)


class DeliveryRow(Base):
    """One message owed to one subscriber: the outbox. Unique per (event, subscriber, purpose)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber_id", "purpose", name="uq_delivery"),
        Index("ix_deliveries_due", "status", "due_at"),
        Index("ix_deliveries_claim", "status", "due_at", "event_seq", "id"),  # the sender's order
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(128), ForeignKey("events.id"))
    event_seq: Mapped[int] = mapped_column(Integer)
    subscriber_id: Mapped[int] = mapped_column(Integer, ForeignKey("subscribers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32), default=Purpose.NOTIFY)
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ref: Mapped[str | None] = mapped_column(Text)
    thread_ref: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)


class FanoutRow(Base):
    """The subscribers an event still owes a delivery row for (one purpose): a fan-out being
    written in steps (relays.fanout). The rows and this list change in the same transaction, so
    a subscriber is always either here or in ``deliveries``, never both, never neither."""

    __tablename__ = "fanouts"

    event_id: Mapped[str] = mapped_column(String(128), ForeignKey("events.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subscriber_ids: Mapped[list[int]] = mapped_column(JSON)


class WebhookSecretRow(Base):
    """A webhook subscriber's signing secret (relays.webhook_secrets): apart from the subscriber's
    row, so nothing that lists or exports subscribers can show it."""

    __tablename__ = "webhook_secrets"

    subscriber_id: Mapped[int] = mapped_column(Integer, ForeignKey("subscribers.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InviteRow(Base):
    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(Text)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[str | None] = mapped_column(Text)


class LeaseRow(Base):
    """Who leads a singleton job (the poller) among instances sharing the database."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(200))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SenderBeatRow(Base):
    """A sender alive now: its claims (``deliveries.claimed_by``) are its as long as it beats.

    Each sender of ``run`` beats every second; a sender whose beat is a few seconds stale is dead,
    and another takes its claimed rows back at once (relays.sender), not after the lease.
    """

    __tablename__ = "sender_beats"

    worker: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)


EventHook = Callable[[Session, list[ev.Event]], None]


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for ``url`` (see :func:`relays.storage.make_engine`: a bad URL is a ConfigError)."""
    return storage.make_engine(url, read_only=read_only)


#: What :meth:`Store.open` does with the schema (see there).
SchemaPolicy = Literal["upgrade", "upgrade_apart", "check", "as_is"]

#: How many recently closed alerts a poll compares its messages with (a stale copy, an old message).
RECENT_CLOSED = 50


class Store:
    """The relay's database. Build it with :meth:`open`; nothing connects at import time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        #: whether a write failed for a storage fault and none has gone through since (see ``run``)
        self.health = storage.StoreHealth(engine.url)

    @classmethod
    def open(cls, url: str, *, schema: SchemaPolicy = "upgrade", read_only: bool = False) -> Store:
        """Connect, and see to the schema as ``schema`` says (:mod:`relays.migrate`):

        ``"upgrade"`` brings it to the latest migration (``db upgrade``, the tests);
        ``"upgrade_apart"`` too, with Alembic run in a child process (``run``: the long-running
        process never carries Alembic, see :func:`relays.migrate.upgrade_apart`);
        ``"check"`` creates a brand-new empty store but refuses one whose schema is not this
        version's (every other command: a store is never upgraded behind its operator's back);
        ``"as_is"`` touches nothing (the caller copes with whatever is there).

        ``read_only``: never write (a SQLite file is opened read-only, and not created); the schema
        must already be the latest. A URL that cannot be used raises
        :class:`~relays.errors.ConfigError`; a database that cannot be opened, read or (unless
        ``read_only``) written, :class:`~relays.errors.StoreError` — nothing is written then.
        """
        from . import migrate as migrations

        engine = make_engine(url, read_only=read_only)  # a URL that cannot be used: ConfigError
        path = storage.sqlite_path(url) if read_only else None
        if path is not None and not path.is_file():
            engine.dispose()
            if not path.parent.is_dir():
                raise StoreError(
                    f"cannot open the SQLite file ({path}): its folder {path.parent} does not exist",
                    reason="cannot_open",
                )
            raise StoreError(
                f"no store at {path} yet: nothing has been recorded there "
                "(`prodouane-relay db upgrade` creates it)",
                reason="empty",
            )
        store = cls(engine)
        try:
            if read_only:
                found = migrations.schema(store.engine)
                if found.current is None and found.empty:
                    raise StoreError(
                        f"no store at {storage.shown_url(url)} yet: nothing has been recorded there "
                        "(`prodouane-relay db upgrade` creates it)",
                        reason="empty",
                    )
                if not found.ready:
                    raise migrations.behind(found, storage.shown_url(url))
            elif schema != "as_is":
                if schema == "upgrade":
                    migrations.upgrade(store.engine)
                elif schema == "upgrade_apart":
                    migrations.upgrade_apart(store.engine)
                else:
                    migrations.check(store.engine, storage.shown_url(url))
                storage.probe_write(store.engine)
        except StoreError:
            store.close()
            raise
        except SQLAlchemyError as exc:
            store.close()
            fault = storage.store_fault(exc, url)
            if fault is None:
                raise
            raise fault from exc
        return store

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    # --- polls -------------------------------------------------------------------------------
    def record_poll(
        self,
        source_name: str,
        location: str,
        observation: Snapshot | Failure,
        *,
        now: datetime,
        rules: Rules | None = None,
        on_events: EventHook | None = None,
    ) -> list[ev.Event]:
        """Diff one observation against the store and record the outcome in one transaction.

        A storage fault (disk full, writes refused…) raises :class:`~relays.errors.StoreError` and
        records nothing: the same observation diffed again later gives the same events. The first
        poll recorded after such a fault also records :class:`~relays.events.StoreRecovered` for
        the admins (it is not among the events returned: it is not the page's). ``rules``: the
        lifecycle's defaults when not given.
        """
        from .lifecycle import Rules, observe

        fault = self.health.fault
        try:
            with self.transaction() as session:
                prior = self._prior(session, source_name, observation)
                outcome = observe(prior, observation, location=location, now=now, rules=rules or Rules())
                self._write(session, outcome, now)
                new_events = list(outcome.events)
                notices: list[ev.Event] = [_recovered(fault, now)] if fault is not None else []
                for notice in notices:
                    session.add(_event_row(notice))
                if on_events is not None and (new_events or notices):
                    on_events(session, new_events + notices)
        except SQLAlchemyError as exc:
            if not self.health.note(exc, doing="recording the poll"):
                raise
            raise storage.store_fault(exc, self.engine.url) or exc from exc
        self.health.recovered()
        return new_events

    def _prior(self, session: Session, source_name: str, observation: Snapshot | Failure) -> Prior:
        from .lifecycle import Failure, Prior, SourceState, candidate_ids

        row = session.get(SourceRow, source_name, with_for_update=True)
        source = SourceState(name=source_name) if row is None else _source_state(row)
        open_rows = session.scalars(select(AlertRow).where(AlertRow.status == "open")).all()
        if isinstance(observation, Failure):
            return Prior(source=source, open_alerts=tuple(_alert_state(r) for r in open_rows))
        alert_ids, event_ids = candidate_ids(observation)
        known_rows = (
            session.scalars(select(AlertRow).where(AlertRow.id.in_(alert_ids))).all() if alert_ids else []
        )
        recent_rows = session.scalars(
            select(AlertRow)
            .where(AlertRow.status == "closed")
            .order_by(AlertRow.closed_at.desc())
            .limit(RECENT_CLOSED)
        ).all()
        related = {r.id for r in open_rows} | alert_ids
        known_events = set(session.scalars(select(EventRow.id).where(EventRow.alert_id.in_(related))).all())
        if event_ids:
            known_events |= set(session.scalars(select(EventRow.id).where(EventRow.id.in_(event_ids))).all())
        return Prior(
            source=source,
            open_alerts=tuple(_alert_state(r) for r in open_rows),
            known_alerts=tuple(_alert_state(r) for r in known_rows),
            recent_closed=tuple(_alert_state(r) for r in recent_rows),
            known_event_ids=frozenset(known_events),
        )

    def _write(self, session: Session, outcome: Outcome, now: datetime) -> None:
        for alert in outcome.alerts:
            row = session.get(AlertRow, alert.id)
            if row is None:
                row = AlertRow(id=alert.id, opened_at=now)
                session.add(row)
            row.services, row.modes, row.level = list(alert.services), list(alert.modes), alert.level
            row.title, row.text, row.published_at = alert.title, alert.text, alert.published_at
            row.status, row.absent_polls, row.closed_at = alert.status, alert.absent_polls, alert.closed_at
            row.inferred_close, row.reopened = alert.inferred_close, alert.reopened
            row.announced_services, row.announced_modes = (
                list(alert.announced_services),
                list(alert.announced_modes),
            )
            row.stated_level, row.level_at = alert.stated_level, alert.level_at
            row.old_ends, row.aliases, row.bips = list(alert.old_ends), list(alert.aliases), list(alert.bips)
        session.flush()
        for event_ in outcome.events:
            session.add(_event_row(event_))
        source = outcome.source
        row_s = session.get(SourceRow, source.name)
        if row_s is None:
            row_s = SourceRow(name=source.name)
            session.add(row_s)
        row_s.consecutive_bad, row_s.degraded, row_s.bad_since = (
            source.consecutive_bad,
            source.degraded,
            source.bad_since,
        )
        row_s.last_error, row_s.last_ok_at, row_s.last_poll_at = source.last_error, source.last_ok_at, now
        row_s.high_water = source.high_water
        session.flush()

    # --- reads -------------------------------------------------------------------------------
    def open_alerts(self) -> list[AlertState]:
        with self.sessions() as session:
            rows = session.scalars(
                select(AlertRow).where(AlertRow.status == "open").order_by(AlertRow.opened_at)
            )
            return [_alert_state(r) for r in rows]

    def alert(self, alert_id: str) -> AlertState | None:
        with self.sessions() as session:
            row = session.get(AlertRow, alert_id)
            return _alert_state(row) if row else None

    def events(
        self, *, after_seq: int = 0, kinds: tuple[str, ...] | None = None, alert_id: str | None = None
    ) -> list[tuple[int, ev.Event]]:
        with self.sessions() as session:
            query = select(EventRow).where(EventRow.seq > after_seq).order_by(EventRow.seq)
            if kinds:
                query = query.where(EventRow.kind.in_(kinds))
            if alert_id:
                query = query.where(EventRow.alert_id == alert_id)
            return [(r.seq, ev.load(r.payload)) for r in session.scalars(query)]

    def source(self, name: str) -> SourceState | None:
        with self.sessions() as session:
            row = session.get(SourceRow, name)
            return None if row is None else _source_state(row)


def _event_row(event_: ev.Event) -> EventRow:
    return EventRow(
        id=event_.id,
        kind=event_.kind,
        alert_id=getattr(event_, "alert_id", None),
        source=event_.source,
        detected_at=event_.detected_at,
        payload=ev.dump(event_),
    )


def _recovered(fault: storage.Fault, now: datetime) -> ev.StoreRecovered:
    return ev.StoreRecovered(
        id=f"store:recovered:{fault.since.isoformat()}",
        source="store",
        detected_at=now,
        since=fault.since,
        reason=fault.reason,
        error=fault.message,
    )


def _source_state(row: SourceRow) -> SourceState:
    from .lifecycle import SourceState

    return SourceState(
        name=row.name,
        consecutive_bad=row.consecutive_bad,
        degraded=row.degraded,
        bad_since=row.bad_since,
        last_error=row.last_error,
        last_ok_at=row.last_ok_at,
        high_water=row.high_water,
    )


def _alert_state(row: AlertRow) -> AlertState:
    from .lifecycle import AlertState

    return AlertState(
        id=row.id,
        services=tuple(row.services),
        modes=tuple(row.modes),
        level=row.level,
        title=row.title,
        text=row.text,
        published_at=row.published_at,
        status=row.status,
        absent_polls=row.absent_polls,
        closed_at=row.closed_at,
        inferred_close=bool(row.inferred_close),
        reopened=row.reopened or 0,
        announced_services=tuple(row.announced_services or row.services),
        announced_modes=tuple(row.announced_modes if row.announced_modes is not None else row.modes),
        stated_level=row.stated_level,
        level_at=row.level_at,
        old_ends=tuple(row.old_ends or ()),
        aliases=tuple(row.aliases or ()),
        bips=tuple(row.bips or ()),
    )
