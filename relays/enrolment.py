"""Enrolling a subscriber: its row and what it is already owed, written in one transaction.

Two doors lead here — ``prodouane-relay subscribers add`` and an invite code redeemed in a chat
(:func:`relays.invites.redeem`) — and both write the same thing: the subscriber (new, or an
earlier one of the same chat brought back), then, in the same transaction, the messages about
what is already open or planned (:func:`relays.fanout.catch_up`), so a client who joins during
an outage is told of it at once and a crash never leaves one without the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import SubscriberError
from .fanout import catch_up
from .store import Store, SubscriberRow
from .subscribers import NewSubscriber, Subscriber, from_row, insert, mask_address

__all__ = ["Enrolled", "enrol", "enrol_in"]


@dataclass(frozen=True, slots=True)
class Enrolled:
    subscriber: Subscriber
    owed: int  # messages queued at once about what is already open or planned


def enrol(store: Store, spec: NewSubscriber, *, now: datetime) -> Enrolled:
    """A new subscriber and what it is owed, in a transaction of its own."""
    with store.transaction() as session:
        return enrol_in(session, spec, now=now)


def enrol_in(session: Session, spec: NewSubscriber, *, now: datetime, reactivate: bool = False) -> Enrolled:
    """Enrol inside the caller's transaction.

    An address already subscribed is refused (``already_subscribed``); with ``reactivate``, one
    whose subscription was ended (removed, or the chat left) is brought back instead, with the new
    client, references and language and its earlier filters.
    """
    row = session.scalars(
        select(SubscriberRow).where(
            SubscriberRow.channel == spec.channel, SubscriberRow.address == spec.address
        )
    ).first()
    if row is None or not reactivate:
        subscriber = insert(session, spec, now=now)
    elif row.active:
        shown = f"{spec.channel} {mask_address(spec.channel, spec.address)}"
        raise SubscriberError(f"{shown} is already subscribed", reason="already_subscribed")
    else:
        row.client, row.eori, row.profile, row.lang = spec.client, spec.eori, dict(spec.profile), spec.lang
        row.active, row.paused, row.deactivated_at, row.deactivated_reason = True, False, None, None
        session.flush()
        subscriber = from_row(row)
    return Enrolled(subscriber, catch_up(session, subscriber, now=now))
