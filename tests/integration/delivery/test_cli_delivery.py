"""The subscribers, replay --deliver and audit commands, end to end against the fake Bot API."""

import csv
import io
import json
import time
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
    assert code == 1  # Gamma's messages are due and were not delivered: not a success
    assert len(out.splitlines()) == 7  # stdout stays the JSON event stream
    assert "delivered 10," in err and "7 waiting for the unconfigured slack channel" in err
    assert "7 still due and undelivered" in err and "reminder(s) scheduled for later" in err
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
    code, out, _ = run(capsys, "audit", "--alert", alert_id[:9], "--format", "json", "--db", db_url)
    assert code == 0 and {json.loads(line)["alert_id"] for line in out.splitlines()} == {alert_id}
    code, _, err = run(capsys, "audit", "--alert", "nope", "--db", db_url)
    assert code == 2 and "no alert id starts with 'nope'" in err
    code, _, err = run(capsys, "audit", "--alert", "A", "--db", db_url)  # every alert id starts so
    assert code == 2 and "starts several alert ids" in err and len(err.splitlines()) == 1


def test_replay_without_deliver_uses_a_fresh_store_and_sends_nothing(
    db_url: str, telegram_env: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(capsys, db_url, "--channel", "telegram", "--address", "11", "--client", "Alpha")
    code, out, _ = run(capsys, "replay", "--json", *PAGES)
    assert code == 0 and len(out.splitlines()) == 7
    assert telegram_env.sent == []
    assert Path(db_url.removeprefix("sqlite:///")).exists()


def test_replay_deliver_tries_an_unreachable_address_once_and_counts_what_it_still_owes(
    db_url: str, telegram_env: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(capsys, db_url, "--channel", "telegram", "--address", "11", "--client", "Alpha")
    subscribe(
        capsys, db_url, "--channel", "apprise", "--address", "json://127.0.0.1:9/hook", "--client", "Down"
    )
    started = time.monotonic()
    code, _, err = run(capsys, "replay", "--deliver", "--db", db_url, *PAGES)
    elapsed = time.monotonic() - started
    assert code == 1 and elapsed < 30, (code, elapsed)  # no minutes spent waiting for retries
    assert len(telegram_env.sent_to(11)) == 7  # everyone else was served
    summary = err.splitlines()[-1]
    assert "delivered 7," in summary and "failed 0" in summary
    assert "7 still due and undelivered (1 to retry, 6 queued behind a failed one" in summary, summary


def test_removing_twice_says_so_and_a_removed_subscriber_gets_no_test_message(
    db_url: str, telegram_env: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    subscribe(capsys, db_url, "--channel", "telegram", "--address", "77", "--client", "A")
    assert run(capsys, "subscribers", "remove", "77", "--db", db_url)[0] == 0
    code, out, err = run(capsys, "subscribers", "remove", "77", "--db", db_url)
    assert (
        code == 2 and out == "" and "already removed, nothing changed" in err and len(err.splitlines()) == 1
    )
    code, out, err = run(capsys, "subscribers", "test", "77", "--db", db_url)
    assert code == 2 and "is inactive (removed by an administrator): no test message sent" in err
    assert telegram_env.sent_to(77) == []


def test_control_characters_in_names_are_printed_escaped(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "Evil\x1b[2J\x1b[31mCorp\u202e\x07"
    code, out, _ = subscribe(capsys, db_url, "--channel", "console", "--address", "desk", "--client", evil)
    assert code == 0 and "Evil\\x1b[2J\\x1b[31mCorp\\u202e\\x07" in out
    outputs = [out]
    for argv in (["subscribers", "list"], ["invite", evil], ["invite", "--list"]):
        code, out, _ = run(capsys, *argv, "--db", db_url)
        assert code == 0 and "Evil\\x1b[2J" in out, argv
        outputs.append(out)
    assert not any(c in "".join(outputs) for c in "\x1b\u202e\x07")
