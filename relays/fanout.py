"""Fan-out: events become deliveries, inside the transaction that records them.

:func:`enqueue` runs in the same transaction as :meth:`relays.store.Store.record_poll` (through
:func:`enqueue_hook`), so an event never exists without its deliveries nor the reverse: one row
per matching active subscriber and purpose (:func:`planned`), each unique per (event,
subscriber, purpose), so enqueueing twice does nothing. Reminders are created only when their
moment is still ahead; a re-announced interruption cancels the old window's pending reminders,
and a withdrawn one (``InterruptionCancelled``) its own.
:func:`catch_up` gives a subscriber who joins mid-outage what is already open (and
:func:`catch_up_many` many of them at once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Integer, String, Text, cast, exists, insert, literal, select, update
from sqlalchemy.orm import Session

from .events import AlertClosed, Event, InterruptionCancelled, InterruptionPlanned, load
from .outbox import DeliveryStatus, Policy, Purpose
from .store import AlertRow, DeliveryRow, EventRow, FanoutRow, Store, SubscriberRow, UTCDateTime
from .subscribers import Subscriber

__all__ = [
    "FIRST",
    "STEP",
    "catch_up",
    "catch_up_many",
    "complete",
    "enqueue",
    "enqueue_hook",
    "extend",
    "planned",
]


def planned(event: Event, now: datetime, policy: Policy) -> list[tuple[Purpose, datetime]]:
    """The messages one event owes a matching subscriber: (purpose, due_at)."""
    out = [(Purpose.NOTIFY, now)]
    if isinstance(event, AlertClosed):
        from .render import deadline_applies, deadline_of  # the renderer: only for an end of alert

        if not deadline_applies(event.services):
            return out
        moment = deadline_of(event) - policy.deadline_reminder_before
        if moment > now:
            out.append((Purpose.DEADLINE_REMINDER, moment))
    if isinstance(event, InterruptionPlanned) and event.starts_at is not None:
        before = event.starts_at - policy.interruption_reminder_before
        if before > now:
            out.append((Purpose.INTERRUPTION_REMINDER, before))
        if event.starts_at > now:
            out.append((Purpose.INTERRUPTION_START, event.starts_at))
    return out


#: Subscribers whose rows the recording transaction writes; the rest follow in steps of STEP
#: (:func:`extend`), while the first messages go out. About three seconds of Telegram's pace: a
#: PostgreSQL transaction writing 5,000 rows took 0.3 s, which the first message waited for.
FIRST = 100
STEP = 1000


def enqueue(
    session: Session,
    events: list[Event],
    *,
    now: datetime,
    policy: Policy = Policy(),
    first: int | None = None,
) -> int:
    """Fan events out to every matching active subscriber (call inside the recording transaction);
    returns how many delivery rows they owe.

    With ``first``, only the rows of the first ``first`` subscribers (by id, the same subscribers
    for every event of this call, so that nobody has a later event's row without the earlier's)
    are written now; the others are listed in ``fanouts`` for :func:`extend`. A fan-out left
    half-written (a process died between steps) is finished first, in this transaction: its
    messages precede these."""
    if not events:
        return 0
    session.flush()
    extend(session, limit=None)
    seqs = dict(
        session.execute(
            select(EventRow.id, EventRow.seq).where(EventRow.id.in_([e.id for e in events]))
        ).all()
    )
    subscribers = _active(session)
    existing = set(
        session.execute(
            select(DeliveryRow.event_id, DeliveryRow.subscriber_id, DeliveryRow.purpose).where(
                DeliveryRow.event_id.in_([e.id for e in events])
            )
        ).all()
    )
    owed: list[tuple[Event, Purpose, datetime, list[int]]] = []
    for event in events:
        if isinstance(event, InterruptionPlanned):
            _supersede_reminders(session, event)
        if isinstance(event, InterruptionCancelled):
            _skip_reminders(session, [event.interruption_id], f"withdrawn by {event.id}")
        matching = sorted(i for shape, ids in subscribers if shape.wants(event) for i in ids)
        for purpose, due_at in planned(event, now, policy):
            ids = [i for i in matching if (event.id, i, purpose) not in existing]
            owed.append((event, purpose, due_at, ids))
    everyone = sorted({i for *_, ids in owed for i in ids})
    bound = everyone[first - 1] if first is not None and len(everyone) > first > 0 else None
    for event, purpose, due_at, ids in owed:
        now_ids = ids if bound is None else [i for i in ids if i <= bound]
        later = ids[len(now_ids) :]  # ids ascend: the subscribers are read in id order
        _insert(session, event.id, seqs[event.id], purpose, due_at, now, now_ids)
        if later:
            session.add(
                FanoutRow(
                    event_id=event.id,
                    purpose=purpose.value,
                    event_seq=seqs[event.id],
                    due_at=due_at,
                    created_at=now,
                    subscriber_ids=later,
                )
            )
    return sum(len(ids) for *_, ids in owed)


def extend(session: Session, limit: int | None = STEP) -> bool:
    """Write the rows of the next ``limit`` subscribers (all with ``None``) owed by fan-outs being
    written, and shorten their lists, in ``session``'s transaction. False: none was being written.

    Every list is cut at the same subscriber id, so each subscriber gets the rows of all pending
    events in one step, in event order. On PostgreSQL the lists are locked first: one instance
    writes a step at a time, the others wait for it and read what is left."""
    query = select(FanoutRow).order_by(FanoutRow.event_seq, FanoutRow.purpose)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    pending = list(session.scalars(query))
    if not pending:
        return False
    everyone = sorted({i for row in pending for i in row.subscriber_ids})
    bound = everyone[-1] if limit is None or limit >= len(everyone) else everyone[limit - 1]
    for row in pending:
        now_ids = [i for i in row.subscriber_ids if i <= bound]
        rest = [i for i in row.subscriber_ids if i > bound]
        _insert(
            session, row.event_id, row.event_seq, Purpose(row.purpose), row.due_at, row.created_at, now_ids
        )
        if rest:
            row.subscriber_ids = rest
        else:
            session.delete(row)
    session.flush()
    return True


def complete(store: Store, step: int = STEP) -> int:
    """Finish every fan-out being written, one transaction per step of ``step`` subscribers (the
    sender calls it while it sends the first rows). Returns how many steps were written."""
    steps = 0
    while True:
        with store.transaction() as session:
            if not extend(session, step):
                return steps
        steps += 1


#: Subscriber ids per INSERT … SELECT: well under every driver's limit on bound parameters.
_CHUNK = 2000


def _insert(
    session: Session,
    event_id: str,
    seq: int,
    purpose: Purpose,
    due_at: datetime,
    now: datetime,
    ids: list[int],
) -> int:
    """One delivery row per subscriber id: ``INSERT … SELECT`` from ``subscribers``, the row's other
    values bound once per statement. The database builds the rows, so recording a fan-out to 5,000
    costs a few statements, not 5,000 rows of bound parameters converted in Python (that was most
    of the recording transaction, which the first message of a fan-out waits for). A row already
    there is not written again (enqueueing twice does nothing), nor one for a subscriber deleted
    meanwhile."""
    added = 0
    for first in range(0, len(ids), _CHUNK):
        rows = (
            select(
                literal(event_id, String),
                literal(seq, Integer),
                SubscriberRow.id,
                SubscriberRow.channel,
                literal(purpose.value, String),
                literal(DeliveryStatus.PENDING.value, String),
                literal(due_at, UTCDateTime),
                literal(now, UTCDateTime),
                literal(0, Integer),
            )
            .where(
                SubscriberRow.id.in_(ids[first : first + _CHUNK]),
                ~exists().where(
                    DeliveryRow.event_id == event_id,
                    DeliveryRow.subscriber_id == SubscriberRow.id,
                    DeliveryRow.purpose == purpose.value,
                ),
            )
            .order_by(SubscriberRow.id)
        )
        added += _rowcount(session.execute(insert(DeliveryRow).from_select(_COLUMNS, rows)))
    return added


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


_COLUMNS = (
    "event_id",
    "event_seq",
    "subscriber_id",
    "channel",
    "purpose",
    "status",
    "due_at",
    "created_at",
    "attempts",
)


def _active(session: Session) -> list[tuple[Subscriber, list[int]]]:
    """The active subscribers grouped by what matching reads (filters, role, paused): one
    :class:`Subscriber` to ask ``wants`` per group, with the ids of its members, in id order.
    Nearly every subscriber has the same few filters, so a fan-out to 5,000 asks a handful of
    times; only those columns are read, as text (decoding 15,000 JSON lists and building 5,000
    objects was most of the recording transaction, which the first message waits for)."""
    rows = session.execute(
        select(
            SubscriberRow.id,
            cast(SubscriberRow.services, Text),
            cast(SubscriberRow.modes, Text),
            cast(SubscriberRow.kinds, Text),
            SubscriberRow.role,
            SubscriberRow.paused,
        )
        .where(SubscriberRow.active.is_(True))
        .order_by(SubscriberRow.id)
    )
    groups: dict[tuple[str | None, str | None, str | None, str, bool], list[int]] = {}
    for sub_id, services, modes, kinds, role, paused in rows:
        groups.setdefault((services, modes, kinds, role, bool(paused)), []).append(sub_id)

    def filters(text: str | None) -> tuple[str, ...]:
        return tuple(json.loads(text) or ()) if text else ()

    return [
        (
            Subscriber(
                id=ids[0],
                channel="",
                address="",
                client="",
                eori=None,
                lang="fr",
                services=filters(services),
                modes=filters(modes),
                kinds=filters(kinds),
                role=role,
                active=True,
                paused=paused,
                profile={},
                deactivated_reason=None,
            ),
            ids,
        )
        for (services, modes, kinds, role, paused), ids in groups.items()
    ]


def _supersede_reminders(session: Session, event: InterruptionPlanned) -> None:
    """A re-announced interruption (same services and title, new window) cancels the old one's
    pending reminders, so nobody is reminded of a window that moved."""
    earlier = [
        row.id
        for row in session.scalars(
            select(EventRow).where(EventRow.kind == InterruptionPlanned.kind, EventRow.id != event.id)
        )
        if tuple(row.payload.get("services") or ()) == event.services
        and row.payload.get("title") == event.title
    ]
    if earlier:
        _skip_reminders(session, earlier, f"superseded by {event.id}")


def _skip_reminders(session: Session, interruption_ids: list[str], why: str) -> None:
    """The pending reminders of these interruptions will not be sent (``why`` says so)."""
    session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.event_id.in_(interruption_ids),
            DeliveryRow.purpose != Purpose.NOTIFY,
            DeliveryRow.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.SKIPPED, last_error=why)
    )


def withdrawn(session: Session) -> set[str]:
    """The ids of the planned interruptions a later announcement cancelled."""
    rows = session.scalars(select(EventRow.payload).where(EventRow.kind == InterruptionCancelled.kind))
    return {str(payload.get("interruption_id")) for payload in rows}


def catch_up(session: Session, subscriber: Subscriber, *, now: datetime) -> int:
    """A subscriber who joins during an outage is told at once of the alerts already open and of
    the planned interruptions still ahead (later bulletins and the end then thread under them)."""
    return catch_up_many(session, [subscriber], now=now)


def catch_up_many(session: Session, subscribers: Sequence[Subscriber], *, now: datetime) -> int:
    """:func:`catch_up` for many subscribers at once (a CSV import): what is owed is read once."""
    if not subscribers:
        return 0
    open_alerts = list(session.scalars(select(AlertRow.id).where(AlertRow.status == "open")))
    wanted = [f"{alert_id}:opened" for alert_id in open_alerts]
    rows = list(session.scalars(select(EventRow).where(EventRow.id.in_(wanted)))) if wanted else []
    cancelled = withdrawn(session)
    rows += [
        row
        for row in session.scalars(select(EventRow).where(EventRow.kind == InterruptionPlanned.kind))
        if (row.payload.get("ends_at") or "") > now.isoformat() and row.id not in cancelled
    ]
    owed: list[tuple[EventRow, Event]] = []
    for row in sorted(rows, key=lambda r: r.seq):
        try:
            owed.append((row, load(row.payload)))
        except (KeyError, TypeError, ValueError):
            continue
    if not owed:
        return 0
    have: set[tuple[int, str]] = set()
    ids = [s.id for s in subscribers]
    for first in range(0, len(ids), 500):  # stay below the drivers' parameter limits
        mine = select(DeliveryRow.subscriber_id, DeliveryRow.event_id).where(
            DeliveryRow.subscriber_id.in_(ids[first : first + 500])
        )
        have.update((subscriber_id, event_id) for subscriber_id, event_id in session.execute(mine))
    added = 0
    for subscriber in subscribers:
        for row, event in owed:
            if (subscriber.id, row.id) in have or not subscriber.wants(event):
                continue
            session.add(
                DeliveryRow(
                    event_id=row.id,
                    event_seq=row.seq,
                    subscriber_id=subscriber.id,
                    channel=subscriber.channel,
                    purpose=Purpose.NOTIFY,
                    status=DeliveryStatus.PENDING,
                    due_at=now,
                    created_at=now,
                    attempts=0,
                )
            )
            added += 1
    session.flush()
    return added


def enqueue_hook(
    policy: Policy = Policy(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    first: int | None = FIRST,
) -> Callable[[Session, list[Event]], None]:
    """The ``on_events`` hook for :meth:`Store.record_poll`: the first ``first`` subscribers' rows
    in the recording transaction, the rest by :func:`complete` (the sender runs it)."""

    def hook(session: Session, events: list[Event]) -> None:
        enqueue(session, events, now=clock(), policy=policy, first=first)

    return hook
