"""The read side: what the status page, the chat bots and the CLI show, as frozen dataclasses.

The write side (the poll's transaction, the fan-out, the sender, subscriber changes) owns the
ORM rows; the front-ends read through this module only, so a page, a ``/status`` reply and a
command summary are built from the same queries and never from rows. Every function opens its own
session, reads, and returns plain data; a store that cannot be read raises
:class:`~relays.errors.StoreError` (translated from SQLAlchemy here, at the boundary).

Texts in these records are untrusted (page content, subscribers' names): whoever shows them
escapes them for their medium.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import events as ev
from .audit import AuditRow, audit
from .errors import StoreError
from .fanout import withdrawn
from .outbox import DeliveryStatus
from .storage import store_fault
from .store import AlertRow, DeliveryRow, EventRow, SourceRow, Store, SubscriberRow

__all__ = [
    "Alert",
    "AlertPage",
    "Bulletin",
    "DeadLetter",
    "EventPage",
    "Gauges",
    "Health",
    "HealthState",
    "HistoryLine",
    "Interruption",
    "Outbox",
    "Source",
    "Status",
    "Undelivered",
    "alert_page",
    "gauges",
    "health",
    "interruption_events",
    "last_end",
    "last_success",
    "open_alerts",
    "ping",
    "public_events",
    "scheduled_later",
    "sources",
    "status",
    "undelivered",
    "upcoming_interruptions",
]

HISTORY = 20  # events in the status page's history
DEAD_SHOWN = 20  # dead letters listed on the status page
INTERRUPTIONS_SCANNED = 200  # the most recent announcements looked at for upcoming windows


# --- records ------------------------------------------------------------------------------------
class HealthState(StrEnum):
    OK = "ok"  # read normally
    LATE = "late"  # the last good read is older than allowed
    DEGRADED = "degraded"  # the page cannot be read any more
    NEVER = "never"  # never read successfully


@dataclass(frozen=True, slots=True)
class Source:
    """What the store knows of one polled source."""

    name: str
    degraded: bool
    consecutive_bad: int
    bad_since: datetime | None
    last_error: str | None
    last_ok_at: datetime | None
    last_poll_at: datetime | None


@dataclass(frozen=True, slots=True)
class Health:
    state: HealthState
    last_ok_at: datetime | None
    last_poll_at: datetime | None
    consecutive_bad: int
    bad_since: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Bulletin:
    number: int | None
    published_at: datetime | None
    detected_at: datetime
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    services: tuple[str, ...]
    modes: tuple[str, ...]
    level: str | None
    title: str
    text: str
    published_at: datetime | None
    opened_at: datetime  # when the relay first saw it
    closed_at: datetime | None
    status: str  # "open" | "closed"
    bulletins: tuple[Bulletin, ...] = ()

    @property
    def latest_bulletin(self) -> Bulletin | None:
        return self.bulletins[-1] if self.bulletins else None

    @property
    def since(self) -> datetime:
        """When the alert started for the age shown: its publication, else when we saw it."""
        return self.published_at or self.opened_at


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One recorded event, as a line of history."""

    seq: int
    kind: str
    number: int | None  # a bulletin's number
    inferred: bool  # an end of alert deduced from the alert's absence
    detected_at: datetime
    alert_id: str | None
    services: tuple[str, ...]
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Interruption:
    services: tuple[str, ...]
    modes: tuple[str, ...]
    starts_at: datetime | None
    ends_at: datetime | None
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    delivery_id: int
    kind: str  # of the event it was for
    number: int | None
    inferred: bool
    alert_id: str | None
    services: tuple[str, ...]
    channel: str
    client: str
    attempts: int
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Outbox:
    counts: dict[str, int]  # by status, every status present
    due: int  # pending and due now
    scheduled: int  # pending, due later (reminders)
    oldest_due_at: datetime | None
    dead: tuple[DeadLetter, ...]


@dataclass(frozen=True, slots=True)
class Status:
    """Everything the status page shows."""

    now: datetime
    health: Health
    alerts: tuple[Alert, ...]
    interruptions: tuple[Interruption, ...]
    history: tuple[HistoryLine, ...]
    outbox: Outbox
    subscribers: dict[str, tuple[int, int]]  # channel → (active, inactive)


@dataclass(frozen=True, slots=True)
class AlertPage:
    now: datetime
    alert: Alert
    history: tuple[HistoryLine, ...]
    audit: tuple[AuditRow, ...]


@dataclass(frozen=True, slots=True)
class EventPage:
    """Events read for a machine, each with its cursor (the store's sequence number)."""

    events: tuple[tuple[int, ev.Event], ...]
    more: bool  # the limit cut the list short


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the metrics read from the store at each scrape."""

    depth: dict[str, int]  # outbox rows by status (pending, sending, dead)
    open_alerts: int
    last_success: datetime | None


# --- the session --------------------------------------------------------------------------------
@contextmanager
def _reading(store: Store) -> Iterator[Session]:
    try:
        with store.sessions() as session:
            yield session
    except SQLAlchemyError as exc:  # one line: the fault named when it is the storage's
        orig = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__]
        fault = store_fault(exc, store.engine.url)
        raise fault or StoreError(f"the store cannot be read: {orig[0]}", reason="unreadable") from exc


def ping(store: Store) -> str | None:
    """None when the store answers, else the name of the error it gave (for ``/readyz``)."""
    try:
        with store.sessions() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return type(exc).__name__
    return None


# --- sources ------------------------------------------------------------------------------------
def _source(row: SourceRow) -> Source:
    return Source(
        name=row.name,
        degraded=row.degraded,
        consecutive_bad=row.consecutive_bad,
        bad_since=row.bad_since,
        last_error=row.last_error,
        last_ok_at=row.last_ok_at,
        last_poll_at=row.last_poll_at,
    )


def sources(store: Store) -> tuple[Source, ...]:
    """Every source the relay has polled."""
    with _reading(store) as session:
        return tuple(_source(row) for row in session.scalars(select(SourceRow)))


def last_success(store: Store, source_name: str) -> datetime | None:
    """When ``source_name`` was last read successfully (right across restarts and instances)."""
    with _reading(store) as session:
        row = session.get(SourceRow, source_name)
        return row.last_ok_at if row else None


def health(source: Source | None, *, now: datetime, max_age: timedelta) -> Health:
    """How one source is doing: never read, degraded, late (no good read within ``max_age``) or ok."""
    if source is None or source.last_ok_at is None:
        state = HealthState.NEVER
    elif source.degraded:
        state = HealthState.DEGRADED
    elif now - source.last_ok_at > max_age:
        state = HealthState.LATE
    else:
        state = HealthState.OK
    if source is None:
        return Health(state, None, None, 0, None, None)
    return Health(
        state,
        source.last_ok_at,
        source.last_poll_at,
        source.consecutive_bad,
        source.bad_since,
        source.last_error,
    )


# --- alerts and events --------------------------------------------------------------------------
def _alert(row: AlertRow, bulletins: Sequence[Bulletin] = ()) -> Alert:
    return Alert(
        id=row.id,
        services=tuple(row.services),
        modes=tuple(row.modes),
        level=row.level,
        title=row.title,
        text=row.text,
        published_at=row.published_at,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        status=row.status,
        bulletins=tuple(bulletins),
    )


def _bulletin(event: ev.Event) -> Bulletin:
    assert isinstance(event, ev.BulletinPublished)
    return Bulletin(event.number, event.published_at, event.detected_at, event.title, event.text)


def _line(seq: int, event: ev.Event) -> HistoryLine:
    record = ev.to_record(event)
    return HistoryLine(
        seq=seq,
        kind=event.kind,
        number=event.number if isinstance(event, ev.BulletinPublished) else None,
        inferred=isinstance(event, ev.AlertClosed) and event.inferred,
        detected_at=event.detected_at,
        alert_id=record["alert_id"],
        services=tuple(record["services"]),
        title=record["title"] or "",
        text=record["text"] or "",
    )


def _bulletins(session: Session, alert_ids: Sequence[str]) -> dict[str, list[Bulletin]]:
    out: dict[str, list[Bulletin]] = {a: [] for a in alert_ids}
    if not alert_ids:
        return out
    rows = session.scalars(
        select(EventRow)
        .where(EventRow.kind == ev.BulletinPublished.kind, EventRow.alert_id.in_(alert_ids))
        .order_by(EventRow.seq)
    )
    for row in rows:
        out[row.alert_id or ""].append(_bulletin(ev.load(row.payload)))
    return out


def _open_alerts(session: Session) -> tuple[Alert, ...]:
    rows = list(
        session.scalars(select(AlertRow).where(AlertRow.status == "open").order_by(AlertRow.opened_at))
    )
    bulletins = _bulletins(session, [r.id for r in rows])
    return tuple(_alert(r, bulletins[r.id]) for r in rows)


def open_alerts(store: Store) -> tuple[Alert, ...]:
    """The alerts open now, oldest first, each with its bulletins in order."""
    with _reading(store) as session:
        return _open_alerts(session)


def _upcoming(session: Session, now: datetime) -> tuple[Interruption, ...]:
    rows = session.scalars(
        select(EventRow)
        .where(EventRow.kind == ev.InterruptionPlanned.kind)
        .order_by(EventRow.seq.desc())
        .limit(INTERRUPTIONS_SCANNED)
    )
    found: list[Interruption] = []  # latest announcement first, so it wins a tie
    cancelled = withdrawn(session)
    for row in rows:
        if row.id in cancelled:
            continue
        event = ev.load(row.payload)
        assert isinstance(event, ev.InterruptionPlanned)
        if event.ends_at is not None:
            upcoming = event.ends_at > now
        else:
            upcoming = event.starts_at is not None and event.starts_at > now
        if upcoming:
            found.append(
                Interruption(
                    event.services, event.modes, event.starts_at, event.ends_at, event.title, event.text
                )
            )
    return tuple(sorted(found, key=lambda i: i.starts_at or i.ends_at or now))


def public_events(
    store: Store,
    *,
    kinds: Sequence[str],
    keep: Callable[[ev.Event], bool] = lambda event: True,
    after: int = 0,
    since: datetime | None = None,
    newest: bool = False,
    limit: int = 100,
) -> EventPage:
    """Events of ``kinds`` that ``keep`` accepts: after the cursor ``after`` and detected after
    ``since``, oldest first (or the ``limit`` newest, newest first)."""
    with _reading(store) as session:
        query = select(EventRow).where(EventRow.kind.in_(list(kinds)))
        if since is not None:
            query = query.where(EventRow.detected_at > since)
        if newest:
            query = query.order_by(EventRow.seq.desc())
        else:
            query = query.where(EventRow.seq > after).order_by(EventRow.seq)
        found: list[tuple[int, ev.Event]] = []
        for row in session.scalars(query.execution_options(yield_per=500)):
            try:
                event = ev.load(row.payload)
            except (KeyError, TypeError, ValueError):  # a kind from a newer version: not ours to show
                continue
            if not keep(event):
                continue
            if len(found) == limit:
                return EventPage(tuple(found), more=True)
            found.append((row.seq, event))
        return EventPage(tuple(found), more=False)


def interruption_events(store: Store) -> tuple[ev.Event, ...]:
    """Every planned interruption and every withdrawal, in the order they were recorded."""
    kinds = (ev.InterruptionPlanned.kind, ev.InterruptionCancelled.kind)
    with _reading(store) as session:
        rows = session.scalars(select(EventRow).where(EventRow.kind.in_(kinds)).order_by(EventRow.seq))
        return tuple(ev.load(row.payload) for row in rows)


def upcoming_interruptions(store: Store, now: datetime) -> tuple[Interruption, ...]:
    """Planned interruptions not over yet (by the end of their window, else by its start; one with no
    window at all, or withdrawn since, is not listed), soonest first."""
    with _reading(store) as session:
        return _upcoming(session, now)


def last_end(store: Store, services: Sequence[str] = ()) -> ev.AlertClosed | None:
    """The most recent end of alert, preferring one about ``services`` when some are given."""
    with _reading(store) as session:
        rows = session.scalars(
            select(EventRow).where(EventRow.kind == ev.AlertClosed.kind).order_by(EventRow.seq)
        )
        ends = [e for e in (ev.load(r.payload) for r in rows) if isinstance(e, ev.AlertClosed)]
    mine = [e for e in ends if not services or set(services) & set(e.services)]
    found = mine or ends
    return found[-1] if found else None


# --- the outbox ---------------------------------------------------------------------------------
def _outbox(session: Session, now: datetime) -> Outbox:
    counts = {
        str(s): int(n)
        for s, n in session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status))
    }
    pending = DeliveryRow.status == DeliveryStatus.PENDING
    due = int(session.scalar(select(func.count()).where(pending, DeliveryRow.due_at <= now)) or 0)
    oldest = session.scalar(select(func.min(DeliveryRow.due_at)).where(pending, DeliveryRow.due_at <= now))
    dead_rows = session.execute(
        select(DeliveryRow, EventRow, SubscriberRow.client)
        .join(EventRow, EventRow.id == DeliveryRow.event_id)
        .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
        .where(DeliveryRow.status == DeliveryStatus.DEAD)
        .order_by(DeliveryRow.id.desc())
        .limit(DEAD_SHOWN)
    ).all()
    dead = []
    for d, e, client in dead_rows:
        line = _line(e.seq, ev.load(e.payload))
        dead.append(
            DeadLetter(
                d.id,
                e.kind,
                line.number,
                line.inferred,
                e.alert_id,
                tuple(e.payload.get("services") or ()),
                d.channel,
                client,
                d.attempts,
                d.last_error,
                d.created_at,
            )
        )
    ordered = {str(s): counts.get(s, 0) for s in DeliveryStatus} | counts
    return Outbox(ordered, due, counts.get(DeliveryStatus.PENDING, 0) - due, oldest, tuple(dead))


def scheduled_later(store: Store, now: datetime) -> int:
    """Deliveries waiting for a moment still ahead (the reminders)."""
    with _reading(store) as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    DeliveryRow.status == DeliveryStatus.PENDING, DeliveryRow.due_at > now
                )
            )
            or 0
        )


def _subscribers(session: Session) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    rows = session.execute(
        select(SubscriberRow.channel, SubscriberRow.active, func.count()).group_by(
            SubscriberRow.channel, SubscriberRow.active
        )
    )
    for channel, active, n in rows:
        out.setdefault(channel, [0, 0])[0 if active else 1] += int(n)
    return {channel: (a, i) for channel, (a, i) in sorted(out.items())}


# --- the pages ----------------------------------------------------------------------------------
def status(store: Store, *, source_name: str, now: datetime, max_age: timedelta) -> Status:
    """Everything the status page shows, read in one session."""
    with _reading(store) as session:
        source = session.get(SourceRow, source_name)
        recent = session.scalars(select(EventRow).order_by(EventRow.seq.desc()).limit(HISTORY))
        return Status(
            now=now,
            health=health(_source(source) if source else None, now=now, max_age=max_age),
            alerts=_open_alerts(session),
            interruptions=_upcoming(session, now),
            history=tuple(_line(r.seq, ev.load(r.payload)) for r in recent),
            outbox=_outbox(session, now),
            subscribers=_subscribers(session),
        )


def alert_page(store: Store, alert_id: str, *, now: datetime) -> AlertPage | None:
    """One alert (open or closed), its events and the per-subscriber delivery audit; None if unknown."""
    with _reading(store) as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            return None
        alert = _alert(row, _bulletins(session, [row.id])[row.id])
        events = session.scalars(select(EventRow).where(EventRow.alert_id == alert_id).order_by(EventRow.seq))
        history = tuple(_line(r.seq, ev.load(r.payload)) for r in events)
        rows = tuple(audit(store, alert_id))
    return AlertPage(now=now, alert=alert, history=history, audit=rows)


# --- metrics ------------------------------------------------------------------------------------
#: Outbox statuses reported as depth (the others are final and only grow).
DEPTH_STATUSES: tuple[DeliveryStatus, ...] = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.DEAD,
)


def gauges(store: Store, source_name: str | None = None) -> Gauges:
    """Outbox depth, open alerts and the last good read (of ``source_name``, else of any source)."""
    with _reading(store) as session:
        depth = {
            str(status): int(n)
            for status, n in session.execute(
                select(DeliveryRow.status, func.count())
                .where(DeliveryRow.status.in_(DEPTH_STATUSES))
                .group_by(DeliveryRow.status)
            )
        }
        n_open = int(
            session.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.status == "open")) or 0
        )
        query = select(func.max(SourceRow.last_ok_at))
        if source_name is not None:
            query = query.where(SourceRow.name == source_name)
        last = session.scalar(query)
    # func.max bypasses the column type on some dialects: make sure the time is aware UTC
    if isinstance(last, datetime) and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return Gauges(depth, n_open, last if isinstance(last, datetime) else None)


@dataclass(frozen=True, slots=True)
class Undelivered:
    """What a one-off delivery (``replay --deliver``) leaves owed: due now, or failed and waiting for
    a retry — as opposed to reminders whose moment is still ahead."""

    retrying: int  # failed, to be tried again
    queued: int  # due now, not tried: behind a failed message to the same subscriber, or held back
    unconfigured: dict[str, int]  # due now for a channel this process cannot send through
    later: int  # reminders due later (not owed yet)

    @property
    def owed(self) -> int:
        return self.retrying + self.queued + sum(self.unconfigured.values())


def undelivered(store: Store, now: datetime, channels: Sequence[str]) -> Undelivered:
    """The pending deliveries, by what keeps them from being sent now (see :class:`Undelivered`)."""
    pending = DeliveryRow.status == DeliveryStatus.PENDING
    # Grouped by the labels: PostgreSQL sees two `due_at <= $n` with their own parameters as two
    # different expressions, and refuses the query.
    tried_label, due_label = (
        (DeliveryRow.attempts > 0).label("tried"),
        (DeliveryRow.due_at <= now).label("due"),
    )
    with _reading(store) as session:
        rows = session.execute(
            select(DeliveryRow.channel, tried_label, due_label, func.count())
            .where(pending)
            .group_by(DeliveryRow.channel, tried_label, due_label)
        ).all()
    retrying = queued = later = 0
    unconfigured: dict[str, int] = {}
    for channel, tried, due, n in rows:
        if channel not in channels and (due or tried):
            unconfigured[channel] = unconfigured.get(channel, 0) + int(n)
        elif tried:
            retrying += int(n)
        elif due:
            queued += int(n)
        else:
            later += int(n)
    return Undelivered(retrying, queued, dict(sorted(unconfigured.items())), later)


# --- secrets the logs must never show -------------------------------------------------------------
def secrets(store: Store) -> list[str]:
    """What the store holds that no log may show: unused invite codes and the secret parts of the
    active subscribers' addresses (``run`` registers them with ``relays.logs`` at start)."""
    from .store import InviteRow
    from .subscribers import address_secrets

    with _reading(store) as session:
        codes = list(session.scalars(select(InviteRow.code).where(InviteRow.used_at.is_(None))))
        addresses = session.execute(
            select(SubscriberRow.channel, SubscriberRow.address).where(SubscriberRow.active.is_(True))
        ).all()
    return codes + [part for channel, address in addresses for part in address_secrets(channel, address)]
