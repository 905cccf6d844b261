"""What every delivery channel looks like, and the only errors a channel may raise.

A channel sends one already-rendered message to one address and returns the platform's reference
to it (used later to thread replies under it). Each channel module translates its library's
errors at the boundary into this small hierarchy, always with ``raise ... from exc``, so the
outbox can decide between "retry later" and "never again" without knowing any platform::

    DeliveryError(Exception)        .channel, .address, .reason
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
from typing import Any, Protocol, runtime_checkable

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


class DeliveryError(Exception):
    """A message could not be delivered to ``address`` over ``channel``."""

    def __init__(self, message: str, *, channel: str, address: str, reason: str = "") -> None:
        super().__init__(message)
        self.channel = channel
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.channel} → {self.address}: {self.args[0]}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields defeat Exception's default pickling (and copy.copy).
        return (_restore, (type(self), self.args[0], dict(self.__dict__)))


class TransientError(DeliveryError):
    """Try again later; wait at least ``retry_after`` seconds when the server said so."""

    def __init__(
        self,
        message: str,
        *,
        channel: str,
        address: str,
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, channel=channel, address=address, reason=reason)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Retrying this message to this address cannot succeed."""


class BlockedError(PermanentError):
    """The address exists but refuses us (blocked, kicked, archived, deactivated)."""


class NotFoundError(PermanentError):
    """The address does not exist (any more)."""


class AuthError(PermanentError):
    """The platform refuses our credentials; the address is not at fault."""


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


def _restore(cls: type[DeliveryError], message: str, state: dict[str, Any]) -> DeliveryError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


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
