"""The outbox: the messages each event owes each subscriber, as rows that outlive the process.

Two modules move the rows, one job each::

    Store.record_poll ─(same transaction)─▶ fanout.enqueue ─▶ deliveries, pending
    sender.Sender ─claim─▶ channel.send ─▶ sent | retried | failed | dead | skipped

This module holds their shared words. A delivery is unique per (event, subscriber, purpose);
purposes beyond ``notify`` are the scheduled reminders (before the reintegration deadline, before
and at a planned interruption). A delivery's status moves one way::

    pending ─claim─▶ sending ─▶ sent
                        ├─▶ pending    a transient failure: retried later (bounded, jittered)
                        ├─▶ dead       retries exhausted, or the message itself refused
                        └─▶ failed     the address refuses us for good: its subscriber is deactivated
    pending ─▶ skipped                 subscriber removed, paused or deactivated; reminder superseded
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

__all__ = ["DeliveryStatus", "Policy", "Purpose"]


class DeliveryStatus(StrEnum):
    """Where one delivery stands (the ``deliveries.status`` column)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    SKIPPED = "skipped"


class Purpose(StrEnum):
    """Why a delivery exists: the event's own message, or a reminder scheduled from it."""

    NOTIFY = "notify"
    DEADLINE_REMINDER = "deadline_reminder"
    INTERRUPTION_REMINDER = "interruption_reminder"
    INTERRUPTION_START = "interruption_start"


@dataclass(frozen=True, slots=True)
class Policy:
    deadline_reminder_before: timedelta = timedelta(hours=2)
    interruption_reminder_before: timedelta = timedelta(hours=24)
    max_attempts: int = 20  # doubling from 2 s, capped at 15 min: about 3 h of trying
    base_backoff: float = 2.0  # seconds, doubled per attempt
    max_backoff: float = 900.0
    lease: timedelta = timedelta(seconds=120)  # a claim not finished by then is taken back
    chat_gap: timedelta = timedelta(seconds=1.1)  # between two messages to one chat, across instances
