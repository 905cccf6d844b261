"""Slack delivery through slack_sdk's ``AsyncWebClient``, paced and with errors translated.

Slack allows about one message per second per channel; every send goes through a
:class:`~relays.pacing.Pacer` keyed by channel, and a 429 penalises that channel for the
``Retry-After`` the server sent.

slack_sdk's retry handlers are switched off (``retry_handlers=[]``): its default handler re-sends
after a connection error, which may post the same alert twice, and its rate-limit handler would
sleep inside ``send``. Retrying is the outbox's decision, bounded and visible.

Error translation (``SlackApiError.response["error"]`` → ours):

* HTTP 429 / ``ratelimited`` → ``TransientError(retry_after=Retry-After)``; HTTP 5xx, unknown
  errors, ``aiohttp.ClientError`` and timeouts → ``TransientError``.
* ``channel_not_found`` → ``NotFoundError``; ``is_archived``, ``not_in_channel`` →
  ``BlockedError``; ``invalid_auth``, ``not_authed``, ``token_revoked``, ``account_inactive``,
  ``missing_scope`` → ``AuthError`` (our app, not the channel, is at fault).
* ``msg_too_long``, ``no_text``, ``invalid_blocks`` → ``PermanentError`` for that message.

References are ``"<channel>:<ts>"``; ``thread_ref`` threads the message under that ts.
"""

from __future__ import annotations

import json
import math
from types import TracebackType
from typing import Any, Self

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from relays.channels.base import (
    AuthError,
    BlockedError,
    DeliveryError,
    NotFoundError,
    Outgoing,
    PermanentError,
    TransientError,
    send_in_parts,
    split_ref,
)
from relays.pacing import Pacer
from relays.render import SLACK_LIMIT

__all__ = ["SlackChannel", "slack_pacer"]

DEFAULT_BASE_URL = "https://slack.com/api/"
_FORMATS = frozenset({"plain", "mrkdwn", "slack-blocks"})
_PERMANENT: dict[str, type[PermanentError]] = {
    "channel_not_found": NotFoundError,
    "is_archived": BlockedError,
    "not_in_channel": BlockedError,
    "invalid_auth": AuthError,
    "not_authed": AuthError,
    "token_revoked": AuthError,
    "account_inactive": AuthError,
    "missing_scope": AuthError,
    "msg_too_long": PermanentError,
    "no_text": PermanentError,
    "invalid_blocks": PermanentError,
}


def slack_pacer() -> Pacer:
    """Slack's limit for posting: one message per second per channel."""
    return Pacer(global_rate=None, per_key_rate=1, per_key_per=1.0, group_rate=None)


class SlackChannel:
    """Posts to Slack channels; ``address`` is a channel id (``"C0123"``) or user id for a DM."""

    name = "slack"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        pacer: Pacer | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._token = token
        self._base_url = base_url
        self._timeout = timeout
        self._pacer = pacer if pacer is not None else slack_pacer()
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

    def __repr__(self) -> str:  # the token stays out of logs
        return f"SlackChannel(base_url={self._base_url!r})"

    async def start(self) -> None:
        """Open the HTTP session (idempotent; ``send`` calls it when needed). No request is made."""
        if self._client is None:
            self._session = aiohttp.ClientSession()
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                timeout=math.ceil(self._timeout),  # slack_sdk takes whole seconds
                session=self._session,
                retry_handlers=[],
            )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = self._client = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def send(self, message: Outgoing) -> str:
        """Post ``message`` (a text over a section block's room in numbered parts, in its thread);
        returns ``"<channel>:<ts>"`` of the (first) message."""
        if message.format == "slack-blocks":
            return await self._send_one(message)
        return await send_in_parts(self._send_one, message, SLACK_LIMIT, reply_to_first=False)

    async def _send_one(self, message: Outgoing) -> str:
        channel = message.address
        kwargs = self._arguments(message)
        await self.start()
        assert self._client is not None
        try:
            async with self._pacer.slot(channel):
                response = await self._client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            raise self._translate(exc, channel) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(
                f"{type(exc).__name__}: {exc}", channel=self.name, address=channel, reason="network"
            ) from exc
        return f"{channel}:{response['ts']}"

    def _arguments(self, message: Outgoing) -> dict[str, Any]:
        if message.format not in _FORMATS:
            raise ValueError(f"SlackChannel cannot send format {message.format!r}")
        kwargs: dict[str, Any] = {
            "channel": message.address,
            "text": message.text,
            "mrkdwn": message.format != "plain",
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if message.format == "slack-blocks":
            try:
                document = json.loads(message.text)
                kwargs["text"] = str(document["text"])
                kwargs["blocks"] = list(document["blocks"])
            except (ValueError, KeyError, TypeError) as exc:
                raise PermanentError(
                    'slack-blocks text is not {"text": ..., "blocks": [...]}',
                    channel=self.name,
                    address=message.address,
                    reason="bad_message",
                ) from exc
        if message.thread_ref is not None:
            kwargs["thread_ts"] = split_ref(message.thread_ref, message.address)
        return kwargs

    def _translate(self, exc: SlackApiError, channel: str) -> DeliveryError:
        response = exc.response
        data = response.data if isinstance(response.data, dict) else {}
        error = str(data.get("error") or f"http_{response.status_code}")
        if response.status_code == 429 or error == "ratelimited":
            retry_after = _retry_after(response.headers)
            if retry_after is not None:
                self._pacer.penalise(channel, retry_after)
            return TransientError(
                error, channel=self.name, address=channel, reason="rate_limited", retry_after=retry_after
            )
        permanent = _PERMANENT.get(error)
        if permanent is not None:
            return permanent(error, channel=self.name, address=channel, reason=error)
        return TransientError(error, channel=self.name, address=channel, reason=error)


def _retry_after(headers: Any) -> float | None:
    for name, value in dict(headers or {}).items():
        if str(name).lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None
