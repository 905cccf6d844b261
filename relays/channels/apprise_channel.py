"""Delivery to anything Apprise speaks (email, Teams, generic webhooks…), one URL per address.

Apprise reports success or failure, never why in a machine-readable way, so every failed notify
is a ``TransientError`` (the outbox retries, bounded, then dead-letters) carrying Apprise's last
log line; only a URL Apprise cannot parse is a ``PermanentError`` (``NotFoundError``: there is
no such destination). Apprise's own retries stay off (its default ``retry=0``).

Apprise URLs hold secrets (passwords, webhook tokens, path secrets, ``?+X-Api-Key=…`` header
values, ntfy topics): errors carry our own mask of the address (scheme and server only,
:func:`relays.subscribers.mask_address`) and Apprise's words with every secret part of the URL
taken out; before each send those parts are registered with the logs' redaction, so Apprise's own
loggers cannot print them either. Apprise cannot thread, so ``thread_ref`` is ignored, and
references are ``"apprise:<random id>"``.

Apprise is synchronous (requests); notify runs in a worker thread. It is imported at the first
send, not with the channel: ``run`` builds this channel whether or not any subscriber uses it, and
Apprise with its plugins and requests is 2.5 MB of resident memory a relay without e-mail or Teams
subscribers never needs.
"""

from __future__ import annotations

import asyncio
import uuid

from relays.channels.base import NotFoundError, Outgoing, TransientError
from relays.logs import register_secrets
from relays.pacing import Pacer
from relays.subscribers import address_secrets, mask_address

__all__ = ["AppriseChannel"]

#: our message formats → the names of Apprise's ``NotifyFormat`` members
_FORMATS = {"plain": "TEXT", "html": "HTML", "markdown": "MARKDOWN"}


def _without(text: str, secrets: list[str]) -> str:
    """``text`` with every secret part of the address replaced by ``…`` (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "…")
    return text


class AppriseChannel:
    """Sends plain, HTML or Markdown text to an Apprise URL (the address)."""

    name = "apprise"

    def __init__(self, *, title: str = "", timeout: float = 30.0, pacer: Pacer | None = None) -> None:
        self._title = title
        self._timeout = timeout
        self._pacer = pacer

    async def aclose(self) -> None:
        """Nothing to release."""

    async def send(self, message: Outgoing) -> str:
        """Notify ``message.address``; returns ``"apprise:<id>"``."""
        if message.format not in _FORMATS:
            raise ValueError(f"AppriseChannel cannot send format {message.format!r}")
        import apprise

        body_format = apprise.NotifyFormat[_FORMATS[message.format]]
        secrets = address_secrets(self.name, message.address)
        register_secrets(secrets)
        notifier = apprise.Apprise()
        if not notifier.add(message.address):
            raise NotFoundError(
                "Apprise cannot parse this URL",
                channel=self.name,
                address="<unparsable URL>",
                reason="invalid_address",
            )
        masked = mask_address(self.name, message.address)
        if self._pacer is not None:
            await self._pacer.acquire(masked)
        result = await asyncio.to_thread(
            notifier.notify,
            body=message.text,
            title=self._title,
            body_format=body_format,
            interpret_escapes=False,
            timeout=self._timeout,
        )
        if not result:
            detail = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
            raise TransientError(
                _without(detail[-1], secrets) if detail else "Apprise notify failed",
                channel=self.name,
                address=masked,
                reason="notify_failed",
            )
        return f"apprise:{uuid.uuid4().hex[:16]}"
