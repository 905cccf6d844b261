"""How the fake Bot API reads requests and judges messages, kept apart from the server.

python-telegram-bot sends form bodies whose non-string values are JSON-encoded; other clients
send JSON. :func:`decode` turns both into plain Python values and normalises ``chat_id`` to
``str``. :func:`html_error` rejects what Telegram's HTML parse mode rejects (unknown or unclosed
tags, bare ``<`` or ``&``, unknown entities), so a renderer bug fails a test instead of reaching
a client.
"""

from __future__ import annotations

import contextlib
import json
from html.parser import HTMLParser
from typing import Any

__all__ = ["REASONS", "chat_key", "decode", "html_error", "is_group", "may_lose_reply", "reply_target"]

Json = dict[str, Any]

_JSON_FIELDS = frozenset(
    {"reply_parameters", "reply_markup", "link_preview_options", "allowed_updates", "commands", "scope"}
)
_INT_FIELDS = frozenset({"message_id", "reply_to_message_id", "offset", "timeout", "limit", "user_id"})
_BOOL_FIELDS = frozenset(
    {
        "disable_web_page_preview",
        "disable_notification",
        "allow_sending_without_reply",
        "show_alert",
        "drop_pending_updates",
        "protect_content",
    }
)
_HTML_TAGS = frozenset(
    ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span"]
    + ["tg-spoiler", "tg-emoji", "blockquote"]
)
_HTML_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})


class _HtmlCheck(HTMLParser):
    """The subset of Telegram's HTML parse mode that makes it reject a message."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error: str | None = None

    def _fail(self, why: str) -> None:
        self.error = self.error or why

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self._fail(f'Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self._fail(f'Unexpected end tag "{tag}"')
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or "&" in data:
            self._fail("Unescaped '<' or '&'")

    def handle_entityref(self, name: str) -> None:
        if name not in _HTML_ENTITIES:
            self._fail(f'Unsupported entity "&{name};"')

    def unknown_decl(self, data: str) -> None:
        self._fail("Unsupported declaration")


def html_error(text: str) -> str | None:
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    if check.rawdata:
        check._fail("Unclosed tag")
    if check.stack:
        check._fail(f'Can\'t find end tag corresponding to start tag "{check.stack[-1]}"')
    return check.error


def chat_key(chat_id: object) -> str:
    return str(chat_id).strip()


def is_group(chat: str) -> bool:
    return chat.startswith("-") and chat[1:].isdigit()


def decode(params: Json) -> Json:
    out: Json = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in _INT_FIELDS and value.lstrip("-").isdigit():
                value = int(value)
            elif key in _BOOL_FIELDS:
                value = value.lower() == "true"
        if key == "chat_id":
            value = chat_key(value)
        out[key] = value
    return out


REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def reply_target(params: Json) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict) and isinstance(reply.get("message_id"), int):
        return int(reply["message_id"])
    legacy = params.get("reply_to_message_id")
    return legacy if isinstance(legacy, int) else None


def may_lose_reply(params: Json) -> bool:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        return bool(reply.get("allow_sending_without_reply"))
    return bool(params.get("allow_sending_without_reply"))
