"""Rendering a neutral :class:`~bot.handlers.replies.Reply` for each platform, escaped and within limits.

Every span is escaped for its target before it is styled, with the escapes and limits the alerts
use (:mod:`relays.render`): Telegram HTML escapes ``&``, ``<``, ``>``, Slack mrkdwn escapes the
same three (which also defuses ``<!channel>`` and ``<url|fake links>``). Long replies are cut at a
span boundary or inside the last span, never inside a tag, and end with "…". Telegram counts
UTF-16 code units, so lengths are measured that way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relays.channels.base import utf16_len
from relays.render import MARKUPS, SLACK_LIMIT, TELEGRAM_LIMIT

from .replies import Reply, Span

__all__ = ["SLACK_LIMIT", "TELEGRAM_LIMIT", "slack_blocks", "slack_mrkdwn", "telegram_html", "utf16_len"]

SLACK_SECTION = 3000  # characters in one section block (a message's text holds SLACK_LIMIT)
ELLIPSIS = "\n…"


def _fit(
    spans: tuple[Span, ...], render: Callable[[Span], str], limit: int, measure: Callable[[str], int] = len
) -> str:
    out: list[str] = []
    used = 0
    room = limit - measure(ELLIPSIS)
    rendered = [render(s) for s in spans]
    if sum(measure(r) for r in rendered) <= limit:
        return "".join(rendered)
    for span, text in zip(spans, rendered, strict=True):
        size = measure(text)
        if used + size <= room:
            out.append(text)
            used += size
            continue
        low, high = 0, len(span.text)  # the longest prefix of this span that still fits
        while low < high:
            mid = (low + high + 1) // 2
            if used + measure(render(Span(span.text[:mid], span.style))) <= room:
                low = mid
            else:
                high = mid - 1
        if low:
            out.append(render(Span(span.text[:low], span.style)))
        break
    return "".join(out) + ELLIPSIS


def _telegram_span(span: Span) -> str:
    text = MARKUPS["html"].escape(span.text)
    if span.style == "plain" or not span.text.strip():
        return text
    tag = {"bold": "b", "italic": "i", "code": "code", "pre": "pre"}[span.style]
    return f"<{tag}>{text}</{tag}>"


def telegram_html(reply: Reply) -> str:
    """The reply as Telegram HTML (``parse_mode="HTML"``), at most 4096 UTF-16 units."""
    return _fit(reply.spans, _telegram_span, TELEGRAM_LIMIT, utf16_len)


def _slack_span(span: Span) -> str:
    text = MARKUPS["mrkdwn"].escape(span.text)
    if span.style == "plain" or not text.strip():
        return text
    if span.style == "pre":
        return f"```{text.strip(chr(10))}```"
    mark = {"bold": "*", "italic": "_", "code": "`"}[span.style]
    lead = text[: len(text) - len(text.lstrip())]
    tail = text[len(text.rstrip()) :]
    return f"{lead}{mark}{text.strip()}{mark}{tail}"


def slack_mrkdwn(reply: Reply, limit: int = SLACK_LIMIT) -> str:
    return _fit(reply.spans, _slack_span, limit)


def _sections(text: str) -> list[str]:
    """Split mrkdwn into pieces of at most 3000 characters, at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > SLACK_SECTION:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:SLACK_SECTION])
            line = line[SLACK_SECTION:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SLACK_SECTION:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()] or ["…"]


def slack_blocks(reply: Reply) -> list[dict[str, Any]]:
    """Section blocks for the text, then one actions block per row of buttons."""
    text = slack_mrkdwn(reply)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in _sections(text)
    ]
    for r, row in enumerate(reply.buttons):
        blocks.append(
            {
                "type": "actions",
                "block_id": f"relay_row_{r}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"relay_btn_{r}_{c}",
                        "value": button.data,
                        "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
                    }
                    for c, button in enumerate(row[:25])
                ],
            }
        )
    return blocks[:50]
