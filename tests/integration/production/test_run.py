"""`prodouane-relay run` as a real process: it polls, delivers, serves health, metrics and the
status page, and stops cleanly on SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from relays import subscribers as subs
from relays.store import Store
from tests.fakes.telegram_api import FakeTelegram
from tests.support.meteo_server import MeteoServer

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "relays" / "samples" / "scenario"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, predicate, timeout: float = 30.0) -> httpx.Response:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if predicate(response):
                return response
            last = response.status_code
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{url} never satisfied the check (last: {last})")


def test_run_polls_delivers_serves_the_web_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    store = Store.open(db)
    subs.add(store, channel="telegram", address="4242", client="Client")
    store.close()
    port = free_port()
    with MeteoServer() as meteo, FakeTelegram() as tg:
        meteo.set_page(SAMPLES / "02-alerte-delta-g.html")
        env = {
            **os.environ,
            "PRODOUANE_RELAY_DATABASE_URL": db,
            "PRODOUANE_RELAY_METEO_URL": meteo.url,
            "PRODOUANE_RELAY_POLL_INTERVAL": "0.5",
            "PRODOUANE_RELAY_POLL_JITTER": "0",
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
            "PRODOUANE_RELAY_TELEGRAM_MODE": "off",
            "PRODOUANE_RELAY_SLACK_MODE": "off",
            "PRODOUANE_RELAY_WEB_PORT": str(port),
            "PRODOUANE_RELAY_STATUS_TOKEN": "s3cret-status",
            "PRODOUANE_RELAY_LOG_JSON": "true",
        }
        log = tmp_path / "run.log"
        with open(log, "w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            assert wait_for(f"{base}/healthz", lambda r: r.status_code == 200).text.strip() == "ok"
            wait_for(f"{base}/readyz", lambda r: r.status_code == 200)
            tg.wait_for(lambda: len(tg.sent_to(4242)) == 2, timeout=30)
            metrics = wait_for(
                f"{base}/metrics",
                lambda r: 'prodouane_deliveries_total{channel="telegram",outcome="sent"} 2.0' in r.text,
            ).text
            assert 'prodouane_events_total{kind="alert_opened"} 1.0' in metrics
            assert 'prodouane_polls_total{outcome="ok"}' in metrics
            assert "prodouane_poll_interval_seconds 0.5" in metrics  # POLL_INTERVAL: both paces
            assert "prodouane_polls_not_modified_total" in metrics
            assert httpx.get(f"{base}/", timeout=5).status_code == 401  # the status page wants its token
            page = httpx.get(f"{base}/?token=s3cret-status", timeout=5, follow_redirects=True).text
            assert "DELTA G" in page
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=20)
    assert code == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any("running as" in line["message"] for line in lines)  # structured JSON logs
    assert tg.token not in log.read_text() and "s3cret-status" not in log.read_text()


def test_run_answers_in_telegram_by_long_polling_while_relaying(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    with MeteoServer() as meteo, FakeTelegram() as tg:
        meteo.set_page(SAMPLES / "04-bip-2-et-ics2.html")
        env = {
            **os.environ,
            "PRODOUANE_RELAY_DATABASE_URL": db,
            "PRODOUANE_RELAY_METEO_URL": meteo.url,
            "PRODOUANE_RELAY_POLL_INTERVAL": "0.5",
            "PRODOUANE_RELAY_POLL_JITTER": "0",
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
            "PRODOUANE_RELAY_SLACK_MODE": "off",
            "PRODOUANE_RELAY_WEB_ENABLED": "false",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "run.log", "w"),
        )
        try:
            store = Store.open(db)
            try:
                deadline = time.monotonic() + 30
                while len(store.open_alerts()) < 2 and time.monotonic() < deadline:
                    time.sleep(0.1)  # wait for a poll to record the open alerts
            finally:
                store.close()
            tg.push_message(777, "/status", chat_type="private")
            tg.wait_for(lambda: len(tg.sent_to(777)) >= 1, timeout=30)
            status = tg.sent_to(777)[0]["text"]
            tg.push_message(777, "/start", chat_type="private")
            tg.wait_for(lambda: len(tg.sent_to(777)) >= 2, timeout=30)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=20)
    assert code == 0, (tmp_path / "run.log").read_text()
    assert "DELTA G" in status and "ICS2" in status  # from the store, no live fetch
    assert "invit" in tg.sent_to(777)[1]["text"].lower()  # no code: explains how to get one


def test_run_in_webhook_mode_registers_the_secret_and_refuses_calls_without_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    port = free_port()
    with MeteoServer() as meteo, FakeTelegram() as tg:
        meteo.set_page(SAMPLES / "01-calme.html")
        env = {
            **os.environ,
            "PRODOUANE_RELAY_DATABASE_URL": db,
            "PRODOUANE_RELAY_METEO_URL": meteo.url,
            "PRODOUANE_RELAY_POLL_INTERVAL": "5",
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
            "PRODOUANE_RELAY_TELEGRAM_MODE": "webhook",
            "PRODOUANE_RELAY_TELEGRAM_WEBHOOK_URL": "https://relay.example.org/hooks/telegram",
            "PRODOUANE_RELAY_TELEGRAM_WEBHOOK_SECRET": "a-long-webhook-secret_42-0123456789abcdef",
            "PRODOUANE_RELAY_SLACK_MODE": "off",
            "PRODOUANE_RELAY_WEB_PORT": str(port),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "run.log", "w"),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/healthz", lambda r: r.status_code == 200)
            tg.wait_for(lambda: bool(tg.requests_for("setWebhook")), timeout=30)
            registered = tg.requests_for("setWebhook")[-1]["params"]
            assert registered["url"] == "https://relay.example.org/hooks/telegram"
            assert registered["secret_token"] == "a-long-webhook-secret_42-0123456789abcdef"
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "text": "/help",
                    "chat": {"id": 888, "type": "private"},
                    "from": {"id": 888, "is_bot": False, "first_name": "A"},
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                },
            }
            refused = httpx.post(f"{base}/hooks/telegram", json=update, timeout=5)
            assert refused.status_code == 401
            accepted = httpx.post(
                f"{base}/hooks/telegram",
                json=update,
                timeout=5,
                headers={"X-Telegram-Bot-Api-Secret-Token": "a-long-webhook-secret_42-0123456789abcdef"},
            )
            assert accepted.status_code == 200
            tg.wait_for(lambda: len(tg.sent_to(888)) == 1, timeout=30)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=20)
    assert code == 0, (tmp_path / "run.log").read_text()
    assert "/status" in tg.sent_to(888)[0]["text"]  # the help lists the commands


def test_run_refuses_a_webhook_without_a_secret(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PRODOUANE_RELAY_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}",
        "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": "123:abc",
        "PRODOUANE_RELAY_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
        "PRODOUANE_RELAY_TELEGRAM_MODE": "webhook",
        "PRODOUANE_RELAY_SLACK_MODE": "off",
        "PRODOUANE_RELAY_TELEGRAM_WEBHOOK_URL": "https://relay.example.org/hooks/telegram",
        "PRODOUANE_RELAY_WEB_PORT": str(free_port()),
        "PRODOUANE_RELAY_POLLER_ENABLED": "false",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "PRODOUANE_RELAY_TELEGRAM_WEBHOOK_SECRET" in done.stderr.splitlines()[-1]
