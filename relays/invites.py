"""Invite codes: the only way a chat becomes a subscriber from the chat itself.

An administrator creates a code for one client (``prodouane-relay invite CLIENT`` or the bots'
admin ``invite`` command), with the client's references for the assistance requests the bots
draft (EORI, company name, address, phone). Someone in that client's chat sends ``/start CODE``:
:func:`redeem` marks the code used and enrols the chat (a new subscriber, or its earlier one brought
back) in one transaction (:mod:`relays.enrolment`). A code works once, for one chat; redeeming it
again from the same chat is harmless and returns the same subscriber; it expires after
:data:`VALIDITY`.

Refusals are :class:`~relays.errors.InviteError` with a reason code (``unknown_code``,
``code_used``, ``code_expired``, ``already_subscribed``, ``empty_client``), so each front-end
says it in its own words.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from .enrolment import enrol_in
from .errors import InviteError, SubscriberError
from .logs import register_secrets
from .store import InviteRow, Store, SubscriberRow
from .subscribers import LANGS, Subscriber, check_address, from_row, new

__all__ = [
    "PROFILE_FIELDS",
    "VALIDITY",
    "Invite",
    "InviteError",
    "create_invite",
    "list_invites",
    "redeem",
]

#: How long an unused code stays valid.
VALIDITY = timedelta(days=30)
#: The client references an invite may carry (fiche 1, étape 5: "vos références").
PROFILE_FIELDS: tuple[str, ...] = ("eori", "company", "address", "phone")


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    client: str
    profile: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    used_at: datetime | None = None
    used_by: str | None = None

    @property
    def used(self) -> bool:
        return self.used_at is not None

    def expired(self, now: datetime) -> bool:
        return self.created_at is not None and now - self.created_at > VALIDITY


def _invite(row: InviteRow) -> Invite:
    return Invite(
        code=row.code,
        client=row.client,
        profile=dict(row.profile or {}),
        created_at=row.created_at,
        used_at=row.used_at,
        used_by=row.used_by,
    )


def clean_profile(profile: dict[str, Any] | None) -> dict[str, str]:
    """Only the known fields, stripped, without empty values."""
    out: dict[str, str] = {}
    for key in PROFILE_FIELDS:
        value = (profile or {}).get(key)
        if value is not None and str(value).strip():
            out[key] = str(value).strip()
    return out


def create_invite(
    store: Store, client: str, profile: dict[str, Any] | None = None, *, now: datetime | None = None
) -> str:
    """A new single-use code for ``client`` (URL-safe, fit for a Telegram ``/start`` deep link)."""
    client = client.strip()
    if not client:
        raise InviteError("the client name is empty", reason="empty_client")
    code = secrets.token_urlsafe(12)
    register_secrets([code])  # a code in a log line would let anyone enrol a chat
    with store.transaction() as session:
        session.add(
            InviteRow(
                code=code, client=client, profile=clean_profile(profile), created_at=now or datetime.now(UTC)
            )
        )
    return code


def list_invites(store: Store, *, include_used: bool = True) -> list[Invite]:
    with store.sessions() as session:
        query = select(InviteRow).order_by(InviteRow.created_at)
        if not include_used:
            query = query.where(InviteRow.used_at.is_(None))
        return [_invite(r) for r in session.scalars(query)]


def redeem(
    store: Store, code: str, channel: str, address: str, lang: str = "fr", *, now: datetime | None = None
) -> Subscriber:
    """Use ``code`` for the chat ``channel``/``address``: the chat becomes (again) a subscriber.

    Single use: a code already used by another chat, unknown or expired raises
    :class:`InviteError`; the same chat redeeming its own code again gets its subscriber back.
    A chat that is already an active subscriber (with another code) is told so, not duplicated.
    """
    now = now or datetime.now(UTC)
    code = code.strip()
    address = check_address(channel, address)
    lang = lang if lang in LANGS else "fr"
    who = f"{channel}:{address}"
    if not code or len(code) > 64:
        raise InviteError("unknown invite code", reason="unknown_code")
    with store.transaction() as session:
        invite = session.get(InviteRow, code, with_for_update=True)
        if invite is None:
            raise InviteError("unknown invite code", reason="unknown_code")
        register_secrets([code])
        existing = session.scalars(
            select(SubscriberRow).where(SubscriberRow.channel == channel, SubscriberRow.address == address)
        ).first()
        if invite.used_at is not None:
            if invite.used_by == who and existing is not None and existing.active:
                return from_row(existing)
            raise InviteError("this invite code has already been used", reason="code_used")
        if invite.created_at is not None and now - invite.created_at > VALIDITY:
            raise InviteError("this invite code has expired", reason="code_expired")
        if existing is not None and existing.active:
            raise InviteError(
                f"this chat is already subscribed (client {existing.client})",
                reason="already_subscribed",
                client=existing.client,
            )
        # The conditional update is what makes the code single-use under concurrency, on any database.
        claimed = session.execute(
            update(InviteRow)
            .where(InviteRow.code == code, InviteRow.used_at.is_(None))
            .values(used_at=now, used_by=who)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise InviteError("this invite code has already been used", reason="code_used")
        profile = dict(invite.profile or {})
        spec = new(
            channel=channel,
            address=address,
            client=invite.client,
            eori=profile.get("eori"),
            lang=lang,
            profile=profile,
        )
        try:  # joining mid-outage: the open alerts come first
            return enrol_in(session, spec, now=now, reactivate=True).subscriber
        except SubscriberError as exc:  # the same chat redeemed two codes at once
            raise InviteError("this chat is already subscribed", reason="already_subscribed") from exc
