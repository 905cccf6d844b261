"""The subscribers, replay --deliver and audit commands, end to end against the fake Bot API."""

import csv
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.telegram_api import FakeTelegram

from .conftest import PAGES


@pytest.fixture
def telegram_env(monkeypatch: pytest.MonkeyPatch) -> FakeTelegram:
    tg = FakeTelegram().start()
    monkeypatch.setenv("PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN", tg.token)
    monkeypatch.setenv("PRODOUANE_RELAY_TELEGRAM_API_URL", f"{tg.url}/bot")
    yield tg  # type: ignore[misc]
    tg.stop()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def subscribe(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    """``subscribers add ARGV… --db DB_URL``."""
    return run(capsys, "subscribers", "add", *argv, "--db", db_url)


def test_subscribers_add_list_remove_and_repeated_filters(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = subscribe(
        capsys,
        db_url,
        "--channel",
        "telegram",
        "--address",
        "-1001234",
        "--client",
        "Transit SA",
        "--service",
        "Delta-G",
        "--service",
        "ICS2",
        "--mode",
        "EDI",
        "--kind",
        "alert_closed",
        "--kind",
        "alert_opened",
        "--lang",
        "en",
    )
    assert (
        code == 0
        and "services: DELTA G, ICS2; modes: EDI; kinds: alert_opened, alert_closed; lang: en" in out
    )
    subscribe(
        capsys,
        db_url,
        "--channel",
        "apprise",
        "--address",
        "mailtos://user:secret@example.org",
        "--client",
        "Mail",
    )
    code, out, _ = run(capsys, "subscribers", "list", "--json", "--db", db_url)
    listed = [json.loads(line) for line in out.splitlines()]
    assert [s["client"] for s in listed] == ["Transit SA", "Mail"]
    assert "secret" not in out  # credentials in Apprise URLs are never shown
    code, out, _ = run(capsys, "subscribers", "remove", "1", "--db", db_url)
    assert code == 0 and "removed" in out
    _, out, _ = run(capsys, "subscribers", "list", "--db", db_url)
    assert "inactive (removed by an administrator)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--channel", "telegram", "--address", "not a chat", "--client", "X"], "is not a Telegram chat id"),
        (
            ["--channel", "slack", "--address", "C0ABCDEF1", "--client", "X", "--service", "Delta Z"],
            "unknown téléservice",
        ),
        (
            ["--channel", "telegram", "--address", "42", "--client", "X", "--kind", "everything"],
            "unknown event kind",
        ),
        (["--channel", "apprise", "--address", "nonsense://x", "--client", "X"], "Apprise cannot use"),
    ],
)
def test_bad_subscriber_input_is_one_clear_line(
    db_url: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = subscribe(capsys, db_url, *argv)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and message in err


def test_the_same_address_cannot_subscribe_twice(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    subscribe(capsys, db_url, "--channel", "telegram", "--address", "42", "--client", "A")
    code, _, err = subscribe(capsys, db_url, "--channel", "telegram", "--address", "42", "--client", "B")
    assert code == 2 and "already subscribed" in err


def test_subscribers_test_sends_a_test_message(
    db_url: str, telegram_env: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(capsys, db_url, "--channel", "telegram", "--address", "77", "--client", "A")
    code, out, _ = run(capsys, "subscribers", "test", "77", "--db", db_url)
    assert code == 0 and "test message sent to A" in out
    (message,) = telegram_env.sent_to(77)
    assert "Message de test" in message["text"]
    telegram_env.block(77)
    code, _, err = run(capsys, "subscribers", "test", "77", "--db", db_url)
    assert code == 2 and "blocked" in err


def test_replay_deliver_then_audit_proves_who_was_told(
    db_url: str, telegram_env: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(capsys, db_url, "--channel", "telegram", "--address", "11", "--client", "Alpha")
    subscribe(
        capsys, db_url, "--channel", "telegram", "--address", "12", "--client", "Beta", "--service", "ICS2"
    )
    subscribe(capsys, db_url, "--channel", "slack", "--address", "C0SLACK01", "--client", "Gamma")
    code, out, err = run(capsys, "replay", "--deliver", "--json", "--db", db_url, *PAGES)
    assert code == 0
    assert len(out.splitlines()) == 7  # stdout stays the JSON event stream
    assert "delivered 10," in err and "waiting for the unconfigured slack channel" in err
    assert "reminder(s) scheduled for later" in err
    assert len(telegram_env.sent_to(11)) == 7 and len(telegram_env.sent_to(12)) == 3
    # Replaying the same pages again sends nothing new.
    run(capsys, "replay", "--deliver", "--db", db_url, *PAGES)
    assert len(telegram_env.sent_to(11)) == 7

    code, out, _ = run(capsys, "audit", "--format", "csv", "--db", db_url)
    rows = list(csv.DictReader(io.StringIO(out)))
    alpha = [r for r in rows if r["client"] == "Alpha"]
    assert len(alpha) == 2 and all(r["start_status"] == "sent" and r["end_status"] == "sent" for r in alpha)
    assert all(r["start_sent_at"] and r["end_sent_at"] for r in alpha)
    gamma = [r for r in rows if r["client"] == "Gamma"]
    assert gamma and all(r["start_status"] == "pending" for r in gamma)  # proof of what is still owed
    alert_id = alpha[0]["alert_id"]
    code, out, _ = run(capsys, "audit", "--alert", alert_id, "--format", "json", "--db", db_url)
    assert {json.loads(line)["client"] for line in out.splitlines()} == {"Alpha", "Gamma"}
    code, out, _ = run(capsys, "audit", "--db", db_url)
    assert "Alpha" in out and "start sent (UTC)" in out
    code, _, err = run(capsys, "audit", "--alert", "nope", "--db", db_url)
    assert code == 2 and "no delivery recorded" in err


def test_replay_without_deliver_uses_a_fresh_store_and_sends_nothing(
    db_url: str, telegram_env: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(capsys, db_url, "--channel", "telegram", "--address", "11", "--client", "Alpha")
    code, out, _ = run(capsys, "replay", "--json", *PAGES)
    assert code == 0 and len(out.splitlines()) == 7
    assert telegram_env.sent == []
    assert Path(db_url.removeprefix("sqlite:///")).exists()
