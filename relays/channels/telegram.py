"""Telegram delivery through python-telegram-bot's ``Bot``, paced and with errors translated.

Every send goes through a :class:`~relays.pacing.Pacer` (30/s overall, 1/s per chat, 20/min per
group) so that a fan-out to a thousand chats never meets a 429; when one still comes back, the
chat is penalised for the server's ``retry_after`` and the outbox gets a ``TransientError``.

Error translation (python-telegram-bot's ``telegram/error.py`` → ours):

* ``RetryAfter`` → ``TransientError(retry_after=…)``; ``TimedOut``, ``NetworkError`` (which
  python-telegram-bot also raises for 5xx) and unknown ``TelegramError`` → ``TransientError``.
  A read timeout is ambiguous: the message may have arrived. Telegram has no idempotency key,
  so the outbox decides (reason ``"timeout"``).
* ``Forbidden`` (blocked by the user, kicked from the group, user deactivated) → ``BlockedError``.
* ``BadRequest`` "chat not found" → ``NotFoundError``; "bot was kicked"/"user is deactivated"
  → ``BlockedError``; ``ChatMigrated`` (group became a supergroup) → ``NotFoundError`` whose
  message names the new chat id.
* Any other ``BadRequest`` (unparsable HTML, text too long…) → plain ``PermanentError``: the
  same message will fail the same way, so retrying only delays the dead letter; the subscriber
  is fine.
* ``InvalidToken`` → ``AuthError``.

References are ``"<chat_id>:<message_id>"``. Links are never previewed (an alert must not carry
a third-party card), and replies use ``allow_sending_without_reply`` so a deleted parent never
blocks an alert.
"""

from __future__ import annotations

import datetime as dtm
import warnings
from types import TracebackType
from typing import Self

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

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
    utf16_len,
)
from relays.channels.telegram_http import AiohttpRequest, json_body
from relays.pacing import Pacer
from relays.render import TELEGRAM_LIMIT

__all__ = ["TelegramChannel", "telegram_pacer"]

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
_PARSE_MODES = {"plain": None, "html": ParseMode.HTML, "markdownv2": ParseMode.MARKDOWN_V2}
_NO_PREVIEW = {"is_disabled": True}
_NOT_FOUND = ("chat not found", "user not found", "peer_id_invalid")
_BLOCKED = (
    "bot was kicked",
    "bot was blocked",
    "user is deactivated",
    "not enough rights",
    "have no rights",
    "chat_write_forbidden",
)


#: Jitter allowed between a send's grant and its arrival at the Bot API (see relays.pacing).
GRANT_MARGIN = 0.004


def telegram_pacer(global_rate: int = 30) -> Pacer:
    """Telegram's published limits: 30 msg/s overall, 1 msg/s per chat, 20 msg/min per group.

    One per bot token, shared by the outbox and the bot's replies. The overall window is paced by
    the moment a send is granted (plus its delay beyond the fastest round trip, and
    :data:`GRANT_MARGIN`), spread evenly; each chat's window by the moment its previous message
    was answered. Several instances sending for one bot share the
    30 msg/s: give each its share.
    """
    return Pacer(
        global_rate=global_rate,
        global_per=1.0,
        per_key_rate=1,
        per_key_per=1.0,
        group_rate=20,
        group_per=60.0,
        spread=True,
        global_at_grant=True,
        global_margin=GRANT_MARGIN,
    )


def is_group(chat_id: str) -> bool:
    """Groups, supergroups and channels have negative ids (or an ``@username``)."""
    return not chat_id.isdigit()


class TelegramChannel:
    """Sends to Telegram chats; ``address`` is the chat id (``"42"``, ``"-1001234"``, ``"@chan"``)."""

    name = "telegram"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        pacer: Pacer | None = None,
        timeout: float = 10.0,
        pool_size: int = 64,
    ) -> None:
        # Our own request objects, opened and closed by us: ``Bot.initialize`` would call getMe,
        # and its InvalidToken message quotes the token. aiohttp rather than httpx underneath: a
        # third of the CPU per message (relays.channels.telegram_http).
        request = AiohttpRequest(pool_size=pool_size, timeout=timeout)
        self._requests = (request, AiohttpRequest(pool_size=1, timeout=timeout))
        self._bot = Bot(token, base_url=base_url, request=request, get_updates_request=self._requests[1])
        self._send_url = f"{self._bot.base_url}/sendMessage"
        self._pacer = pacer if pacer is not None else telegram_pacer()
        self._started = False

    def __repr__(self) -> str:  # the token stays out of logs
        return f"TelegramChannel(base_url={self._bot.base_url.split('/bot')[0]!r})"

    async def start(self) -> None:
        """Open the HTTP pool (idempotent; ``send`` calls it when needed). No request is made."""
        if not self._started:
            for request in self._requests:
                await request.initialize()
            self._started = True

    async def aclose(self) -> None:
        if self._started:
            for request in self._requests:
                await request.shutdown()
            self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def send(self, message: Outgoing) -> str:
        """Send ``message`` (in numbered parts, each replying to the first, when it is over Telegram's
        4,096 characters); returns ``"<chat_id>:<message_id>"`` of the (first) message."""
        return await send_in_parts(self._send_one, message, TELEGRAM_LIMIT, measure=utf16_len)

    async def _send_one(self, message: Outgoing) -> str:
        if message.format not in _PARSE_MODES:
            raise ValueError(f"TelegramChannel cannot send format {message.format!r}")
        chat = message.address
        parameters: dict[str, object] = {
            "chat_id": chat,
            "text": message.text,
            "link_preview_options": _NO_PREVIEW,
        }
        mode = _PARSE_MODES[message.format]
        if mode is not None:
            parameters["parse_mode"] = mode.value
        if message.thread_ref is not None:
            reply_to = int(split_ref(message.thread_ref, chat))
            parameters["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
        await self.start()
        try:
            async with self._pacer.slot(chat, group=is_group(chat)):
                # BaseRequest.post: python-telegram-bot's answer handling (RetryAfter, Forbidden,
                # BadRequest…) without Bot.send_message's objects (relays.channels.telegram_http).
                sent = await self._requests[0].post(self._send_url, request_data=json_body(parameters))
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            self._pacer.penalise(chat, seconds)
            raise TransientError(
                str(exc), channel=self.name, address=chat, reason="rate_limited", retry_after=seconds
            ) from exc
        except TelegramError as exc:
            raise self._translate(exc, chat) from exc
        if not isinstance(sent, dict) or not isinstance(sent.get("message_id"), int):
            raise TransientError(
                "Telegram accepted the message without giving its id",
                channel=self.name,
                address=chat,
                reason="bad_answer",
            )
        return f"{chat}:{sent['message_id']}"

    def _translate(self, exc: TelegramError, chat: str) -> DeliveryError:
        text = exc.message
        lowered = text.lower()
        if isinstance(exc, InvalidToken):
            return AuthError(text, channel=self.name, address=chat, reason="invalid_token")
        if isinstance(exc, ChatMigrated):
            return NotFoundError(
                f"group migrated to supergroup {exc.new_chat_id}",
                channel=self.name,
                address=chat,
                reason="chat_migrated",
            )
        if isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and _has(lowered, _BLOCKED)):
            return BlockedError(text, channel=self.name, address=chat, reason="blocked")
        if isinstance(exc, BadRequest):
            if _has(lowered, _NOT_FOUND):
                return NotFoundError(text, channel=self.name, address=chat, reason="chat_not_found")
            return PermanentError(text, channel=self.name, address=chat, reason="bad_request")
        reason = "timeout" if isinstance(exc, TimedOut) else "network"
        return TransientError(text, channel=self.name, address=chat, reason=reason)


def _has(text: str, needles: tuple[str, ...]) -> bool:
    return any(needle in text for needle in needles)


def retry_after_seconds(exc: RetryAfter) -> float:
    # ``retry_after`` is an int today and a timedelta tomorrow; reading it warns until then.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)
