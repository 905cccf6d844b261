"""`run` with every secret configured, at DEBUG level: the chat platforms' webhooks are served beside
the status token (they verify their own signatures and never send it), and no secret reaches the
log — not from our loggers, nor python-telegram-bot's, Slack's, Apprise's, aiohttp's or httpx's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from relays import subscribers as subs
from relays.invites import create_invite
from relays.store import Store
from tests.fakes import FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.support.meteo_server import MeteoServer
from tests.support.relay_process import RelayProcess, wait_for, wait_until

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "relays" / "samples" / "scenario"
STATUS_TOKEN = "status-token-Xq7pR2vL9mK4"
WEBHOOK_SECRET = "webhook-secret-0123456789-abcdefghij-KLMNOP"
SIGNING_SECRET = "slack-signing-secret-5f2e8a91c3d7"
SLACK_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQr"
PATH_SECRET = "hook-4e7b9c2a1f6d"
API_KEY = "apikey-77f1e0c9b2a4"
TOPIC = "relay-topic-93bd1a"


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Signature": f"v0={digest}",
        "X-Slack-Request-Timestamp": ts,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def test_webhooks_answer_beside_a_status_token_and_no_secret_reaches_the_debug_log(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    store = Store.open(db)
    code = create_invite(store, "Transit SA")
    # Apprise subscribers whose secrets sit in the path, a header and a topic; port 9 refuses, so
    # Apprise logs its failure with whatever it knows of the URL.
    webhook = f"json://127.0.0.1:9/{PATH_SECRET}?+X-Api-Key={API_KEY}"
    subs.add(store, channel="apprise", address=webhook, client="Webhook", kinds=["alert_opened"])
    subs.add(
        store, channel="apprise", address=f"ntfy://127.0.0.1:9/{TOPIC}", client="Ntfy", kinds=["alert_opened"]
    )
    store.close()
    with MeteoServer() as meteo, FakeTelegram() as tg, FakeSlack(token=SLACK_TOKEN) as sl:
        meteo.set_page(SAMPLES / "02-alerte-delta-g.html")
        env = {
            "PRODOUANE_RELAY_DATABASE_URL": db,
            "PRODOUANE_RELAY_METEO_URL": meteo.url,
            "PRODOUANE_RELAY_POLL_INTERVAL": "1",
            "PRODOUANE_RELAY_LOG_LEVEL": "DEBUG",
            "PRODOUANE_RELAY_LOG_JSON": "true",
            "PRODOUANE_RELAY_STATUS_TOKEN": STATUS_TOKEN,
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
            "PRODOUANE_RELAY_TELEGRAM_MODE": "webhook",
            "PRODOUANE_RELAY_TELEGRAM_WEBHOOK_URL": "https://relay.example.org/hooks/telegram",
            "PRODOUANE_RELAY_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PRODOUANE_RELAY_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "PRODOUANE_RELAY_SLACK_API_URL": f"{sl.url}/api/",
            "PRODOUANE_RELAY_SLACK_MODE": "http",
            "PRODOUANE_RELAY_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        }
        with RelayProcess(env, log=tmp_path / "run.log") as relay:
            base = relay.base
            wait_for(f"{base}/healthz", lambda r: r.status_code == 200)
            tg.wait_for(lambda: bool(tg.requests_for("setWebhook")), timeout=30)
            # the pages want the token…
            assert httpx.get(f"{base}/", timeout=5).status_code == 401
            # …the webhooks do not: each checks its own signature
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "text": f"/start {code}",
                    "chat": {"id": 888, "type": "private"},
                    "from": {"id": 888, "is_bot": False, "first_name": "A"},
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
            headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            assert httpx.post(f"{base}/hooks/telegram", json=update, timeout=5).status_code == 401
            assert (
                httpx.post(f"{base}/hooks/telegram", json=update, headers=headers, timeout=5).status_code
                == 200
            )
            tg.wait_for(lambda: any("Bienvenue" in m["text"] for m in tg.sent_to(888)), timeout=30)
            body = urlencode(
                {
                    "command": "/prodouane",
                    "text": "status",
                    "user_id": "U0USER01",
                    "channel_id": "C0TEAM01",
                    "response_url": sl.response_url("r1"),
                }
            )
            forged = httpx.post(
                f"{base}/slack/events", content=body, headers={"Content-Type": signed(body)["Content-Type"]}
            )
            assert forged.status_code == 401
            assert (
                httpx.post(f"{base}/slack/events", content=body, headers=signed(body), timeout=5).status_code
                == 200
            )
            sl.wait_for(lambda: any(r["id"] == "r1" for r in sl.responses), timeout=30)
            # the status token still opens the page (exchanged for a session cookie)
            with httpx.Client(timeout=5, follow_redirects=True) as browser:
                exchange = browser.get(f"{base}/?token={STATUS_TOKEN}")
                assert exchange.status_code == 200 and exchange.url.query == b""
            wait_until(
                lambda: relay.text().count('"message": "delivery not sent"') >= 2,
                what="both Apprise notifies failing (Apprise logs their URLs at DEBUG)",
            )
        assert relay.code == 0, relay.text()[-3000:]
    log = relay.text()
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    loggers = {r["logger"].split(".")[0] for r in records if r["level"] == "DEBUG"}
    assert {"telegram", "apprise", "slack_sdk", "urllib3"} <= loggers, loggers  # third parties spoke at DEBUG
    assert any(r["logger"] == "apprise" and "Socket Exception" in r["message"] for r in records)
    for secret in (
        tg.token,
        tg.token.split(":")[1],
        WEBHOOK_SECRET,
        SIGNING_SECRET,
        SLACK_TOKEN,
        STATUS_TOKEN,
        code,
        PATH_SECRET,
        API_KEY,
        TOPIC,
    ):
        assert secret not in log, (secret, [line for line in log.splitlines() if secret in line][:3])
