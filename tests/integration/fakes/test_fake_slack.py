"""The fake Web API behaves like Slack for the real slack_sdk clients, sync and async."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack_api import FakeSlack, SlackLimits


@pytest.fixture
def sl() -> Iterator[FakeSlack]:
    with FakeSlack(limits=SlackLimits.off()) as fake:
        yield fake


def sync_client(fake: FakeSlack, token: str | None = None) -> WebClient:
    return WebClient(token or fake.token, base_url=f"{fake.url}/api/", retry_handlers=[])


def async_client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(fake.token, base_url=f"{fake.url}/api/", retry_handlers=[])


def test_post_message_returns_a_unique_ts_and_is_recorded(sl: FakeSlack) -> None:
    client = sync_client(sl)
    first = client.chat_postMessage(channel="C1", text="*Alerte* DELTA", unfurl_links=False)
    second = client.chat_postMessage(channel="C1", text="deux")

    assert first["ok"] and first["channel"] == "C1" and first["message"]["text"] == "*Alerte* DELTA"
    assert float(second["ts"]) > float(first["ts"])
    assert [e["text"] for e in sl.sent_to("C1")] == ["*Alerte* DELTA", "deux"]
    assert sl.sent_to("C1")[0]["unfurl_links"] is False


async def test_async_client_threads_replies_and_sends_blocks(sl: FakeSlack) -> None:
    client = async_client(sl)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*DELTA*"}}]
    parent = await client.chat_postMessage(channel="C2", text="alerte", blocks=blocks)
    reply = await client.chat_postMessage(channel="C2", text="fin", thread_ts=parent["ts"])

    assert reply["message"]["thread_ts"] == parent["ts"]
    recorded = sl.sent_to("C2")
    assert recorded[0]["blocks"] == blocks and recorded[1]["thread_ts"] == parent["ts"]


def test_form_encoded_calls_and_lookups(sl: FakeSlack) -> None:
    client = sync_client(sl)
    client.api_call("chat.postMessage", data={"channel": "C3", "text": "form"})
    info = client.conversations_info(channel="C3")
    user = client.users_info(user="U42")
    auth = client.auth_test()

    assert sl.sent_to("C3")[0]["text"] == "form"
    assert info["channel"]["id"] == "C3" and info["channel"]["is_member"] is True
    assert user["user"]["tz"] == "Europe/Paris"
    assert auth["user_id"] == sl.bot_user_id


async def test_update_and_ephemeral(sl: FakeSlack) -> None:
    client = async_client(sl)
    posted = await client.chat_postMessage(channel="C4", text="v1")
    await client.chat_update(channel="C4", ts=posted["ts"], text="v2")
    await client.chat_postEphemeral(channel="C4", user="U1", text="pour toi")

    assert [(e["method"], e["text"]) for e in sl.sent_to("C4", method=None)] == [
        ("chat.postMessage", "v1"),
        ("chat.update", "v2"),
        ("chat.postEphemeral", "pour toi"),
    ]
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel="C4", ts="1.000000", text="x")
    assert caught.value.response["error"] == "message_not_found"


@pytest.mark.parametrize(
    ("script", "error"),
    [
        (lambda sl: sl.archive("C9"), "is_archived"),
        (lambda sl: sl.not_found("C9"), "channel_not_found"),
        (lambda sl: sl.not_in_channel("C9"), "not_in_channel"),
        (lambda sl: sl.revoke_token(), "token_revoked"),
    ],
)
async def test_programmed_channel_errors(sl: FakeSlack, script: object, error: str) -> None:
    script(sl)  # type: ignore[operator]
    with pytest.raises(SlackApiError) as caught:
        await async_client(sl).chat_postMessage(channel="C9", text="x")
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == error
    assert sl.sent == []


def test_invalid_token_is_invalid_auth(sl: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as caught:
        sync_client(sl, token="xoxb-wrong").chat_postMessage(channel="C1", text="x")
    assert caught.value.response["error"] == "invalid_auth"


async def test_injected_failures(sl: FakeSlack) -> None:
    client = async_client(sl)
    sl.fail_next(1, status=500)
    sl.fail_next(1, status=429, retry_after=9)

    with pytest.raises(SlackApiError) as server_error:
        await client.chat_postMessage(channel="C1", text="a")
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="b")
    await client.chat_postMessage(channel="C1", text="c")

    assert server_error.value.response.status_code == 500
    assert limited.value.response.status_code == 429 and limited.value.response["error"] == "ratelimited"
    assert limited.value.response.headers["Retry-After"] == "9"
    assert [e["text"] for e in sl.sent] == ["c"] and sl.throttled == 0


async def test_second_message_to_a_channel_within_the_window_is_ratelimited() -> None:
    with FakeSlack(limits=SlackLimits(channel_rate=1, channel_per=60.0)) as sl:
        client = async_client(sl)
        await client.chat_postMessage(channel="C1", text="a")
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C1", text="b")
        await client.chat_postMessage(channel="C2", text="other channel")

    assert caught.value.response.status_code == 429
    assert caught.value.response["error"] == "ratelimited"
    assert 1 <= int(caught.value.response.headers["Retry-After"]) <= 60
    assert sl.throttled == 1 and [e["text"] for e in sl.sent] == ["a", "other channel"]


async def test_the_channel_window_frees_exactly_per_seconds_later() -> None:
    per = 0.3
    with FakeSlack(limits=SlackLimits(channel_rate=1, channel_per=per)) as sl:
        client = async_client(sl)
        await client.chat_postMessage(channel="C1", text="a")
        with contextlib.suppress(SlackApiError):
            await client.chat_postMessage(channel="C1", text="b")
        await asyncio.sleep(per)
        await client.chat_postMessage(channel="C1", text="after the window")

    first, second = sl.requests[0], sl.requests[1]
    assert (second["status"] == 429) == (second["at"] - first["at"] < per)
    assert sl.sent[-1]["text"] == "after the window"


def test_response_url_posts_are_recorded(sl: FakeSlack) -> None:
    response = WebhookClient(sl.response_url("abc")).send(text="réponse", response_type="ephemeral")
    sl.wait_for(lambda: len(sl.responses) == 1, timeout=1)

    assert response.status_code == 200
    assert sl.responses[0]["id"] == "abc" and sl.responses[0]["body"]["text"] == "réponse"
