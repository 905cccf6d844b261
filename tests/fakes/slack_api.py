"""A strict, programmable Slack Web API on 127.0.0.1, for tests and benchmarks.

slack_sdk talks to it unchanged: ``WebClient(token, base_url=f"{sl.url}/api/")`` (or
``AsyncWebClient``). It answers the methods the relay and the Slack bot use, enforces Slack's
"one message per second per channel" as an exact sliding window (HTTP 429, ``Retry-After``,
``{"ok": false, "error": "ratelimited"}``), and fails on demand::

    with FakeSlack() as sl:
        client = WebClient(sl.token, base_url=f"{sl.url}/api/")
        sl.archive("C1")                  # is_archived
        sl.fail_next(1, status=500)
        client.chat_postMessage(channel="C2", text="hi")
        sl.wait_for(lambda: len(sl.sent_to("C2")) == 1)

Slash-command ``response_url`` posts go to ``sl.response_url("abc")`` and land in
``sl.responses``. Like Slack, API errors are HTTP 200 with ``ok: false`` except 429 and 5xx.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes._server import BackgroundServer, SlidingLog, read_params, retry_after_seconds

__all__ = ["DEFAULT_TOKEN", "RATE_LIMITED_METHODS", "FakeSlack", "SlackLimits"]

DEFAULT_TOKEN = "xoxb-test-token"
RATE_LIMITED_METHODS = frozenset({"chat.postMessage"})
MAX_TEXT = 40_000
_JSON_FIELDS = frozenset({"blocks", "attachments", "metadata"})
_BOOL_FIELDS = frozenset({"unfurl_links", "unfurl_media", "mrkdwn", "reply_broadcast", "as_user"})

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SlackLimits:
    """Messages per channel per window; ``channel_rate=None`` switches the window off."""

    channel_rate: int | None = 1
    channel_per: float = 1.0

    @classmethod
    def off(cls) -> SlackLimits:
        return cls(channel_rate=None)


class _Reply(Exception):
    def __init__(self, error: str, status: int = 200, retry_after: int | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.retry_after = retry_after


def _decode(params: Json) -> Json:
    out: Json = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in _BOOL_FIELDS:
                value = value.lower() in ("true", "1")
        out[key] = value
    return out


class FakeSlack(BackgroundServer):
    """Fake Slack Web API; see the module docstring. Thread-safe; start()/stop() or ``with``."""

    def __init__(
        self, token: str = DEFAULT_TOKEN, *, limits: SlackLimits | None = None, team: str = "Fake Team"
    ) -> None:
        super().__init__()
        self.token = token
        self.limits = limits if limits is not None else SlackLimits()
        self.team = team
        self.bot_user_id = "U0BOT"
        self.throttled = 0
        self._sent: list[Json] = []
        self._requests: list[Json] = []
        self._responses: list[Json] = []
        self._windows: dict[str, SlidingLog] = {}
        self._archived: set[str] = set()
        self._missing: set[str] = set()
        self._outside: set[str] = set()
        self._failures: list[tuple[int, int | None]] = []
        self._token_error: str | None = None
        self._messages: dict[tuple[str, str], Json] = {}
        self._last_ts = 0.0

    # -- recordings ----------------------------------------------------------------------------

    @property
    def sent(self) -> list[Json]:
        """Accepted chat.postMessage / chat.update / chat.postEphemeral calls (a copy)."""
        with self._cond:
            return [dict(entry) for entry in self._sent]

    @property
    def requests(self) -> list[Json]:
        """Every API call: ``method``, ``params``, ``status``, ``error``, ``at`` (a copy)."""
        with self._cond:
            return [dict(entry) for entry in self._requests]

    @property
    def responses(self) -> list[Json]:
        """Posts to response URLs: ``id``, ``body``, ``at`` (a copy)."""
        with self._cond:
            return [dict(entry) for entry in self._responses]

    def sent_to(self, channel: str, method: str | None = "chat.postMessage") -> list[Json]:
        return [e for e in self.sent if e["channel"] == channel and (method is None or e["method"] == method)]

    def response_url(self, response_id: str) -> str:
        return f"{self.url}/response/{response_id}"

    # -- scripting -----------------------------------------------------------------------------

    def archive(self, channel: str) -> None:
        with self._cond:
            self._archived.add(channel)

    def not_found(self, channel: str) -> None:
        with self._cond:
            self._missing.add(channel)

    def not_in_channel(self, channel: str) -> None:
        with self._cond:
            self._outside.add(channel)

    def revoke_token(self, error: str = "token_revoked") -> None:
        """Every call fails with ``error`` (``token_revoked``, ``account_inactive``...)."""
        with self._cond:
            self._token_error = error

    def fail_next(self, n: int = 1, *, status: int = 500, retry_after: int | None = None) -> None:
        """The next ``n`` message-posting calls fail with HTTP ``status`` (429: ``ratelimited``)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._cond:
            self._failures.extend((status, retry_after) for _ in range(n))

    def recover(self) -> None:
        with self._cond:
            self._failures.clear()
            self._token_error = None

    # -- HTTP ----------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._dispatch)
        app.router.add_post("/response/{id}", self._response_url)
        return app

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        body = await request.json() if request.content_type == "application/json" else await request.text()
        with self._cond:
            self._responses.append({"id": request.match_info["id"], "body": body, "at": time.monotonic()})
            self._notify()
        await self._respond_late()
        return web.Response(text="ok")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            raw = await read_params(request)
        except ConnectionResetError:  # the client went away before its request was complete
            return web.Response(status=400)
        params = _decode(raw)
        now = time.monotonic()
        headers: dict[str, str] = {}
        try:
            self._authorise(request, params)
            handler = self._methods().get(method)
            if handler is None:
                raise _Reply("unknown_method")
            self._inject_failure(method)
            body: Json = {"ok": True, **await handler(params, now)}
            status = 200
        except _Reply as reply:
            status = reply.status
            body = {"ok": False, "error": reply.error}
            if reply.retry_after is not None:
                headers["Retry-After"] = str(reply.retry_after)
        with self._cond:
            self._requests.append(
                {"method": method, "params": params, "status": status, "error": body.get("error"), "at": now}
            )
            self._notify()
        await self._respond_late()
        return web.json_response(body, status=status, headers=headers)

    def _authorise(self, request: web.Request, params: Json) -> None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else params.get("token")
        if not token:
            raise _Reply("not_authed")
        if token != self.token:
            raise _Reply("invalid_auth")
        with self._cond:
            if self._token_error:
                raise _Reply(self._token_error)

    def _inject_failure(self, method: str) -> None:
        with self._cond:
            if method not in RATE_LIMITED_METHODS or not self._failures:
                return
            status, retry_after = self._failures.pop(0)
        if status == 429:
            raise _Reply("ratelimited", 429, retry_after)
        raise _Reply("internal_error" if status < 503 else "service_unavailable", status)

    def _methods(self) -> dict[str, Callable[[Json, float], Awaitable[Json]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
        }

    # -- helpers used under the lock -----------------------------------------------------------

    def _channel(self, params: Json) -> str:
        channel = str(params.get("channel") or "")
        if not channel or channel in self._missing:
            raise _Reply("channel_not_found")
        return channel

    def _check_postable(self, channel: str) -> None:
        if channel in self._archived:
            raise _Reply("is_archived")
        if channel in self._outside:
            raise _Reply("not_in_channel")

    def _check_content(self, params: Json) -> tuple[str, list[Any] | None]:
        text = params.get("text")
        blocks = params.get("blocks")
        if blocks is not None and not isinstance(blocks, list):
            raise _Reply("invalid_blocks")
        if not text and not blocks:
            raise _Reply("no_text")
        if text and len(str(text)) > MAX_TEXT:
            raise _Reply("msg_too_long")
        return str(text or ""), blocks

    def _check_rate(self, channel: str, now: float) -> None:
        rate = self.limits.channel_rate
        if not rate:
            return
        log = self._windows.setdefault(channel, SlidingLog(rate, self.limits.channel_per))
        wait = log.wait(now)
        if wait > 0:
            self.throttled += 1
            raise _Reply("ratelimited", 429, retry_after_seconds(wait))
        log.add(now)

    def _next_ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 1e-6)
        return f"{self._last_ts:.6f}"

    # -- methods -------------------------------------------------------------------------------

    async def _auth_test(self, params: Json, now: float) -> Json:
        return {
            "url": "https://fake.slack.test/",
            "team": self.team,
            "user": "relaybot",
            "team_id": "T0FAKE",
            "user_id": self.bot_user_id,
            "bot_id": "B0FAKE",
            "is_enterprise_install": False,
        }

    async def _post_message(self, params: Json, now: float) -> Json:
        with self._cond:
            channel = self._channel(params)
            self._check_postable(channel)
            text, blocks = self._check_content(params)
            self._check_rate(channel, now)
            ts = self._next_ts()
            message: Json = {
                "type": "message",
                "user": self.bot_user_id,
                "bot_id": "B0FAKE",
                "text": text,
                "ts": ts,
            }
            if blocks is not None:
                message["blocks"] = blocks
            thread_ts = params.get("thread_ts")
            if thread_ts:
                message["thread_ts"] = str(thread_ts)
                parent = self._messages.get((channel, str(thread_ts)))
                if parent is not None:
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
            self._messages[(channel, ts)] = message
            self._sent.append(
                {
                    "method": "chat.postMessage",
                    "channel": channel,
                    "text": text,
                    "blocks": blocks,
                    "thread_ts": message.get("thread_ts"),
                    "ts": ts,
                    "mrkdwn": params.get("mrkdwn"),
                    "unfurl_links": params.get("unfurl_links"),
                    "unfurl_media": params.get("unfurl_media"),
                    "at": now,
                }
            )
            return {"channel": channel, "ts": ts, "message": dict(message)}

    async def _update(self, params: Json, now: float) -> Json:
        with self._cond:
            channel = self._channel(params)
            self._check_postable(channel)
            text, blocks = self._check_content(params)
            ts = str(params.get("ts") or "")
            current = self._messages.get((channel, ts))
            if current is None:
                raise _Reply("message_not_found")
            current["text"] = text
            if blocks is not None:
                current["blocks"] = blocks
            self._sent.append(
                {
                    "method": "chat.update",
                    "channel": channel,
                    "text": text,
                    "blocks": blocks,
                    "ts": ts,
                    "thread_ts": current.get("thread_ts"),
                    "at": now,
                }
            )
            return {"channel": channel, "ts": ts, "text": text, "message": dict(current)}

    async def _post_ephemeral(self, params: Json, now: float) -> Json:
        with self._cond:
            channel = self._channel(params)
            self._check_postable(channel)
            text, blocks = self._check_content(params)
            if not params.get("user"):
                raise _Reply("user_not_found")
            ts = self._next_ts()
            self._sent.append(
                {
                    "method": "chat.postEphemeral",
                    "channel": channel,
                    "user": params["user"],
                    "text": text,
                    "blocks": blocks,
                    "ts": ts,
                    "thread_ts": params.get("thread_ts"),
                    "at": now,
                }
            )
            return {"message_ts": ts}

    async def _conversations_info(self, params: Json, now: float) -> Json:
        with self._cond:
            channel = self._channel(params)
            return {
                "channel": {
                    "id": channel,
                    "name": channel.lower(),
                    "is_channel": True,
                    "is_private": False,
                    "is_archived": channel in self._archived,
                    "is_member": channel not in self._outside,
                }
            }

    async def _users_info(self, params: Json, now: float) -> Json:
        user = str(params.get("user") or "")
        if not user:
            raise _Reply("user_not_found")
        return {
            "user": {
                "id": user,
                "team_id": "T0FAKE",
                "name": user.lower(),
                "real_name": f"User {user}",
                "tz": "Europe/Paris",
                "is_bot": False,
                "deleted": False,
                "profile": {"display_name": user.lower(), "real_name": f"User {user}"},
            }
        }
