"""The sender: claims due deliveries, sends them through the channels, records each outcome.

Rows are claimed under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several instances
share the outbox), sent concurrently through the channels — which pace themselves to the
platforms' limits — and each outcome is recorded at once, so a process killed mid-fan-out loses
nothing and resends at most what was on the wire. Per subscriber, messages go out in event order:
a bulletin never overtakes its alert, and replies are threaded under the subscriber's own copy of
the alert.

``run`` drives it as a continuous pipeline (:meth:`Sender.run_forever`)::

    wake (a poll recorded events, a NOTIFY, a dead sender's rows taken back) or the slow tick
      └─▶ claim up to ``window`` rows ─▶ one task each ─▶ pacer ─▶ channel ─▶ outcome
            ▲ refilled whenever half the window has gone       sent: queued for the writer task,
            └──────────── woken by each recorded batch ◀────── one UPDATE by id per batch, in a
                                                               thread, off the event loop

so there is no stall at batch boundaries, and a slow chat or a group at its 20/min limit only
holds its own rows. While it runs, the sender beats every second in ``sender_beats``; the claims
of a sender whose beat is ``stale`` seconds old are handed back by the others at once — failover
in seconds instead of the 120 s lease — and a live sender keeps its own claims' leases fresh.

Outcomes (:class:`~relays.outbox.DeliveryStatus`): sent; transient failure → retried after the
server's ``retry_after`` or a bounded, jittered backoff, dead-lettered (``dead``) after
``max_attempts``; the address refuses us for good (blocked, not found, archived) → ``failed``,
the subscriber is deactivated, its other pending messages are ``skipped`` and the admins are told
(through :func:`relays.fanout.enqueue`); the message itself is refused → ``dead``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import random
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Table, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from .channels.base import (
    AuthError,
    BlockedError,
    Channel,
    NotFoundError,
    Outgoing,
    PermanentError,
    TransientError,
)
from .events import (
    AlertClosed,
    AlertUpdated,
    BulletinPublished,
    Event,
    InterruptionCancelled,
    InterruptionPlanned,
    SubscriberDeactivated,
    dump,
    load,
)
from .fanout import complete, enqueue
from .outbox import DeliveryStatus, Policy, Purpose
from .render import FORMATS, render
from .store import DeliveryRow, EventRow, SenderBeatRow, Store, SubscriberRow
from .subscribers import Subscriber, from_row, mask_address

__all__ = ["Claimed", "DeliveryMetrics", "Report", "Sender"]

log = logging.getLogger(__name__)


class DeliveryMetrics(Protocol):
    """What the sender reports (``relays.metrics.Metrics`` implements it)."""

    def record_delivery(self, channel: str, outcome: str, latency_seconds: float | None = None) -> None: ...


def _dead_here(worker: str | None) -> bool:
    """Whether ``worker`` ("host:pid:…") names a process of this host that no longer runs."""
    if not worker:
        return False
    parts = worker.split(":")
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


_BUSY_FOR, _BUSY_LOOK = 3.0, 0.25  # seconds after the last send; between looks meanwhile
_deliveries: Table = DeliveryRow.__table__  # type: ignore[assignment]
_MARK_SENT = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("row_id"))
    .values(
        status=DeliveryStatus.SENT,
        claimed_until=None,
        claimed_by=None,
        last_error=None,
        attempts=bindparam("attempts"),
        sent_at=bindparam("sent_at"),
        message_ref=bindparam("message_ref"),
        thread_ref=bindparam("thread_ref"),
    )
)


_UNREADABLE = "event payload unreadable by this version"


def _set(session: Session, ids: list[int], **values: object) -> None:
    """One UPDATE of the deliveries ``ids`` (Core: no ORM rows to load or flush)."""
    session.execute(update(_deliveries).where(_deliveries.c.id.in_(ids)).values(**values))


def _rowcount(result: object) -> int:
    """How many rows an UPDATE touched (``CursorResult.rowcount``; typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _root_event(event: Event, purpose: str) -> str | None:
    """The event whose message this one is threaded under, for the same subscriber."""
    if isinstance(event, (BulletinPublished, AlertClosed, AlertUpdated)):
        return f"{event.alert_id}:opened"
    if isinstance(event, InterruptionPlanned) and purpose != Purpose.NOTIFY:
        return event.id
    if isinstance(event, InterruptionCancelled):
        return event.interruption_id
    return None


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    event: Event
    subscriber: Subscriber
    purpose: str
    attempts: int
    thread_ref: str | None = None  # the subscriber's copy of the message this one replies to


@dataclass(slots=True)
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    deactivated: list[str] = field(default_factory=list)

    def add(self, other: Report) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.dead += other.dead
        self.deactivated += other.deactivated


class Sender:
    """Claims due deliveries for the channels it has, sends them, records the outcome."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        policy: Policy = Policy(),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch: int = 200,
        worker: str | None = None,
        metrics: DeliveryMetrics | None = None,
        window: int = 60,
        tick: float = 5.0,
        beat: float = 1.0,
        stale: float = 4.0,
    ) -> None:
        self.store, self.channels, self.policy, self.clock = store, dict(channels), policy, clock
        self.batch = batch
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.metrics = metrics
        #: rows claimed and not yet finished, at most (run_forever); refilled when half have gone
        self.window = window
        #: seconds between looks at the outbox when nothing wakes the sender
        self.tick = tick
        #: seconds between heartbeats; a sender silent for ``stale`` seconds is dead
        self.beat, self.stale = beat, stale
        self._wake = asyncio.Event()
        self._woken = False  # by something outside the pipeline (a poll, a NOTIFY, a take-back)
        self._exhausted = False  # the last claim found fewer due rows than it had room for
        self._fanouts = True  # a fan-out may be half-written (relays.fanout): finish it
        self._pipelined = False
        self._outcomes: list[dict[str, object]] = []
        self._outcomes_ready = asyncio.Event()
        self._texts: dict[tuple[str, str, str, str], str] = {}
        self._events: dict[str, Event] = {}  # loaded once: an event never changes once recorded

    def wake(self) -> None:
        """Look at the outbox now (call it from the sender's event loop): events were recorded."""
        self._woken = self._fanouts = True
        self._wake.set()

    # --- claiming ----------------------------------------------------------------------------
    def recover(self) -> int:
        """At start, take back what a previous life of this sender left 'sending'.

        A row is an orphan when its lease has expired, when it was claimed under this sender's own
        name (an instance restarted with a fixed ``INSTANCE_ID``), or when the process that
        claimed it on this host is gone (worker names carry host and pid). Rows of live senders —
        another instance, or ``run`` beside a ``replay --deliver`` — are left alone. Expired
        leases are also taken back by every :meth:`claim`.
        """
        now = self.clock()
        released = 0
        with self.store.transaction() as session:
            for row in session.scalars(
                select(DeliveryRow).where(DeliveryRow.status == DeliveryStatus.SENDING)
            ):
                expired = row.claimed_until is None or row.claimed_until < now
                if expired or row.claimed_by == self.worker or _dead_here(row.claimed_by):
                    row.status, row.claimed_until, row.claimed_by = DeliveryStatus.PENDING, None, None
                    released += 1
        return released

    def _due_query(self, now: datetime, *, abandoned: bool = True):  # type: ignore[no-untyped-def]
        """Due rows in sending order; with ``abandoned``, claims whose lease ran out count too.

        Without it (what :meth:`claim` asks, after handing those back), the query walks
        ``ix_deliveries_claim`` in order and stops at its limit instead of sorting every due row.
        """
        earlier = aliased(DeliveryRow)
        blocked = exists().where(
            and_(
                earlier.subscriber_id == DeliveryRow.subscriber_id,
                earlier.event_seq < DeliveryRow.event_seq,
                earlier.purpose == Purpose.NOTIFY,
                earlier.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
            )
        )
        conditions = [~and_(DeliveryRow.purpose == Purpose.NOTIFY, blocked)]
        if self.store.engine.dialect.name == "postgresql":
            # Several instances may send: each paces its own sends, so the one-message-per-second
            # rule per chat is kept here, across instances, from what the store says was just sent.
            recent = aliased(DeliveryRow)
            conditions.append(
                ~exists().where(
                    and_(
                        recent.subscriber_id == DeliveryRow.subscriber_id,
                        recent.status == DeliveryStatus.SENT,
                        recent.sent_at > now - self.policy.chat_gap,
                    )
                )
            )
        claimable = and_(DeliveryRow.status == DeliveryStatus.PENDING, DeliveryRow.due_at <= now)
        if abandoned:
            claimable = or_(
                claimable,
                and_(DeliveryRow.status == DeliveryStatus.SENDING, DeliveryRow.claimed_until < now),
            )
        return (
            select(
                DeliveryRow.id,
                DeliveryRow.event_id,
                DeliveryRow.subscriber_id,
                DeliveryRow.purpose,
                DeliveryRow.attempts,
            )
            .where(
                claimable,
                DeliveryRow.channel.in_(list(self.channels)),
                *conditions,
            )
            .order_by(DeliveryRow.due_at, DeliveryRow.event_seq, DeliveryRow.id)
        )

    def claim(self, limit: int | None = None) -> list[Claimed]:
        """Take up to ``limit`` due rows under this sender's lease, in sending order.

        Plain columns and one UPDATE per outcome (SQLAlchemy Core), not ORM rows flushed one by
        one, and each event read and loaded once per process (events never change once recorded):
        a claim runs every second of a fan-out."""
        now = self.clock()
        with self.store.transaction() as session:
            session.execute(  # abandoned claims (their lease ran out) are due again
                update(_deliveries)
                .where(
                    _deliveries.c.status == DeliveryStatus.SENDING,
                    _deliveries.c.claimed_until < now,
                    _deliveries.c.channel.in_(list(self.channels)),
                )
                .values(status=DeliveryStatus.PENDING, claimed_until=None, claimed_by=None)
            )
            query = self._due_query(now, abandoned=False).limit(limit or self.batch)
            if self.store.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=DeliveryRow)
            rows = session.execute(query).all()
            if not rows:
                return []
            events = self._events_of(session, {row.event_id for row in rows})
            unreadable = [row.id for row in rows if row.event_id not in events]
            if unreadable:
                _set(session, unreadable, status=DeliveryStatus.DEAD, last_error=_UNREADABLE)
                rows = [row for row in rows if row.event_id in events]
            subscribers = {
                s.id: from_row(s)
                for s in session.scalars(
                    select(SubscriberRow).where(SubscriberRow.id.in_({row.subscriber_id for row in rows}))
                )
            }
            roots = {row.id: _root_event(events[row.event_id], row.purpose) for row in rows}
            wanted = {root for root in roots.values() if root is not None}
            refs: dict[tuple[str, int], str | None] = {}
            if wanted:
                for event_id, subscriber_id, ref in session.execute(
                    select(DeliveryRow.event_id, DeliveryRow.subscriber_id, DeliveryRow.message_ref).where(
                        DeliveryRow.event_id.in_(wanted),
                        DeliveryRow.purpose == Purpose.NOTIFY,
                        DeliveryRow.status == DeliveryStatus.SENT,
                    )
                ):
                    refs[(event_id, subscriber_id)] = ref
            claimed: list[Claimed] = []
            paused: list[int] = []
            inactive: list[int] = []
            for row in rows:
                subscriber = subscribers[row.subscriber_id]
                if not subscriber.active or subscriber.paused:  # removed or paused since it was queued
                    (paused if subscriber.active else inactive).append(row.id)
                    continue
                root = roots[row.id]
                claimed.append(
                    Claimed(
                        row.id,
                        events[row.event_id],
                        subscriber,
                        row.purpose,
                        row.attempts,
                        refs.get((root, row.subscriber_id)) if root else None,
                    )
                )
            for ids, why in ((paused, "subscriber paused"), (inactive, "subscriber inactive")):
                if ids:
                    _set(
                        session,
                        ids,
                        status=DeliveryStatus.SKIPPED,
                        claimed_until=None,
                        claimed_by=None,
                        last_error=why,
                    )
            if claimed:
                _set(
                    session,
                    [c.delivery_id for c in claimed],
                    status=DeliveryStatus.SENDING,
                    claimed_by=self.worker,
                    claimed_until=now + self.policy.lease,
                )
            return claimed

    def _events_of(self, session: Session, ids: set[str]) -> dict[str, Event]:
        """The events ``ids`` that this version can read (a payload it cannot is logged once)."""
        missing = ids - self._events.keys()
        if missing:
            if len(self._events) + len(missing) > 1024:
                self._events.clear()
                missing = set(ids)
            for event_id, payload in session.execute(
                select(EventRow.id, EventRow.payload).where(EventRow.id.in_(missing))
            ):
                try:
                    self._events[event_id] = load(payload)
                except (KeyError, TypeError, ValueError):  # e.g. a kind from a newer version
                    log.exception("event %s cannot be read; its deliveries are dead-lettered", event_id)
        return {event_id: self._events[event_id] for event_id in ids if event_id in self._events}

    def due_count(self) -> int:
        with self.store.sessions() as session:
            return int(
                session.scalar(select(func.count()).select_from(self._due_query(self.clock()).subquery()))
                or 0
            )

    def waiting(self) -> dict[str, int]:
        """Pending deliveries by channel, for channels this sender cannot serve."""
        with self.store.sessions() as session:
            rows = session.execute(
                select(DeliveryRow.channel, func.count())
                .where(
                    DeliveryRow.status == DeliveryStatus.PENDING,
                    DeliveryRow.channel.not_in(list(self.channels)),
                )
                .group_by(DeliveryRow.channel)
            ).all()
            return {channel: int(count) for channel, count in rows}

    # --- sending -----------------------------------------------------------------------------
    async def _deliver(self, claimed: Claimed) -> Report:
        report = await self._attempt(claimed)
        if self.metrics is not None:
            channel = claimed.subscriber.channel
            for outcome in ("sent", "retried", "failed", "dead"):
                for _ in range(getattr(report, outcome)):
                    latency = None
                    if outcome == "sent" and claimed.purpose == Purpose.NOTIFY:
                        latency = (self.clock() - claimed.event.detected_at).total_seconds()
                    self.metrics.record_delivery(channel, outcome, latency)
        if report.sent == 0:
            log.info(
                "delivery not sent",
                extra={
                    "delivery_id": claimed.delivery_id,
                    "event_id": claimed.event.id,
                    "subscriber": claimed.subscriber.id,
                    "attempt": claimed.attempts + 1,
                },
            )
        return report

    async def _attempt(self, claimed: Claimed) -> Report:
        report = Report()
        subscriber = claimed.subscriber
        channel = self.channels[subscriber.channel]
        fmt = FORMATS.get(subscriber.channel, "plain")
        try:
            text = self._render(claimed, fmt)
            thread = claimed.thread_ref
            ref = await channel.send(
                Outgoing(address=subscriber.address, text=text, thread_ref=thread, format=fmt)
            )
        except asyncio.CancelledError:
            # Stopping: hand the claim back at once (the message may have been on the wire: that
            # single one may go out twice, nothing is lost), then let the cancellation proceed.
            # The pipeline hands all its claims back in one statement when it stops.
            if not self._pipelined:
                self._release(claimed.delivery_id)
            raise
        except (BlockedError, NotFoundError) as exc:
            await asyncio.to_thread(self._deactivate, claimed, exc)
            report.failed += 1
            report.deactivated.append(subscriber.client)
            return report
        except AuthError as exc:  # our token, not their address: retry, then dead-letter
            return await asyncio.to_thread(self._retry, claimed, str(exc), None)
        except TransientError as exc:
            return await asyncio.to_thread(self._retry, claimed, str(exc), exc.retry_after)
        except PermanentError as exc:
            await asyncio.to_thread(self._finish, claimed.delivery_id, DeliveryStatus.DEAD, error=str(exc))
            report.dead += 1
            return report
        except Exception as exc:  # a bug or an unexpected library error: never lose the message
            log.exception("delivery %s crashed", claimed.delivery_id)
            return await asyncio.to_thread(self._retry, claimed, f"{type(exc).__name__}: {exc}", None)
        # Recorded at once: the gap between the platform accepting a message and the store knowing
        # it is what a crash can turn into a duplicate, so it stays tiny. In the pipeline the writer
        # task records what was accepted meanwhile in one UPDATE by id; otherwise one UPDATE now,
        # in a thread. A store that refuses the write (locked, unreachable) is retried: the message
        # is out.
        outcome = self._sent_row(claimed, ref, thread)
        if self._pipelined:
            self._outcomes.append(outcome)
            self._outcomes_ready.set()
        else:
            for attempt in range(6):
                try:
                    await asyncio.to_thread(self._record_sent, [outcome])
                    break
                except SQLAlchemyError as exc:
                    fault = self.store.health.note(
                        exc, doing=f"recording delivery {claimed.delivery_id} as sent"
                    )
                    log.warning(
                        "recording delivery %s as sent failed (try %d)",
                        claimed.delivery_id,
                        attempt + 1,
                        exc_info=not fault,
                    )
                    await asyncio.sleep(0.5 * 2**attempt)
        report.sent += 1
        return report

    def _render(self, claimed: Claimed, fmt: str) -> str:
        """The message's text; the same for every subscriber of one language, so rendered once."""
        key = (claimed.event.id, claimed.purpose, claimed.subscriber.lang, fmt)
        text = self._texts.get(key)
        if text is None:
            if len(self._texts) >= 256:
                self._texts.clear()
            text = self._texts[key] = render(claimed.event, claimed.purpose, lang=key[2], fmt=fmt)
        return text

    def _sent_row(self, claimed: Claimed, ref: str, thread: str | None) -> dict[str, object]:
        return {
            "row_id": claimed.delivery_id,
            "attempts": claimed.attempts + 1,
            "sent_at": self.clock(),
            "message_ref": ref,
            "thread_ref": thread,
        }

    def _record_sent(self, rows: list[dict[str, object]]) -> None:
        """Mark ``rows`` sent: one UPDATE by primary key (executemany, SQLAlchemy Core: no ORM
        session to build), one transaction."""
        with self.store.engine.begin() as conn:
            conn.execute(_MARK_SENT, rows)

    def _finish(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        ref: str | None = None,
        thread: str | None = None,
        error: str | None = None,
    ) -> None:
        with self.store.transaction() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is None:
                return
            row.status, row.claimed_until, row.claimed_by = status, None, None
            row.attempts += 1
            if status == DeliveryStatus.SENT:
                row.sent_at, row.message_ref, row.thread_ref, row.last_error = self.clock(), ref, thread, None
            else:
                row.last_error = error

    def _release(self, delivery_id: int) -> None:
        with self.store.transaction() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is not None and row.status == DeliveryStatus.SENDING and row.claimed_by == self.worker:
                row.status, row.claimed_until, row.claimed_by = DeliveryStatus.PENDING, None, None

    def _retry(self, claimed: Claimed, error: str, retry_after: float | None) -> Report:
        report = Report()
        attempts = claimed.attempts + 1
        with self.store.transaction() as session:
            row = session.get(DeliveryRow, claimed.delivery_id)
            if row is None:
                return report
            row.attempts, row.last_error, row.claimed_until, row.claimed_by = attempts, error, None, None
            if attempts >= self.policy.max_attempts:
                row.status = DeliveryStatus.DEAD
                report.dead += 1
                log.error("delivery %s dead after %d attempts: %s", row.id, attempts, error)
                return report
            backoff = min(self.policy.max_backoff, self.policy.base_backoff * 2 ** (attempts - 1))
            delay = (
                retry_after * random.uniform(1.0, 1.1) if retry_after else backoff * random.uniform(0.5, 1.0)
            )
            row.status, row.due_at = DeliveryStatus.PENDING, self.clock() + timedelta(seconds=delay)
            report.retried += 1
            return report

    def _deactivate(self, claimed: Claimed, exc: PermanentError) -> None:
        """The address refuses us for good: stop writing to it, keep the others going, tell admins."""
        now = self.clock()
        subscriber = claimed.subscriber
        reason = f"{exc.reason or type(exc).__name__}: {exc.args[0] if exc.args else exc}"
        with self.store.transaction() as session:
            row = session.get(DeliveryRow, claimed.delivery_id)
            if row is not None:
                row.status, row.last_error, row.claimed_until, row.claimed_by = (
                    DeliveryStatus.FAILED,
                    reason,
                    None,
                    None,
                )
                row.attempts += 1
            sub = session.get(SubscriberRow, subscriber.id)
            if sub is not None and sub.active:
                sub.active, sub.deactivated_at, sub.deactivated_reason = False, now, reason
                session.execute(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.subscriber_id == subscriber.id,
                        DeliveryRow.status == DeliveryStatus.PENDING,
                    )
                    .values(status=DeliveryStatus.SKIPPED, last_error="subscriber deactivated")
                )
                notice = SubscriberDeactivated(
                    id=f"U{subscriber.id}:deactivated:{now.isoformat()}",
                    source="outbox",
                    detected_at=now,
                    subscriber_id=subscriber.id,
                    client=subscriber.client,
                    channel=subscriber.channel,
                    address=mask_address(subscriber.channel, subscriber.address),
                    reason=reason,
                )
                session.add(
                    EventRow(
                        id=notice.id,
                        kind=notice.kind,
                        alert_id=None,
                        source=notice.source,
                        detected_at=now,
                        payload=dump(notice),
                    )
                )
                enqueue(session, [notice], now=now, policy=self.policy)
        log.warning("subscriber %s (%s) deactivated: %s", subscriber.id, subscriber.client, reason)

    async def run_once(self) -> Report:
        """Claim one batch of due deliveries and send them concurrently (the channels pace)."""
        claimed = await asyncio.to_thread(self.claim)
        self._fanouts = True  # nothing wakes this sender (replay, demo): look every time
        await self._complete_fanouts()  # the rest of a fan-out whose first rows were just claimed
        report = Report()
        if not claimed:
            return report
        outcomes = await asyncio.gather(*(self._deliver(c) for c in claimed), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Report):
                report.add(outcome)
            elif isinstance(outcome, asyncio.CancelledError):
                raise outcome
            elif not self.store.health.note(outcome, doing="recording a delivery's outcome"):
                # a store error while recording a failure: the lease brings the row back later
                log.error("delivery outcome not recorded", exc_info=outcome)
        return report

    async def drain(self) -> Report:
        """Send until nothing is due now (reminders due later stay in the store)."""
        total = Report()
        while True:
            report = await self.run_once()
            total.add(report)
            if report.sent + report.retried + report.failed + report.dead == 0:
                if await asyncio.to_thread(self.due_count) == 0:
                    nxt = await asyncio.to_thread(self.next_retry_in)
                    if nxt is None:
                        return total
                    await asyncio.sleep(max(nxt, 0.05))
                continue

    def next_retry_in(self, horizon: float = 60.0) -> float | None:
        """Seconds to wait during drain for the next message due within ``horizon``: a retry, or
        one held back by the per-chat gap or another sender's claim. None: nothing worth waiting for."""
        now = self.clock()
        mine = DeliveryRow.channel.in_(list(self.channels))
        with self.store.sessions() as session:
            retry_at = session.scalar(
                select(func.min(DeliveryRow.due_at)).where(
                    mine,
                    DeliveryRow.status == DeliveryStatus.PENDING,
                    DeliveryRow.attempts > 0,
                    DeliveryRow.due_at <= now + timedelta(seconds=horizon),
                )
            )
            held = session.scalar(
                select(func.count()).where(
                    mine,
                    or_(
                        DeliveryRow.status == DeliveryStatus.SENDING,
                        and_(DeliveryRow.status == DeliveryStatus.PENDING, DeliveryRow.due_at <= now),
                    ),
                )
            )
            sending = session.scalar(
                select(func.count()).where(mine, DeliveryRow.status == DeliveryStatus.SENDING)
            )
        waits: list[float] = []
        if retry_at is not None:
            waits.append(max(0.0, (retry_at - now).total_seconds()))
        if held and (self.store.engine.dialect.name == "postgresql" or sending):
            waits.append(0.2)  # held back by the per-chat gap or another sender: look again shortly
        return min(waits) if waits else None

    async def run_forever(self, idle: float | None = None, stop: asyncio.Event | None = None) -> None:
        """The long-running sender of ``run``: a continuous pipeline, woken by :meth:`wake`, by the
        outcomes it records and by the take-back of a dead sender's rows, looking at the outbox
        every ``idle`` seconds (default :attr:`tick`) when nothing wakes it. Stops when ``stop``
        is set or when cancelled, handing back what it had claimed and not sent."""
        tick = self.tick if idle is None else idle
        try:
            await asyncio.to_thread(self.recover)
        except Exception as exc:
            if not self.store.health.note(exc, doing="taking back orphaned deliveries"):
                log.exception("taking back orphaned deliveries failed; expired leases will be retaken")
        self._pipelined = True
        loop = asyncio.get_running_loop()
        inflight: set[asyncio.Task[Report]] = set()
        helpers = [
            asyncio.create_task(self._writer(), name="sender-writer"),
            asyncio.create_task(self._beating(), name="sender-beat"),
        ]
        stopping = asyncio.create_task(stop.wait()) if stop is not None else None
        completing: asyncio.Task[None] | None = None
        last_claim, last_busy = -math.inf, -math.inf
        try:
            while stop is None or not stop.is_set():
                room = self.window - len(inflight)
                if room >= max(1, self.window // 2):
                    last_claim = loop.time()
                    try:
                        claimed = await asyncio.to_thread(self.claim, room)
                    except Exception as exc:
                        if not self.store.health.note(exc, doing="sending the outbox"):
                            log.exception("claiming from the outbox failed")
                        claimed = []
                    for item in claimed:
                        task: asyncio.Task[Report] = asyncio.create_task(self._deliver(item))
                        inflight.add(task)
                        task.add_done_callback(self._finished(inflight))
                    self._exhausted = len(claimed) < room
                if self._fanouts and (completing is None or completing.done()):
                    # The rest of a fan-out is written while its first rows are sent.
                    completing = asyncio.create_task(self._complete_fanouts(), name="sender-fanout")
                if inflight:
                    last_busy = loop.time()
                # Rows held back by a chat's gap (PostgreSQL) or a retry a second away announce
                # nothing when they become due: while busy, look again every quarter second.
                busy = loop.time() - last_busy < _BUSY_FOR
                waiting = asyncio.create_task(self._wake.wait())
                await asyncio.wait(
                    [waiting] + ([stopping] if stopping is not None else []),
                    timeout=min(tick, _BUSY_LOOK) if busy else tick,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiting.cancel()
                self._wake.clear()
                woken, self._woken = self._woken, False
                if not busy and not woken:  # the slow tick: a fan-out another process left half-written
                    self._fanouts = True
                if self._exhausted and not woken:  # only outcomes moved: look again, but not too eagerly
                    await asyncio.sleep(max(0.0, last_claim + 0.2 - loop.time()))
        finally:
            extra = [task for task in (stopping, completing) if task is not None]
            for pending in (*inflight, *helpers, *extra):
                pending.cancel()
            await asyncio.gather(*inflight, *helpers, *extra, return_exceptions=True)
            self._pipelined = False
            await asyncio.shield(asyncio.to_thread(self._stop_pipeline))

    async def _complete_fanouts(self) -> None:
        """Write the rest of any fan-out being written (:func:`relays.fanout.complete`), then wake
        the pipeline for its rows. A fault leaves it for the next look: every step is whole."""
        if not self._fanouts:
            return
        self._fanouts = False
        try:
            steps = await asyncio.to_thread(complete, self.store)
        except Exception as exc:
            self._fanouts = True
            if not self.store.health.note(exc, doing="writing the rest of a fan-out"):
                log.exception("writing the rest of a fan-out failed; the next look at the outbox retries")
            return
        if steps:
            self._wake.set()

    def _finished(self, inflight: set[asyncio.Task[Report]]) -> Callable[[asyncio.Task[Report]], None]:
        def done(task: asyncio.Task[Report]) -> None:
            inflight.discard(task)
            exc = None if task.cancelled() else task.exception()
            if exc is not None and not self.store.health.note(exc, doing="recording a delivery's outcome"):
                log.error("delivery outcome not recorded", exc_info=exc)  # the lease brings it back
            # The loop has something to do only once half the window is free (a claim), or when
            # the outbox ran dry and this outcome may free a successor: waking it for every message
            # of a fan-out was a turn of the loop, a task and a timer per message, for nothing.
            if self._exhausted or self.window - len(inflight) >= max(1, self.window // 2):
                self._wake.set()

        return done

    async def _writer(self) -> None:
        """Record what the channels accepted, as it comes: one UPDATE by id per batch, in a thread."""
        delay = 0.5
        while True:
            await self._outcomes_ready.wait()
            self._outcomes_ready.clear()
            batch, self._outcomes = self._outcomes, []
            if not batch:
                continue
            try:
                await asyncio.to_thread(self._record_sent, batch)
                delay = 0.5
            except SQLAlchemyError as exc:
                self._outcomes[:0] = batch  # the messages are out: keep trying to record them
                if not self.store.health.note(exc, doing=f"recording {len(batch)} deliveries as sent"):
                    log.warning("recording %d deliveries as sent failed", len(batch), exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                self._outcomes_ready.set()
                continue
            if self._exhausted:  # their successors (a bulletin after its alert) may be claimable now
                self._wake.set()

    def _stop_pipeline(self) -> None:
        """Record what was sent, hand back every claim not sent, and stop beating."""
        batch, self._outcomes = self._outcomes, []
        try:
            if batch:
                self._record_sent(batch)
            with self.store.transaction() as session:
                released = _rowcount(
                    session.execute(
                        update(DeliveryRow)
                        .where(DeliveryRow.claimed_by == self.worker)
                        .where(DeliveryRow.status == DeliveryStatus.SENDING)
                        .values(status=DeliveryStatus.PENDING, claimed_until=None, claimed_by=None)
                    )
                )
                session.execute(delete(SenderBeatRow).where(SenderBeatRow.worker == self.worker))
            if released:
                log.info("handed back %d claimed deliveries", released)
        except SQLAlchemyError as exc:
            if not self.store.health.note(exc, doing="handing back claimed deliveries"):
                log.exception("handing back claimed deliveries failed; another sender takes them back")

    async def _beating(self) -> None:
        """Beat every :attr:`beat` seconds; wake the pipeline when a dead sender's rows came back."""
        while True:
            try:
                if await asyncio.to_thread(self.heartbeat):
                    self.wake()
            except Exception as exc:
                if not self.store.health.note(exc, doing="the sender's heartbeat"):
                    log.exception("the sender's heartbeat failed")
            await asyncio.sleep(self.beat)

    def heartbeat(self) -> int:
        """Say this sender is alive, keep its claims' leases fresh, and hand back the claims of
        senders whose beat is :attr:`stale` seconds old. Returns how many rows came back."""
        now = self.clock()
        with self.store.transaction() as session:
            row = session.get(SenderBeatRow, self.worker)
            if row is None:
                session.add(
                    SenderBeatRow(
                        worker=self.worker,
                        host=socket.gethostname(),
                        pid=os.getpid(),
                        started_at=now,
                        beat_at=now,
                    )
                )
            else:
                row.beat_at = now
            # A row waiting in the pacer (a group at its 20/min limit) is still ours: never let its
            # lease run out under us. Only half-spent leases are touched, so this is rare.
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.claimed_by == self.worker,
                    DeliveryRow.status == DeliveryStatus.SENDING,
                    DeliveryRow.claimed_until < now + self.policy.lease / 2,
                )
                .values(claimed_until=now + self.policy.lease)
            )
            dead = list(
                session.scalars(
                    select(SenderBeatRow.worker).where(
                        SenderBeatRow.beat_at < now - timedelta(seconds=self.stale),
                        SenderBeatRow.worker != self.worker,
                    )
                )
            )
            if not dead:
                return 0
            released = _rowcount(
                session.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.claimed_by.in_(dead), DeliveryRow.status == DeliveryStatus.SENDING)
                    .values(status=DeliveryStatus.PENDING, claimed_until=None, claimed_by=None)
                )
            )
            session.execute(delete(SenderBeatRow).where(SenderBeatRow.worker.in_(dead)))
        log.warning(
            "sender(s) %s stopped beating: took back the %d deliveries they had claimed",
            ", ".join(dead),
            released,
        )
        return int(released)
