"""The bot's replies through the outbox's pacer: one pacer per bot token, the person first.

python-telegram-bot lets an ``Application`` route every Bot API request through a
``telegram.ext.BaseRateLimiter``. :class:`PacerRateLimiter` is that hook over our
:class:`~relays.pacing.Pacer` — the same object :class:`~relays.channels.telegram.TelegramChannel`
paces the outbox with — so a reply and an alert to one chat can never break its 1 message/s, nor
the bot its 30 msg/s. Replies are ``urgent``: when both wait for the same chat (or the overall
window), the person's answer goes first and the alerts right after. Requests that do not post in a
chat (``getUpdates``, ``answerCallbackQuery``, ``getMe``, ``setMyCommands``…) are not paced.

A 429 still met (another process using the token) penalises that chat for the server's
``retry_after`` and is retried ``max_retries`` times before it reaches the handler.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from relays.channels.telegram import is_group, retry_after_seconds
from relays.pacing import Pacer

__all__ = ["PacerRateLimiter", "paced"]

_UNPACED = frozenset({"sendChatAction"})


def paced(endpoint: str, data: dict[str, Any]) -> str | None:
    """The chat a request posts in (its pacer key), or ``None`` for a request that posts nothing."""
    chat = data.get("chat_id")
    if chat is None or endpoint in _UNPACED:
        return None
    if endpoint.startswith(("send", "edit", "copyMessage", "forwardMessage")):
        return str(chat)
    return None


class PacerRateLimiter(BaseRateLimiter[None]):
    """python-telegram-bot's rate-limiter hook over the bot token's :class:`Pacer` (replies urgent)."""

    __slots__ = ("_pacer", "max_retries")

    def __init__(self, pacer: Pacer, *, max_retries: int = 1) -> None:
        self._pacer = pacer
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to open: the pacer belongs to the relay."""

    async def shutdown(self) -> None:
        """Nothing to close: the pacer belongs to the relay."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = paced(endpoint, data)
        if chat is None:
            return await callback(*args, **kwargs)
        attempt = 0
        while True:
            try:
                async with self._pacer.slot(chat, group=is_group(chat), urgent=True):
                    return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._pacer.penalise(chat, retry_after_seconds(exc))
                if attempt >= self.max_retries:
                    raise
                attempt += 1
