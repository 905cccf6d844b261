"""Webhook subscribers' signing secrets: made at enrolment, shown once, used to sign every post.

Each webhook subscriber has its own secret, in the Standard Webhooks form: ``whsec_`` and the
base64 of 32 random bytes (the specification asks for 24 to 64). It is made in the transaction
that creates the subscriber (:func:`relays.subscribers.insert` calls :func:`issue`), so no
webhook subscriber ever exists without one; the command that created it prints it once
(``subscribers add``, ``subscribers secret ID`` for a new one), and nothing else ever shows it:
it lives in its own table (``webhook_secrets``), which no listing, export, audit or page reads.

The relay must sign with it, so the store holds it as it is (HMAC-SHA256 is symmetric): the
database is as sensitive as the configuration's tokens. A secret that may have leaked is replaced
with :func:`rotate`; the old one stops working at once.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import SubscriberError
from .store import Store, SubscriberRow, WebhookSecretRow

__all__ = ["PREFIX", "issue", "new_secret", "rotate", "secret_for", "shown"]

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh ``whsec_…`` secret."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def key(secret: str) -> bytes:
    """The HMAC key a ``whsec_…`` secret stands for."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def issue(session: Session, subscriber_id: int, *, now: datetime) -> str:
    """Give ``subscriber_id`` a new secret inside the caller's transaction (replacing any)."""
    secret = new_secret()
    row = session.get(WebhookSecretRow, subscriber_id)
    if row is None:
        session.add(WebhookSecretRow(subscriber_id=subscriber_id, secret=secret, created_at=now))
    else:
        row.secret, row.created_at = secret, now
    session.flush()
    return secret


def issue_new(session: Session, subscriber_ids: Sequence[int], *, now: datetime) -> None:
    """Give each new webhook subscriber (none has a secret yet) its first secret, at once."""
    session.add_all(
        WebhookSecretRow(subscriber_id=subscriber_id, secret=new_secret(), created_at=now)
        for subscriber_id in subscriber_ids
    )
    session.flush()


def rotate(store: Store, subscriber_id: int, *, now: datetime) -> str:
    """A new secret for a webhook subscriber; the old one stops working at once."""
    with store.transaction() as session:
        row = session.get(SubscriberRow, subscriber_id)
        if row is None:
            raise SubscriberError(f"no subscriber {subscriber_id}", reason="unknown_subscriber")
        if row.channel != "webhook":
            raise SubscriberError(
                f"subscriber {subscriber_id} is on {row.channel}, not a webhook", reason="not_a_webhook"
            )
        return issue(session, subscriber_id, now=now)


def shown(store: Store, subscriber_id: int) -> str | None:
    """The secret of a subscriber just created, for the one command that shows it."""
    with store.sessions() as session:
        row = session.get(WebhookSecretRow, subscriber_id)
        return row.secret if row else None


def secret_for(store: Store, address: str) -> str | None:
    """The secret to sign posts to ``address`` with (one webhook subscriber per address)."""
    with store.sessions() as session:
        return session.scalar(
            select(WebhookSecretRow.secret)
            .join(SubscriberRow, SubscriberRow.id == WebhookSecretRow.subscriber_id)
            .where(SubscriberRow.channel == "webhook", SubscriberRow.address == address)
        )
