"""Logging for the long-running relay: JSON lines for machines, a readable line for people, no secrets.

:func:`configure_logging` installs one handler on the root logger. When stderr is not a terminal
(a container, systemd, CI) each record is one JSON object — ``ts``, ``level``, ``logger``,
``message``, then whatever context the call bound with ``extra=`` (``event_id``, ``delivery_id``,
``subscriber``, ``attempt``…) and ``exc`` for a traceback. On a terminal the same record is one
line with the context appended as ``key=value``.

Secrets never reach the output, at any level and from any logger (python-telegram-bot, Apprise,
httpx, aiohttp, Slack's: every record goes through the one handler): :class:`RedactFilter`
rewrites the message and its arguments, and both formatters pass their final text through
:func:`redact` again, so tracebacks and extra fields are covered too. It knows by their shape
Telegram bot tokens, Slack tokens, webhook signing secrets (``whsec_…``), bearer tokens, ``token=``
query parameters and invite codes after ``start`` (``/start CODE``, ``?start=CODE``); and by
their value every secret registered
with :func:`register_secrets` — the configured ones (``bot.settings.load_settings`` registers
them), invite codes (when created or redeemed) and the secret parts of subscribers' addresses
(``relays.subscribers.address_secrets``). ``httpx`` and ``httpcore`` log full URLs — with the
Telegram token in the path — so they are silenced below WARNING.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

REDACTED = "«redacted»"

_SECRETS = re.compile(
    r"\d{6,}:[A-Za-z0-9_-]{30,}"  # Telegram bot token (also inside /bot<token>/ URLs)
    r"|xox[a-z]-[A-Za-z0-9-]{6,}"  # Slack bot / user / app-level / refresh tokens
    r"|xapp-[A-Za-z0-9-]{6,}"  # Slack app-level tokens
    r"|whsec_[A-Za-z0-9+/=]{16,}"  # a webhook subscriber's signing secret (Standard Webhooks)
)
_QUERY_TOKEN = re.compile(r"(?i)([?&](?:token|access_token|start)=)[^&\s\"']+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
#: An invite code after the command that redeems it: "/start CODE", "/demarrer CODE", "start CODE".
_INVITE = re.compile(
    r"((?:^|[\s/\"'])(?i:start|d[eé]marrer)(?:@\w+)?\s+)(?=[\w-]*[A-Z0-9])[A-Za-z0-9_-]{12,64}"
)
#: Registered secrets shorter than this are not redacted (they would mangle ordinary words).
MIN_SECRET = 6

_secrets_lock = threading.Lock()
_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
#: Loggers that would print secrets (full request URLs) at INFO/DEBUG, or Alembic's set-up chatter.
QUIET_LOGGERS: tuple[str, ...] = ("httpx", "httpcore", "alembic.runtime.plugins", "alembic.runtime.migration")
_MARK = "_prodouane_handler"


def register_secrets(values: Iterable[str | None]) -> None:
    """Redact these values (and their URL-quoted forms) from every log record from now on.

    Cheap to call often (an import registers a thousand addresses one by one): the pattern is
    compiled again only when the next text is redacted."""
    global _secrets_pattern
    fresh: set[str] = set()
    for value in values:
        if value and len(value) >= MIN_SECRET:
            fresh.update({value, quote(value, safe=""), quote_plus(value)})
    with _secrets_lock:
        if fresh <= _secrets:
            return
        _secrets.update(fresh)
        _secrets_pattern = None


def _pattern() -> re.Pattern[str] | None:
    """The registered secrets as one pattern, the longest first (no partial leftovers)."""
    global _secrets_pattern
    pattern = _secrets_pattern
    if pattern is None and _secrets:
        with _secrets_lock:
            if _secrets_pattern is None and _secrets:
                ordered = sorted(_secrets, key=len, reverse=True)
                _secrets_pattern = re.compile("|".join(re.escape(v) for v in ordered))
            pattern = _secrets_pattern
    return pattern


def redact(text: str) -> str:
    """``text`` with every secret (registered or token-looking) replaced by ``«redacted»``."""
    pattern = _pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _SECRETS.sub(REDACTED, text)
    text = _QUERY_TOKEN.sub(rf"\1{REDACTED}", text)
    text = _INVITE.sub(rf"\1{REDACTED}", text)
    return _BEARER.sub(rf"\1{REDACTED}", text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


class RedactFilter(logging.Filter):
    """Removes tokens from a record's message, arguments and extra fields (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string: keep the pieces, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context bound to a record with ``extra=`` (event_id, delivery_id, subscriber, …)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (UTC ISO 8601), level, logger, message, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            out.setdefault(key, _clean(value))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(out, ensure_ascii=False, default=str))


class HumanFormatter(logging.Formatter):
    """``2026-12-03 10:32:00,123 INFO    relays.outbox: sent  delivery_id=4 subscriber=2``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{k}={v}" for k, v in extra_fields(record).items())
        if context:
            head, sep, tail = line.partition("\n")
            line = f"{head}  {context}{sep}{tail}"
        return redact(line)


def configure_logging(
    level: int | str = logging.INFO, json: bool | None = None, stream: TextIO | None = None
) -> logging.Handler:
    """Install the relay's handler on the root logger (again: replaces it) and return it.

    ``json``: None picks JSON lines when ``stream`` (default stderr) is not a terminal.
    """
    stream = stream if stream is not None else sys.stderr
    if json is None:
        isatty = getattr(stream, "isatty", None)
        json = not (callable(isatty) and isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json else HumanFormatter())
    handler.addFilter(RedactFilter())
    setattr(handler, _MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
