"""What the status page shows, read from the store: plain dataclasses the templates only lay out.

Kept apart from the web routes so the queries can be read (and tested) without HTTP, and so the
templates never touch the store. Every text here is untrusted page content or a subscriber's
name: the templates escape it (Jinja2 autoescape), nothing is marked safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relays import events as ev
from relays.audit import AuditRow, audit
from relays.store import AlertRow, DeliveryRow, EventRow, SourceRow, Store, SubscriberRow

HISTORY = 20
DEAD_SHOWN = 20
KIND_LABELS = {
    "alert_opened": "Alerte ouverte",
    "bulletin": "Bulletin d'information",
    "alert_closed": "Fin d'alerte",
    "interruption_planned": "Interruption programmée",
    "source_degraded": "Source dégradée",
    "source_recovered": "Source rétablie",
    "subscriber_deactivated": "Abonné désactivé",
}
LEVELS = {"red": "Alerte rouge", "black": "Alerte noire"}
STATUS_ORDER = ("pending", "sending", "sent", "failed", "dead", "skipped")
#: A delivery status as staff read it, and the badge colour class the template gives it.
DELIVERY_STATUS = {
    "sent": ("envoyé", "sent"),
    "pending": ("en attente", "pending"),
    "sending": ("en cours", "pending"),
    "failed": ("refusé", "dead"),
    "dead": ("échec", "dead"),
    "skipped": ("annulé", "none"),
    "none": ("aucun", "none"),
    "pending alert": ("alerte en cours", "none"),
}


@dataclass(frozen=True, slots=True)
class Health:
    state: str  # "ok" | "late" | "degraded" | "never"
    label: str
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
    level_label: str
    title: str
    text: str
    published_at: datetime | None
    opened_at: datetime
    closed_at: datetime | None
    status: str
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
    seq: int
    kind: str
    label: str
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
    event_kind: str
    event_label: str
    alert_id: str | None
    services: tuple[str, ...]
    channel: str
    client: str
    attempts: int
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Outbox:
    counts: dict[str, int]
    due: int  # pending and due now
    scheduled: int  # pending, due later (reminders)
    oldest_due_at: datetime | None
    dead: tuple[DeadLetter, ...]


@dataclass(frozen=True, slots=True)
class Status:
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


def health(row: SourceRow | None, *, now: datetime, max_age: timedelta) -> Health:
    if row is None or row.last_ok_at is None:
        state, label = "never", "Aucun relevé réussi de la météo des téléservices"
    elif row.degraded:
        state, label = "degraded", "Source dégradée : la page ne peut plus être lue"
    elif now - row.last_ok_at > max_age:
        state, label = "late", "Relevés en retard"
    else:
        state, label = "ok", "Météo des téléservices lue normalement"
    if row is None:
        return Health(state, label, None, None, 0, None, None)
    return Health(
        state, label, row.last_ok_at, row.last_poll_at, row.consecutive_bad, row.bad_since, row.last_error
    )


def _alert(row: AlertRow, bulletins: Sequence[Bulletin] = ()) -> Alert:
    return Alert(
        id=row.id,
        services=tuple(row.services),
        modes=tuple(row.modes),
        level=row.level,
        level_label=LEVELS.get(row.level or "", "Niveau non précisé"),
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
    label = KIND_LABELS.get(event.kind, event.kind)
    if isinstance(event, ev.BulletinPublished) and event.number is not None:
        label = f"BIP n°{event.number}"
    elif isinstance(event, ev.AlertClosed) and event.inferred:
        label = "Fin d'alerte (déduite)"
    return HistoryLine(
        seq=seq,
        kind=event.kind,
        label=label,
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
        .where(EventRow.kind == "bulletin", EventRow.alert_id.in_(alert_ids))
        .order_by(EventRow.seq)
    )
    for row in rows:
        out[row.alert_id or ""].append(_bulletin(ev.load(row.payload)))
    return out


def _interruptions(session: Session, now: datetime) -> list[Interruption]:
    rows = session.scalars(
        select(EventRow)
        .where(EventRow.kind == "interruption_planned")
        .order_by(EventRow.seq.desc())
        .limit(200)
    )
    out = []
    for row in rows:
        event = ev.load(row.payload)
        assert isinstance(event, ev.InterruptionPlanned)
        if event.ends_at is not None:
            upcoming = event.ends_at > now
        else:
            upcoming = event.starts_at is not None and event.starts_at > now
        if upcoming:
            out.append(
                Interruption(
                    event.services, event.modes, event.starts_at, event.ends_at, event.title, event.text
                )
            )
    return sorted(out, key=lambda i: i.starts_at or i.ends_at or now)


def _outbox(session: Session, now: datetime) -> Outbox:
    counts = {
        str(s): int(n)
        for s, n in session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status))
    }
    pending = DeliveryRow.status == "pending"
    due = int(session.scalar(select(func.count()).where(pending, DeliveryRow.due_at <= now)) or 0)
    oldest = session.scalar(select(func.min(DeliveryRow.due_at)).where(pending, DeliveryRow.due_at <= now))
    dead_rows = session.execute(
        select(DeliveryRow, EventRow, SubscriberRow.client)
        .join(EventRow, EventRow.id == DeliveryRow.event_id)
        .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
        .where(DeliveryRow.status == "dead")
        .order_by(DeliveryRow.id.desc())
        .limit(DEAD_SHOWN)
    ).all()
    dead = tuple(
        DeadLetter(
            d.id,
            e.kind,
            _line(e.seq, ev.load(e.payload)).label,
            e.alert_id,
            tuple(e.payload.get("services") or ()),
            d.channel,
            client,
            d.attempts,
            d.last_error,
            d.created_at,
        )
        for d, e, client in dead_rows
    )
    ordered = {s: counts.get(s, 0) for s in STATUS_ORDER} | counts
    return Outbox(ordered, due, counts.get("pending", 0) - due, oldest, dead)


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


def status(store: Store, *, source_name: str, now: datetime, max_age: timedelta) -> Status:
    """Everything the status page shows, read in one session."""
    with store.sessions() as session:
        source = session.get(SourceRow, source_name)
        open_rows = list(
            session.scalars(select(AlertRow).where(AlertRow.status == "open").order_by(AlertRow.opened_at))
        )
        bulletins = _bulletins(session, [r.id for r in open_rows])
        recent = session.scalars(select(EventRow).order_by(EventRow.seq.desc()).limit(HISTORY))
        return Status(
            now=now,
            health=health(source, now=now, max_age=max_age),
            alerts=tuple(_alert(r, bulletins[r.id]) for r in open_rows),
            interruptions=tuple(_interruptions(session, now)),
            history=tuple(_line(r.seq, ev.load(r.payload)) for r in recent),
            outbox=_outbox(session, now),
            subscribers=_subscribers(session),
        )


def alert_page(store: Store, alert_id: str, *, now: datetime) -> AlertPage | None:
    """One alert (open or closed), its events and the per-subscriber delivery audit; None if unknown."""
    with store.sessions() as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            return None
        bulletins = _bulletins(session, [row.id])[row.id]
        alert = _alert(row, bulletins)
        events = session.scalars(select(EventRow).where(EventRow.alert_id == alert_id).order_by(EventRow.seq))
        history = tuple(_line(r.seq, ev.load(r.payload)) for r in events)
    return AlertPage(now=now, alert=alert, history=history, audit=tuple(audit(store, alert_id)))
