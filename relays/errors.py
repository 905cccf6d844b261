"""Every error of ours, in one tree with one root; each carries a short ``reason`` code.

Library errors are translated into this tree where they arise, always with ``raise … from exc``
(httpx's in :mod:`relays.fetch`, the chat platforms' in :mod:`relays.channels`, SQLAlchemy's in
:mod:`relays.storage` and :mod:`relays.queries`), so the layers above decide on our words only.
The edges translate the tree in turn: the CLI prints one line and exits 2 for a
:class:`UsageError`, 1 for any other :class:`RelayError`; the chat bots reply; the web server
answers with a status code::

    RelayError(Exception)           .reason: a short machine-readable code (logs, metrics, replies)
     ├── UsageError                 what a person asked cannot be done as asked: a bad argument,
     │    │                         file or URL (CLI exit 2, a polite reply in chat, HTTP 400)
     │    ├── ConfigError           a bad setting, or a configuration that cannot be read
     │    └── SubscriberError       a subscriber cannot be created or changed as asked
     │         └── InviteError      an invite code cannot be redeemed
     ├── StoreError                 the store cannot be read or written (HTTP 503); .reason: full,
     │                              read_only, corrupt, unreachable… (relays.storage)
     ├── FetchError                 the météo page could not be fetched (a bad poll); .headers:
 │                              the answer's pacing headers (Retry-After…)
     └── DeliveryError              .channel, .address: one message could not be delivered
          ├── TransientError        retry later; .retry_after: float | None (the server's wish wins)
          └── PermanentError        retrying this message to this address cannot succeed
               ├── BlockedError     bot blocked/kicked, user deactivated, channel archived
               ├── NotFoundError    the chat/channel does not exist (any more)
               └── AuthError        OUR credentials are refused: the address is probably fine

The delivery branch is described in :mod:`relays.channels.base`, where channels meet it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthError",
    "BlockedError",
    "ConfigError",
    "DeliveryError",
    "FetchError",
    "InviteError",
    "NotFoundError",
    "PermanentError",
    "RelayError",
    "StoreError",
    "SubscriberError",
    "TransientError",
    "UsageError",
]


class RelayError(Exception):
    """The root of our errors. ``reason`` is a short code; the message says it for people."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields defeat Exception's default pickling (and copy.copy).
        return (_restore, (type(self), self.args[0] if self.args else "", dict(self.__dict__)))


class UsageError(RelayError):
    """What a person asked cannot be done as asked: a bad argument, unreadable file, unreachable URL."""

    reason = "usage"


class ConfigError(UsageError):
    """A setting has a bad value, or the configuration cannot be read."""

    reason = "config"


class SubscriberError(UsageError):
    """A subscriber cannot be created or changed as asked; the message says why.

    Reasons: ``unknown_channel``, ``empty_address``, ``bad_address``, ``empty_client``,
    ``unknown_language``, ``unknown_role``, ``unknown_service``, ``unknown_mode``,
    ``unknown_kind``, ``already_subscribed``, ``unknown_subscriber``, ``not_changeable``.
    """

    reason = "subscriber"


class InviteError(SubscriberError):
    """An invite code cannot be redeemed (or created); the message says why, in English.

    Reasons: ``empty_client``, ``unknown_code``, ``code_used``, ``code_expired``,
    ``already_subscribed`` (``client`` then names the chat's current client, when known).
    """

    reason = "invite"

    def __init__(self, message: str, *, reason: str | None = None, client: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.client = client


class StoreError(RelayError):
    """The store cannot be read or written (locked, unreachable, broken)."""

    reason = "store"


class FetchError(RelayError):
    """The page could not be fetched; ``reason`` is ``timeout``, ``network``, ``http 503``…

    ``headers``: the pacing headers of the answer, when there was one (``Retry-After``…), so the
    poller waits as long as the server asked.
    """

    def __init__(self, reason: str, detail: str = "", *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason, reason=reason)
        self.headers: Mapping[str, str] = dict(headers or {})


class DeliveryError(RelayError):
    """A message could not be delivered to ``address`` over ``channel``."""

    reason = ""

    def __init__(self, message: str, *, channel: str, address: str, reason: str = "") -> None:
        super().__init__(message, reason=reason)
        self.channel = channel
        self.address = address

    def __str__(self) -> str:
        return f"{self.channel} → {self.address}: {self.args[0]}"


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


def _restore(cls: type[RelayError], message: str, state: dict[str, Any]) -> RelayError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error
