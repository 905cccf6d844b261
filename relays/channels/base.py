"""What every delivery channel looks like, and the only errors a channel may raise.

A channel sends one already-rendered message to one address and returns the platform's reference
to it (used later to thread replies under it); ``aclose()`` releases what it opened (every channel
has it, so whoever built the channels closes them all the same way). Each channel module
translates its library's errors at the boundary into the delivery branch of our error tree
(:mod:`relays.errors`), always with ``raise ... from exc``, so the outbox can decide between
"retry later" and "never again" without knowing any platform::

    DeliveryError(RelayError)       .channel, .address, .reason
     ├── TransientError             retry later; .retry_after: float | None (the server's wish wins)
     └── PermanentError             retrying this message to this address cannot succeed
          ├── BlockedError          bot blocked/kicked, user deactivated, channel archived, not in channel
          ├── NotFoundError         chat/channel does not exist (any more)
          └── AuthError             OUR credentials are refused (bad/revoked token): the address is
                                    probably fine, so do not unsubscribe anyone; page an operator

A ``PermanentError`` that is none of the subclasses concerns the message itself (e.g. Telegram
cannot parse its HTML, Slack says the text is too long): dead-letter that delivery, keep the
subscriber. ``reason`` is a short machine-readable tag for logs and metrics.

Message references (``send``'s return value, and ``Outgoing.thread_ref``) are
``"<address>:<platform id>"``: Telegram ``"-1001234:57"`` (chat id, message id), Slack
``"C0123:1718000000.000100"`` (channel, ts). Channels accept a bare platform id as ``thread_ref``
too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

from relays.errors import (
    AuthError,
    BlockedError,
    DeliveryError,
    NotFoundError,
    PermanentError,
    TransientError,
)

__all__ = [
    "AuthError",
    "BlockedError",
    "Channel",
    "DeliveryError",
    "NotFoundError",
    "Outgoing",
    "PermanentError",
    "TransientError",
    "split_ref",
]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One rendered message for one address.

    ``format`` is the markup ``text`` is written in, for that channel: ``"plain"``, ``"html"``
    (Telegram, Apprise), ``"mrkdwn"`` (Slack), ``"markdown"`` (Apprise), ``"slack-blocks"``
    (Slack: ``text`` is a JSON object ``{"text": fallback, "blocks": [...]}``).
    ``thread_ref`` is the reference of the message to reply to / thread under.
    """

    address: str
    text: str
    thread_ref: str | None = None
    format: str = "plain"


@runtime_checkable
class Channel(Protocol):
    """Sends one message; returns its reference; raises only ``DeliveryError`` subclasses."""

    name: str

    async def send(self, message: Outgoing) -> str: ...

    async def aclose(self) -> None:
        """Release connections (idempotent); a channel opens them again when it next sends."""
        ...


def split_ref(ref: str, address: str) -> str:
    """The platform id in ``ref`` (``"<address>:<id>"`` or bare ``"<id>"``).

    Raises ``ValueError`` when ``ref`` names another address: replying to a message of another
    chat is a bug upstream, not a delivery condition.
    """
    owner, sep, platform_id = ref.rpartition(":")
    if not sep:
        return ref
    if owner != address:
        raise ValueError(f"thread_ref {ref!r} does not belong to {address!r}")
    return platform_id


#: A later part of a long message is retried in place at most this often, when the platform asks
#: to wait at most ``_PART_WAIT`` seconds; beyond that the whole message is retried by the outbox.
_PART_ATTEMPTS = 3
_PART_WAIT = 30.0


async def send_in_parts(
    send_one: Callable[[Outgoing], Awaitable[str]],
    message: Outgoing,
    limit: int,
    *,
    measure: Callable[[str], int] = len,
    reply_to_first: bool = True,
) -> str:
    """Send a text over the platform's limit as ordered, numbered parts, all in the message's thread:
    later parts reply to the first (Telegram) or join the thread it is in (Slack). Returns the
    first part's reference, so the delivery is one message to the outbox and the audit."""
    from relays.render import split_text

    parts = split_text(message.text, limit, measure=measure)
    first = await send_one(replace(message, text=parts[0]))
    thread = first if reply_to_first or message.thread_ref is None else message.thread_ref
    for part in parts[1:]:
        for attempt in range(1, _PART_ATTEMPTS + 1):
            try:
                await send_one(replace(message, text=part, thread_ref=thread))
                break
            except TransientError as exc:
                wait = exc.retry_after if exc.retry_after is not None else 2.0 * attempt
                if attempt == _PART_ATTEMPTS or wait > _PART_WAIT:
                    raise
                await asyncio.sleep(wait)
    return first


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2
