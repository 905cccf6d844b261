"""Signed webhooks: each message POSTed to the subscriber's URL as a CloudEvents 1.0 document,
signed as the Standard Webhooks specification says, so any of its libraries verifies it.

Headers of every post::

    Content-Type: application/cloudevents+json; charset=utf-8   (CloudEvents' structured mode)
    webhook-id: msg_…            the delivery's idempotency key: the same on every retry
    webhook-timestamp: 1764756900    this attempt's time (Unix seconds)
    webhook-signature: v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

``key`` is the subscriber's own secret (``whsec_…``, :mod:`relays.webhook_secrets`), read from the
store at each post (so a rotated secret is used at once). The body is what the outbox rendered
(:func:`relays.cloudevents.envelope`); any other text — a broadcast, ``subscribers test`` — is
wrapped as a ``prodouane_relay.message`` document.

What the receiver's answer becomes (the outbox does the rest: bounded, jittered retries, a dead
letter after its horizon, a deactivated subscriber on a ``BlockedError``)::

    2xx                              sent; the reference is the webhook-id
    410 Gone                         BlockedError("gone"): the receiver ends the subscription
    any other status (3xx included: redirects are not followed, as the specification advises)
                                     TransientError, after the Retry-After it asks for (at most 1 h)
    timeout, refused, reset, TLS     TransientError
    no secret for this address       AuthError: ours is missing; retried, then dead-lettered

Addresses are https URLs; plain http only to this machine (127.0.0.0/8, ::1, localhost), for a
receiver beside the relay and for tests. Addresses are shown masked (user info and query hidden:
they may hold credentials).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Self

import httpx

from relays.channels.base import AuthError, BlockedError, Outgoing, TransientError
from relays.channels.webhook_address import masked_url, url_problem
from relays.cloudevents import message as text_message
from relays.webhook_secrets import key

__all__ = ["WebhookChannel", "masked_url", "sign", "url_problem"]

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
USER_AGENT = "prodouane-relay-webhooks/1 (+https://www.standardwebhooks.com)"
MAX_RETRY_AFTER = 3600.0


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one post (Standard Webhooks, symmetric ``v1``)."""
    mac = hmac.new(key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _document(message: Outgoing) -> tuple[str, bytes]:
    """The post's webhook-id and body: the rendered CloudEvent, or the text wrapped in one."""
    try:
        parsed = json.loads(message.text)
    except ValueError:
        parsed = None
    if not (isinstance(parsed, dict) and parsed.get("specversion") and isinstance(parsed.get("id"), str)):
        text = text_message(message.text)
        parsed = json.loads(text)
    else:
        text = message.text
    return str(parsed["id"]), text.encode("utf-8")


class WebhookChannel:
    """Posts signed CloudEvents to each subscriber's URL (the address)."""

    name = "webhook"

    def __init__(
        self,
        secret_for: Callable[[str], str | None],
        *,
        timeout: float = 15.0,
        max_connections: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``secret_for(address)`` gives the subscriber's secret (it reads the store: it runs in a
        worker thread); ``transport`` replaces httpx's (tests)."""
        self._secret_for = secret_for
        self._timeout = httpx.Timeout(timeout, pool=None)  # queued behind the pool: no pool timeout
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._transport = transport
        self._clock = clock
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                limits=self._limits,
                transport=self._transport,
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def aclose(self) -> None:
        """Close the connection pool (a later send opens a new one)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def send(self, message: Outgoing) -> str:
        """POST the signed document to ``message.address``; returns the webhook-id."""
        shown = masked_url(message.address)
        msg_id, body = _document(message)
        secret = await asyncio.to_thread(self._secret_for, message.address)
        if not secret:
            raise AuthError(
                "no signing secret for this webhook (create it again, or `subscribers secret ID`)",
                channel=self.name,
                address=shown,
                reason="no_secret",
            )
        timestamp = int(self._clock())
        headers = {
            "Content-Type": CONTENT_TYPE,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
        }
        try:
            response = await self._http().post(message.address, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise TransientError(
                "the receiver did not answer in time", channel=self.name, address=shown, reason="timeout"
            ) from exc
        except httpx.HTTPError as exc:  # refused, reset, DNS, TLS…
            raise TransientError(
                f"cannot reach the receiver: {type(exc).__name__}",
                channel=self.name,
                address=shown,
                reason="unreachable",
            ) from exc
        status = response.status_code
        if 200 <= status < 300:
            return msg_id
        if status == 410:
            raise BlockedError(
                "the receiver answered 410 Gone: it wants no more webhooks",
                channel=self.name,
                address=shown,
                reason="gone",
            )
        raise TransientError(
            f"the receiver answered {status}",
            channel=self.name,
            address=shown,
            reason=f"http_{status}",
            retry_after=_retry_after(response),
        )
