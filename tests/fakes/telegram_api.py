"""A strict, programmable Telegram Bot API on 127.0.0.1, for tests and benchmarks.

python-telegram-bot talks to it unchanged: ``Bot(token, base_url=f"{tg.url}/bot")``. It answers
the methods the relay and the chat bot use, and it enforces the published flood limits as exact
sliding windows (30 messages per second overall, 1 per second per chat, 20 per minute per group)
so that a pacing bug shows up as ``tg.throttled > 0`` instead of passing unnoticed::

    with FakeTelegram() as tg:
        bot = telegram.Bot(tg.token, base_url=f"{tg.url}/bot")
        ...
        tg.block(42)                      # 403 bot was blocked by the user
        tg.fail_next(2, status=429, retry_after=3)
        tg.push_message(42, "/start")     # served by getUpdates
        tg.wait_for(lambda: len(tg.sent_to(42)) == 1)

Recordings: ``sent`` lists the *accepted* sendMessage/editMessageText calls (rejected ones are
not delivered), ``requests`` lists every call with its HTTP status. Chat ids are normalised to
``str`` everywhere (``"42"``, ``"-1001"``, ``"@channel"``); helpers accept ``int`` or ``str``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes._server import BackgroundServer, SlidingLog, read_params, retry_after_seconds
from tests.fakes._telegram_wire import (
    REASONS,
    chat_key,
    decode,
    html_error,
    is_group,
    may_lose_reply,
    reply_target,
)

__all__ = ["DEFAULT_TOKEN", "SENDING_METHODS", "FakeTelegram", "TelegramLimits"]

DEFAULT_TOKEN = "123456:TEST-token"
SENDING_METHODS = frozenset({"sendMessage", "editMessageText"})
MAX_TEXT = 4096

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TelegramLimits:
    """Flood limits (rate per seconds); ``None`` switches a window off."""

    global_rate: int | None = 30
    global_per: float = 1.0
    chat_rate: int | None = 1
    chat_per: float = 1.0
    group_rate: int | None = 20
    group_per: float = 60.0

    @classmethod
    def off(cls) -> TelegramLimits:
        return cls(global_rate=None, chat_rate=None, group_rate=None)


@dataclass(slots=True)
class _Failure:
    status: int
    retry_after: int | None


class _Dropped(Exception):
    """Raised inside a method to cut the connection without an answer (a crash)."""


class _Reply(Exception):
    """Raised inside a method to answer with an error (caught by the dispatcher)."""

    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class FakeTelegram(BackgroundServer):
    """Fake Bot API; see the module docstring. Thread-safe; start()/stop() or ``with``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        limits: TelegramLimits | None = None,
        bot_username: str = "fake_relay_bot",
    ) -> None:
        super().__init__()
        self.token = token
        self.limits = limits if limits is not None else TelegramLimits()
        head = token.partition(":")[0]
        self.bot_user: Json = {
            "id": int(head) if head.isdigit() else 1,
            "is_bot": True,
            "first_name": "Fake Relay",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._sent: list[Json] = []
        self._requests: list[Json] = []
        self._callback_answers: list[Json] = []
        self.throttled = 0
        self._global = SlidingLog(self.limits.global_rate or 0, self.limits.global_per)
        self._per_chat: dict[str, SlidingLog] = {}
        self._per_group: dict[str, SlidingLog] = {}
        self._blocked: set[str] = set()
        self._missing: set[str] = set()
        self._failures: list[_Failure] = []
        self._update_failures: list[int] = []
        self._crash_after: int | None = None
        self._lose_responses = 0
        self._chats: dict[str, Json] = {}
        self._messages: dict[tuple[str, int], Json] = {}
        self._next_message_id: defaultdict[str, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._updates: list[Json] = []
        self._next_update_id = itertools.count(1)
        self._next_callback_id = itertools.count(1)
        self._pollers: set[asyncio.Event] = set()
        self._stopping = False
        self._commands: list[Json] = []
        self._webhook_url = ""

    # -- recordings --------------------------------------------------------------------------

    @property
    def sent(self) -> list[Json]:
        """Accepted sending calls, oldest first (a copy)."""
        with self._cond:
            return [dict(entry) for entry in self._sent]

    @property
    def requests(self) -> list[Json]:
        """Every call: ``method``, ``params``, ``status`` (0: connection dropped), ``at`` (a copy)."""
        with self._cond:
            return [dict(entry) for entry in self._requests]

    @property
    def callback_answers(self) -> list[Json]:
        with self._cond:
            return [dict(entry) for entry in self._callback_answers]

    @property
    def commands(self) -> list[Json]:
        """What setMyCommands last stored."""
        with self._cond:
            return [dict(entry) for entry in self._commands]

    def sent_to(self, chat_id: int | str, method: str | None = "sendMessage") -> list[Json]:
        """Accepted calls for one chat; ``method=None`` includes edits."""
        chat = chat_key(chat_id)
        return [e for e in self.sent if e["chat_id"] == chat and (method is None or e["method"] == method)]

    def requests_for(self, method: str) -> list[Json]:
        return [r for r in self.requests if r["method"] == method]

    # -- scripting -----------------------------------------------------------------------------

    def block(self, chat_id: int | str) -> None:
        """Sending to this chat answers 403 'bot was blocked by the user'."""
        with self._cond:
            self._blocked.add(chat_key(chat_id))

    def chat_not_found(self, chat_id: int | str) -> None:
        """Anything addressed to this chat answers 400 'chat not found'."""
        with self._cond:
            self._missing.add(chat_key(chat_id))

    def fail_next(self, n: int = 1, *, status: int = 500, retry_after: int | None = None) -> None:
        """The next ``n`` sending calls fail with ``status`` (429 carries ``retry_after``, default 1)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._cond:
            self._failures.extend(_Failure(status, retry_after) for _ in range(n))

    def fail_updates(self, n: int = 1, *, status: int = 502) -> None:
        """The next ``n`` getUpdates calls (long polling) fail with ``status``, as a proxy in front
        of the Bot API does now and then."""
        with self._cond:
            self._update_failures.extend([status] * n)

    def crash_after(self, n: int) -> None:
        """After ``n`` more accepted sending calls, drop every connection until :meth:`recover`."""
        with self._cond:
            self._crash_after = n

    def lose_responses(self, n: int = 1) -> None:
        """The next ``n`` sending calls are delivered and recorded, but the answer is lost
        (connection dropped): the ambiguous case an exactly-once outbox must think about."""
        with self._cond:
            self._lose_responses += n

    def recover(self) -> None:
        with self._cond:
            self._crash_after = None
            self._lose_responses = 0
            self._failures.clear()

    def set_chat(self, chat_id: int | str, **fields: Any) -> None:
        """Describe a chat for getChat and pushed updates (``type``, ``title``, ``username``...)."""
        chat = chat_key(chat_id)
        with self._cond:
            self._chats[chat] = {**self._chat(chat), **fields}

    # -- incoming updates ----------------------------------------------------------------------

    def push_update(self, update: Json) -> int:
        """Queue a raw update for getUpdates; assigns ``update_id`` if missing; returns it."""
        with self._cond:
            update = dict(update)
            update.setdefault("update_id", next(self._next_update_id))
            self._updates.append(update)
        self.call_soon(self._wake_pollers)
        return int(update["update_id"])

    def push_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        first_name: str = "Test",
        username: str | None = None,
    ) -> Json:
        """Queue a user's text message (commands get their ``bot_command`` entity); returns it."""
        chat = chat_key(chat_id)
        with self._cond:
            if chat_type is not None:
                self.set_chat(chat, type=chat_type)
            chat_obj = self._chat(chat)
            if user_id is None:
                user_id = int(chat) if chat_obj["type"] == "private" else 1000
            sender: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
            if username:
                sender["username"] = username
            message: Json = {
                "message_id": next(self._next_message_id[chat]),
                "date": int(time.time()),
                "chat": chat_obj,
                "from": sender,
                "text": text,
            }
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            self._messages[(chat, message["message_id"])] = message
            self.push_update({"message": message})
            return dict(message)

    def push_callback(
        self, chat_id: int | str, data: str, message_id: int, *, user_id: int | None = None
    ) -> Json:
        """Queue a button press on ``message_id`` (which the bot sent earlier, ideally)."""
        chat = chat_key(chat_id)
        with self._cond:
            chat_obj = self._chat(chat)
            if user_id is None:
                user_id = int(chat) if chat_obj["type"] == "private" else 1000
            message = self._messages.get(
                (chat, message_id),
                {"message_id": message_id, "date": int(time.time()), "chat": chat_obj, "text": ""},
            )
            query: Json = {
                "id": str(next(self._next_callback_id)),
                "from": {"id": user_id, "is_bot": False, "first_name": "Test"},
                "message": message,
                "chat_instance": f"ci{chat}",
                "data": data,
            }
            self.push_update({"callback_query": query})
            return dict(query)

    def _wake_pollers(self) -> None:
        for event in list(self._pollers):
            event.set()

    def on_stopping(self) -> None:
        self._stopping = True
        self._wake_pollers()

    # -- HTTP -----------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        return app

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            raw = await read_params(request)
        except ConnectionResetError:  # the client went away before its request was complete
            return web.Response(status=400)
        params = decode(raw)
        now = time.monotonic()
        status, body = 200, None
        try:
            if request.match_info["token"] != self.token:
                raise _Reply(401, "Unauthorized")
            handler = self._methods().get(method)
            if handler is None:
                raise _Reply(404, "Not Found")
            self._before(method)
            result = await handler(params, now)
            body = {"ok": True, "result": result}
        except _Dropped:
            status, body = 0, {}
        except _Reply as reply:
            status = reply.status
            body = {"ok": False, "error_code": reply.status, "description": reply.description}
            if reply.parameters:
                body["parameters"] = reply.parameters
        with self._cond:
            self._requests.append({"method": method, "params": params, "status": status, "at": now})
            lose = status == 0
            if status == 200 and method in SENDING_METHODS:
                if self._crash_after is not None:
                    self._crash_after -= 1
                if self._lose_responses > 0:
                    self._lose_responses -= 1
                    lose = True
            self._notify()
        await self._respond_late()
        if lose:  # cut the connection without an answer
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=204)
        return web.json_response(body, status=status)

    def _before(self, method: str) -> None:
        """Crashes and injected failures, checked before the method runs."""
        with self._cond:
            if self._crash_after is not None and self._crash_after <= 0:
                raise _Dropped
            if method == "getUpdates" and self._update_failures:
                status = self._update_failures.pop(0)
                raise _Reply(status, REASONS.get(status, "Internal Server Error"))
            if method in SENDING_METHODS and self._failures:
                failure = self._failures.pop(0)
                if failure.status == 429:
                    raise _Reply(
                        429,
                        f"Too Many Requests: retry after {failure.retry_after}",
                        {"retry_after": failure.retry_after},
                    )
                raise _Reply(failure.status, REASONS.get(failure.status, "Internal Server Error"))

    def _methods(self) -> dict[str, Callable[[Json, float], Awaitable[Any]]]:
        return {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getChat": self._get_chat,
            "getUpdates": self._get_updates,
            "close": self._true,
            "logOut": self._true,
        }

    # -- helpers used under the lock -------------------------------------------------------------

    def _chat(self, chat: str) -> Json:
        if chat in self._chats:
            return dict(self._chats[chat])
        if chat.startswith("@"):
            return {"id": -1000000000001, "type": "channel", "title": chat[1:], "username": chat[1:]}
        chat_id = int(chat) if chat.lstrip("-").isdigit() else 0
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": f"Group {chat}"}
        return {"id": chat_id, "type": "private", "first_name": f"User{chat}"}

    def _target(self, params: Json) -> str:
        chat = params.get("chat_id")
        if not chat:
            raise _Reply(400, "Bad Request: chat_id is empty")
        if chat in self._missing:
            raise _Reply(400, "Bad Request: chat not found")
        return str(chat)

    def _check_deliverable(self, chat: str) -> None:
        if chat in self._blocked:
            if is_group(chat):
                raise _Reply(403, "Forbidden: bot was kicked from the group chat")
            raise _Reply(403, "Forbidden: bot was blocked by the user")

    def _check_text(self, params: Json) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _Reply(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise _Reply(400, "Bad Request: message is too long")
        if str(params.get("parse_mode", "")).upper() == "HTML" and (error := html_error(text)):
            raise _Reply(400, f"Bad Request: can't parse entities: {error}")
        return text

    def _check_rate(self, chat: str, now: float) -> None:
        """Admit one message to ``chat`` at ``now`` or answer 429; records it in the windows."""
        limits = self.limits
        logs: list[SlidingLog] = []
        if limits.global_rate:
            logs.append(self._global)
        if limits.chat_rate:
            logs.append(self._per_chat.setdefault(chat, SlidingLog(limits.chat_rate, limits.chat_per)))
        if limits.group_rate and is_group(chat):
            logs.append(self._per_group.setdefault(chat, SlidingLog(limits.group_rate, limits.group_per)))
        wait = max((log.wait(now) for log in logs), default=0.0)
        if wait > 0:
            self.throttled += 1
            seconds = retry_after_seconds(wait)
            raise _Reply(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})
        for log in logs:
            log.add(now)

    def _record(self, method: str, chat: str, message: Json, params: Json, now: float) -> None:
        self._sent.append(
            {
                "method": method,
                "chat_id": chat,
                "message_id": message["message_id"],
                "text": message.get("text"),
                "parse_mode": params.get("parse_mode"),
                "reply_to_message_id": message.get("reply_to_message", {}).get("message_id")
                if "reply_to_message" in message
                else reply_target(params),
                "reply_markup": params.get("reply_markup"),
                "link_preview_options": params.get("link_preview_options"),
                "disable_web_page_preview": params.get("disable_web_page_preview"),
                "at": now,
            }
        )

    # -- methods -------------------------------------------------------------------------------

    async def _true(self, params: Json, now: float) -> bool:
        return True

    async def _get_me(self, params: Json, now: float) -> Json:
        return dict(self.bot_user)

    async def _send_message(self, params: Json, now: float) -> Json:
        with self._cond:
            chat = self._target(params)
            self._check_deliverable(chat)
            text = self._check_text(params)
            reply_to = reply_target(params)
            original = self._messages.get((chat, reply_to)) if reply_to is not None else None
            if reply_to is not None and original is None and not may_lose_reply(params):
                raise _Reply(400, "Bad Request: message to be replied not found")
            self._check_rate(chat, now)
            message: Json = {
                "message_id": next(self._next_message_id[chat]),
                "date": int(time.time()),
                "chat": self._chat(chat),
                "from": dict(self.bot_user),
                "text": text,
            }
            if original is not None:
                message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self._messages[(chat, message["message_id"])] = message
            self._record("sendMessage", chat, message, params, now)
            return message

    async def _edit_message_text(self, params: Json, now: float) -> Json:
        with self._cond:
            if "inline_message_id" in params:
                raise _Reply(400, "Bad Request: inline messages are not supported by this fake")
            chat = self._target(params)
            self._check_deliverable(chat)
            text = self._check_text(params)
            key = (chat, params.get("message_id"))
            current = self._messages.get(key)  # type: ignore[arg-type]
            if current is None:
                raise _Reply(400, "Bad Request: message to edit not found")
            if current.get("text") == text and params.get("reply_markup") == current.get("reply_markup"):
                raise _Reply(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply "
                    "markup are exactly the same as a current content and reply markup of the message",
                )
            self._check_rate(chat, now)
            message = {**current, "text": text, "edit_date": int(time.time())}
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            self._messages[key] = message  # type: ignore[index]
            self._record("editMessageText", chat, message, params, now)
            return message

    async def _delete_message(self, params: Json, now: float) -> bool:
        with self._cond:
            chat = self._target(params)
            if self._messages.pop((chat, params.get("message_id")), None) is None:  # type: ignore[arg-type]
                raise _Reply(400, "Bad Request: message to delete not found")
            return True

    async def _answer_callback_query(self, params: Json, now: float) -> bool:
        with self._cond:
            self._callback_answers.append({**params, "at": now})
            return True

    async def _send_chat_action(self, params: Json, now: float) -> bool:
        with self._cond:
            self._check_deliverable(self._target(params))
            return True

    async def _set_my_commands(self, params: Json, now: float) -> bool:
        commands = params.get("commands")
        with self._cond:
            self._commands = list(commands) if isinstance(commands, list) else []
            return True

    async def _get_my_commands(self, params: Json, now: float) -> list[Json]:
        return self.commands

    async def _delete_my_commands(self, params: Json, now: float) -> bool:
        with self._cond:
            self._commands = []
            return True

    async def _delete_webhook(self, params: Json, now: float) -> bool:
        with self._cond:
            self._webhook_url = ""
            if params.get("drop_pending_updates"):
                self._updates.clear()
            return True

    async def _set_webhook(self, params: Json, now: float) -> bool:
        with self._cond:
            self._webhook_url = str(params.get("url", ""))
            return True

    async def _get_webhook_info(self, params: Json, now: float) -> Json:
        with self._cond:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    async def _get_chat(self, params: Json, now: float) -> Json:
        with self._cond:
            chat = self._chat(self._target(params))
            chat.setdefault("accent_color_id", 0)
            chat.setdefault("max_reaction_count", 11)
            return chat

    async def _get_updates(self, params: Json, now: float) -> list[Json]:
        offset = params.get("offset")
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        event = asyncio.Event()
        with self._cond:
            if self._webhook_url:
                raise _Reply(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(offset, int):
                if offset < 0:
                    del self._updates[: max(0, len(self._updates) + offset)]
                else:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._pollers.add(event)
        try:
            while True:
                with self._cond:
                    event.clear()
                    ready = [dict(u) for u in self._updates[:limit]]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._stopping:
                    return ready
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._cond:
                self._pollers.discard(event)
