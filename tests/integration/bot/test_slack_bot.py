"""The Slack app end to end: signed HTTP requests through the aiohttp adapter into the real Bolt
``AsyncApp``, whose WebClient talks to FakeSlack; slash-command answers land on the fake's
response URLs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.slack_app import build_slack_app, http_handler, incoming
from relays import subscribers as subs
from relays.channels.memory import MemoryChannel
from relays.store import Base, Store
from tests.fakes import FakeSlack
from tests.support.bot_world import fixed_clock

from .conftest import SIGNING_SECRET


def signed(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Signature": f"v0={digest}",
        "X-Slack-Request-Timestamp": ts,
        "Content-Type": content_type,
    }


class SlackUser:
    def __init__(self, client: TestClient[Any, Any], sl: FakeSlack) -> None:
        self.client, self.sl = client, sl
        self.n = 0

    async def post(self, body: str, headers: dict[str, str]) -> int:
        response = await self.client.post("/slack/events", data=body.encode(), headers=headers)
        return response.status

    async def command(
        self, text: str, *, user: str = "U0USER01", channel: str = "C0TEAM01"
    ) -> dict[str, Any]:
        self.n += 1
        rid = f"cmd{self.n}"
        body = urlencode(
            {
                "command": "/prodouane",
                "text": text,
                "user_id": user,
                "channel_id": channel,
                "team_id": "T0FAKE",
                "response_url": self.sl.response_url(rid),
                "trigger_id": "t1",
                "token": "legacy",
                "user_name": "someone",
                "channel_name": "team",
            }
        )
        assert await self.post(body, signed(body)) == 200
        await self.sl.wait_for_async(lambda: any(r["id"] == rid for r in self.sl.responses))
        return next(r["body"] for r in self.sl.responses if r["id"] == rid)

    async def event(self, event: dict[str, Any]) -> int:
        self.n += 1
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T0FAKE",
                "api_app_id": "A0APP",
                "type": "event_callback",
                "event_id": f"Ev{self.n}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return await self.post(body, signed(body, content_type="application/json"))

    async def press(self, value: str, *, user: str = "U0USER01", channel: str = "C0TEAM01") -> dict[str, Any]:
        self.n += 1
        rid = f"btn{self.n}"
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "channel": {"id": channel},
            "team": {"id": "T0FAKE"},
            "api_app_id": "A0APP",
            "trigger_id": "t2",
            "container": {"type": "message", "channel_id": channel, "message_ts": "1.0"},
            "response_url": self.sl.response_url(rid),
            "actions": [
                {
                    "action_id": "relay_btn_0_0",
                    "block_id": "relay_row_0",
                    "value": value,
                    "type": "button",
                    "action_ts": "1.1",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        assert await self.post(body, signed(body)) == 200
        await self.sl.wait_for_async(lambda: any(r["id"] == rid for r in self.sl.responses))
        return next(r["body"] for r in self.sl.responses if r["id"] == rid)


@pytest.fixture
async def slack(settings: Settings, store: Store, sl: FakeSlack) -> AsyncIterator[SlackUser]:
    relay = bootstrap(settings, store=store, channels={"slack": MemoryChannel("slack")}, clock=fixed_clock())
    app = build_slack_app(relay.bots, settings)
    web_app = web.Application()
    web_app.router.add_post("/slack/events", http_handler(app))
    async with TestClient(TestServer(web_app)) as client:
        yield SlackUser(client, sl)


async def test_unsigned_forged_and_stale_requests_are_rejected(slack: SlackUser, sl: FakeSlack) -> None:
    body = urlencode(
        {
            "command": "/prodouane",
            "text": "status",
            "user_id": "U1",
            "channel_id": "C0TEAM01",
            "response_url": sl.response_url("x"),
        }
    )
    assert await slack.post(body, {"Content-Type": "application/x-www-form-urlencoded"}) == 401
    assert await slack.post(body, signed(body, secret="not-the-secret")) == 401
    assert await slack.post(body, signed(body, timestamp=int(time.time()) - 3600)) == 401
    assert sl.responses == [] and sl.sent == []


async def test_slash_status_answers_the_caller_from_the_store(slack: SlackUser) -> None:
    answer = await slack.command("etat")
    assert answer["response_type"] == "ephemeral"
    assert "*ALERTE ROUGE — DELTA G (EDI)*" in answer["text"] and "BIP n°2" in answer["text"]
    assert answer["blocks"][0]["type"] == "section"


async def test_slash_start_with_an_invite_enrols_the_channel(
    slack: SlackUser, store: Store, code: str
) -> None:
    assert "pas encore abonnée" in (await slack.command("start"))["text"]
    assert subs.all_subscribers(store) == []
    welcome = await slack.command(f"start {code}")
    assert "Bienvenue" in welcome["text"]
    [subscriber] = subs.all_subscribers(store)
    assert (subscriber.channel, subscriber.address) == ("slack", "C0TEAM01")


async def test_empty_slash_command_shows_the_help_with_slack_syntax(slack: SlackUser) -> None:
    text = (await slack.command(""))["text"]
    assert "/prodouane status" in text and "(etat, statut, meteo)" in text


async def test_a_mention_is_answered_in_its_thread_with_buttons_that_continue_the_check(
    slack: SlackUser, sl: FakeSlack
) -> None:
    assert (
        await slack.event(
            {
                "type": "app_mention",
                "user": "U0USER01",
                "channel": "C0TEAM01",
                "ts": "100.1",
                "text": "<@U0BOT> puis-je auto-déclencher la procédure de secours ?",
            }
        )
        == 200
    )
    await sl.wait_for_async(lambda: len(sl.sent_to("C0TEAM01")) == 1)
    [message] = sl.sent_to("C0TEAM01")  # the cited answer, in the thread, the check offered under it
    assert message["thread_ts"] == "100.1" and "Fiche 1" in message["text"]
    buttons = [e for block in message["blocks"] if block["type"] == "actions" for e in block["elements"]]
    offer = next(b["value"] for b in buttons if b["text"]["text"] == "Vérifier si je peux auto-déclencher")
    check = await slack.press(offer)
    assert check["replace_original"] is False and "Quel téléservice" in check["text"]  # the answer stays
    buttons = [e for block in check["blocks"] if block["type"] == "actions" for e in block["elements"]]
    gamma = next(b["value"] for b in buttons if b["text"]["text"] == "GAMMA")
    verdict = await slack.press(gamma)
    assert verdict["replace_original"] is True and "service des douanes qui décide" in verdict["text"]


async def test_direct_messages_are_questions_or_bare_commands_and_edits_are_ignored(
    slack: SlackUser, sl: FakeSlack
) -> None:
    await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": "U0USER01",
            "channel": "D0DM0001",
            "ts": "1.1",
            "text": "délai de réintégration delta x ?",
        }
    )
    await sl.wait_for_async(lambda: len(sl.sent_to("D0DM0001")) == 1)
    assert "24 heures" in sl.sent_to("D0DM0001")[0]["text"]
    await slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel_type": "im",
            "channel": "D0DM0001",
            "ts": "1.2",
            "message": {"text": "status"},
        }
    )
    await slack.event(
        {
            "type": "message",
            "channel_type": "im",
            "user": "U0USER01",
            "channel": "D0DM0001",
            "ts": "1.3",
            "text": "deadline 03/12/2026 14:30",
        }
    )
    await sl.wait_for_async(lambda: len(sl.sent_to("D0DM0001")) == 2)
    assert "04/12/2026 14:30" in sl.sent_to("D0DM0001")[1]["text"]


async def test_admin_commands_refused_for_others_and_escaped_for_admins(
    slack: SlackUser, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        refused = await slack.command("invite ACME")
    assert "réservée aux administrateurs" in refused["text"]
    assert any("admin command refused: invite by slack:U0USER01" in r.getMessage() for r in caplog.records)
    invite = await slack.command("invite <!channel> & <https://evil.example|Co> eori=FR1", user="UADMIN01")
    assert invite["response_type"] == "ephemeral"
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|Co&gt;" in invite["text"]
    assert "<!channel>" not in invite["text"]


async def test_a_bug_is_logged_and_answered_with_an_apology(
    slack: SlackUser, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    Base.metadata.drop_all(store.engine)
    with caplog.at_level(logging.ERROR):
        answer = await slack.command("status")
    assert "Désolé" in answer["text"] and "sqlite" not in answer["text"].lower()
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)


async def test_removing_the_app_from_a_channel_deactivates_its_subscription(
    slack: SlackUser, store: Store, sl: FakeSlack, code: str
) -> None:
    await slack.command(f"start {code}")
    assert await slack.event({"type": "channel_left", "channel": "C0TEAM01", "actor_id": "U0USER01"}) == 200
    for _ in range(50):
        if not subs.all_subscribers(store)[0].active:
            break
        await sl.wait_for_async(lambda: True, timeout=0.05)
    assert not subs.all_subscribers(store)[0].active


def test_incoming_text_is_unescaped_without_mentions_or_link_markup() -> None:
    assert incoming("<@U0BOT> ask &lt;b&gt; &amp; <https://x.example|site> <!here>") == "  ask <b> & site  "
