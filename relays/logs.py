"""Logging for the long-running relay: JSON lines for machines, a readable line for people, no secrets.

:func:`configure_logging` installs one handler on the root logger. When stderr is not a terminal
(a container, systemd, CI) each record is one JSON object — ``ts``, ``level``, ``logger``,
``message``, then whatever context the call bound with ``extra=`` (``event_id``, ``delivery_id``,
``subscriber``, ``attempt``…) and ``exc`` for a traceback. On a terminal the same record is one
line with the context appended as ``key=value``.

Secrets never reach the output: :class:`RedactFilter` rewrites the message and its arguments, and
both formatters pass their final text through :func:`redact` again, so tracebacks and extra fields
are covered too. It knows Telegram bot tokens, Slack tokens and ``token=`` query parameters (the
status page accepts ``?token=``). ``httpx`` and ``httpcore`` log full URLs — with the Telegram
token in the path — so they are silenced below WARNING.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

REDACTED = "«redacted»"

_SECRETS = re.compile(
    r"\d{6,}:[A-Za-z0-9_-]{30,}"  # Telegram bot token (also inside /bot<token>/ URLs)
    r"|xox[a-z]-[A-Za-z0-9-]{6,}"  # Slack bot / user / app-level / refresh tokens
    r"|xapp-[A-Za-z0-9-]{6,}"  # Slack app-level tokens
)
_QUERY_TOKEN = re.compile(r"(?i)([?&](?:token|access_token)=)[^&\s\"']+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
#: Loggers that would print secrets (full request URLs) at INFO/DEBUG.
QUIET_LOGGERS: tuple[str, ...] = ("httpx", "httpcore")
_MARK = "_prodouane_handler"


def redact(text: str) -> str:
    """``text`` with every token-looking substring replaced by ``«redacted»``."""
    text = _SECRETS.sub(REDACTED, text)
    text = _QUERY_TOKEN.sub(rf"\1{REDACTED}", text)
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
