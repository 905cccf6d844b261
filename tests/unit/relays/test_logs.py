"""Structured logs: JSON lines off a terminal, a readable line on one, and never a token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from relays.logs import REDACTED, configure_logging, redact, register_secrets

TELEGRAM = "1234567890:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-abcdef0123456789"


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, restored after the test (configure_logging changes it)."""
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)
    for name, lvl in quiet.items():
        logging.getLogger(name).setLevel(lvl)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "secret",
    [
        TELEGRAM,
        SLACK_BOT,
        SLACK_APP,
        "xoxp-1111-2222-3333-abcdef",
        "xoxa-2-abcdefghijkl",
        "xoxr-abcdefghijkl",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/r+9xBeyTdM=",
    ],
)
def test_tokens_are_redacted_from_any_text(secret: str) -> None:
    assert redact(f"calling with {secret} now") == f"calling with {REDACTED} now"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"POST https://api.telegram.org/bot{TELEGRAM}/sendMessage",
            f"POST https://api.telegram.org/bot{REDACTED}/sendMessage",
        ),
        ("GET /?token=s3cr3t-value&x=1", f"GET /?token={REDACTED}&x=1"),
        ("Authorization: Bearer abcdefgh12345678", f"Authorization: Bearer {REDACTED}"),
        (
            "alert A1f2 at 2026-12-03 10:32:00, 12345678 deliveries",
            "alert A1f2 at 2026-12-03 10:32:00, 12345678 deliveries",
        ),
    ],
)
def test_redaction_keeps_the_rest_of_the_text(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_off_a_terminal_each_record_is_one_json_object_with_its_context(root: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    logging.getLogger("relays.outbox").info(
        "sent %s", "bulletin", extra={"event_id": "Af23:bip:2", "delivery_id": 17, "subscriber": 3}
    )
    (record,) = lines(stream)
    assert set(record) == {"ts", "level", "logger", "message", "event_id", "delivery_id", "subscriber"}
    assert record["level"] == "INFO" and record["logger"] == "relays.outbox"
    assert record["message"] == "sent bulletin"
    assert (record["event_id"], record["delivery_id"], record["subscriber"]) == ("Af23:bip:2", 17, 3)
    assert str(record["ts"]).endswith("+00:00")


def test_tokens_never_reach_the_output_in_messages_args_extras_or_tracebacks(root: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream)
    log = logging.getLogger("relays.channels.telegram")
    log.warning("token is %s", TELEGRAM, extra={"url": f"https://api.telegram.org/bot{TELEGRAM}/getMe"})
    log.info(f"slack said no to {SLACK_BOT}")
    try:
        raise RuntimeError(f"refused {SLACK_APP}")
    except RuntimeError:
        log.exception("crashed")
    out = stream.getvalue()
    for secret in (TELEGRAM, SLACK_BOT, SLACK_APP):
        assert secret not in out
    first, second, third = lines(stream)
    assert first["message"] == f"token is {REDACTED}"
    assert first["url"] == f"https://api.telegram.org/bot{REDACTED}/getMe"
    assert second["message"] == f"slack said no to {REDACTED}"
    assert "RuntimeError" in str(third["exc"])


def test_on_a_terminal_the_line_is_for_people(root: logging.Logger) -> None:
    stream = TTY()
    configure_logging(logging.INFO, stream=stream)
    logging.getLogger("relays.poller").warning("poll failed: %s", "captcha", extra={"attempt": 2})
    out = stream.getvalue()
    assert "WARNING relays.poller: poll failed: captcha  attempt=2" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_httpx_is_silenced_below_warning_and_a_second_call_replaces_the_handler(root: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", stream=io.StringIO())
    configure_logging("DEBUG", stream=stream)
    logging.getLogger("httpx").info(f"HTTP Request: POST https://api.telegram.org/bot{TELEGRAM}/sendMessage")
    logging.getLogger("httpx").warning("server error")
    assert [r["message"] for r in lines(stream)] == ["server error"]
    ours = [h for h in root.handlers if getattr(h, "_prodouane_handler", False)]
    assert len(ours) == 1


def test_registered_secrets_and_invite_codes_are_redacted_from_third_party_loggers_at_debug(
    root: logging.Logger,
) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", json=True, stream=stream)
    register_secrets(["webhook-secret-0123456789abcdef", "s3cr3t path/with space", None, "abc"])
    logging.getLogger("telegram.ext.ExtBot").debug(
        "Calling setWebhook with `{'hook_key': 'webhook-secret-0123456789abcdef'}`"
    )
    logging.getLogger("apprise").debug("Loaded JSON URL: json://h.example.org/s3cr3t%20path%2Fwith%20space")
    logging.getLogger("telegram.ext.Application").debug("Processing update text='/start iRkThaRKIlQB_elL'")
    logging.getLogger("aiohttp.access").info("GET /?start=iRkThaRKIlQB_elL")
    logging.getLogger("apscheduler").info("the scheduler will start polling")  # ordinary words stay
    messages = [r["message"] for r in lines(stream)]
    assert messages == [
        f"Calling setWebhook with `{{'hook_key': '{REDACTED}'}}`",
        f"Loaded JSON URL: json://h.example.org/{REDACTED}",
        f"Processing update text='/start {REDACTED}'",
        f"GET /?start={REDACTED}",
        "the scheduler will start polling",
    ]
    assert redact("abc and abcd") == "abc and abcd"  # too short to be told from words: not registered
