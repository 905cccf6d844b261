"""SlackChannel against the strict fake Web API: content as given, threading, errors, pacing."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import pytest
from slack_sdk.errors import SlackApiError

from relays.channels.base import (
    AuthError,
    BlockedError,
    Channel,
    NotFoundError,
    Outgoing,
    PermanentError,
    TransientError,
)
from relays.channels.slack import SlackChannel
from relays.pacing import Pacer
from tests.fakes import FakeSlack, SlackLimits
from tests.integration.channels.windows import max_in_window

HOSTILE = "<!channel> <@U1|admin> &amp; *gras* _it_ `code` <https://evil.example|clic> \u202e \U0001f6a8"


async def test_it_is_a_channel(slack: SlackChannel) -> None:
    assert isinstance(slack, Channel) and slack.name == "slack"
    assert "xoxb" not in repr(slack)


async def test_text_is_sent_exactly_as_given_without_unfurling(sl: FakeSlack) -> None:
    async with SlackChannel(
        sl.token, base_url=f"{sl.url}/api/", pacer=Pacer(None, per_key_rate=None)
    ) as slack:
        plain = await slack.send(Outgoing("C1", HOSTILE))
    async with SlackChannel(sl.token, base_url=f"{sl.url}/api/") as slack:
        rich = await slack.send(Outgoing("C2", "*Alerte* DELTA", format="mrkdwn"))

    [first], [second] = sl.sent_to("C1"), sl.sent_to("C2")
    assert first["text"] == HOSTILE and first["mrkdwn"] is False
    assert second["mrkdwn"] is True
    assert first["unfurl_links"] is False and first["unfurl_media"] is False
    assert (plain, rich) == (f"C1:{first['ts']}", f"C2:{second['ts']}")


async def test_a_thread_ref_threads_the_message() -> None:
    with FakeSlack(limits=SlackLimits.off()) as sl:
        unpaced = Pacer(global_rate=None, per_key_rate=None, group_rate=None)
        async with SlackChannel(sl.token, base_url=f"{sl.url}/api/", pacer=unpaced) as slack:
            parent = await slack.send(Outgoing("C1", "alerte"))
            await slack.send(Outgoing("C1", "fin", thread_ref=parent))
            await slack.send(Outgoing("C1", "bare ts", thread_ref=parent.split(":")[1]))

    ts = parent.split(":")[1]
    assert [e["thread_ts"] for e in sl.sent_to("C1")] == [None, ts, ts]


async def test_a_long_message_goes_out_whole_in_parts_in_the_alerts_thread() -> None:
    paragraph = " ".join(f"*mot{i}*" for i in range(1500))  # ~11,000 characters
    with FakeSlack(limits=SlackLimits.off()) as sl:
        unpaced = Pacer(global_rate=None, per_key_rate=None, group_rate=None)
        async with SlackChannel(sl.token, base_url=f"{sl.url}/api/", pacer=unpaced) as slack:
            alert = await slack.send(Outgoing("C1", "alerte"))
            ref = await slack.send(Outgoing("C1", paragraph, thread_ref=alert, format="mrkdwn"))

    ts = alert.split(":")[1]
    parts = sl.sent_to("C1")[1:]
    assert len(parts) >= 3 and {p["thread_ts"] for p in parts} == {ts}
    assert ref == f"C1:{parts[0]['ts']}"
    assert all(f"*mot{i}*" in " ".join(p["text"] for p in parts) for i in range(1500))


async def test_blocks_travel_as_a_json_document(sl: FakeSlack, slack: SlackChannel) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*DELTA G*"}}]
    document = json.dumps({"text": "DELTA G", "blocks": blocks})

    await slack.send(Outgoing("C1", document, format="slack-blocks"))
    with pytest.raises(PermanentError) as caught:
        await slack.send(Outgoing("C2", "{not json", format="slack-blocks"))

    [sent] = sl.sent
    assert sent["text"] == "DELTA G" and sent["blocks"] == blocks
    assert caught.value.reason == "bad_message" and len(sl.requests) == 1  # nothing sent for C2


async def test_a_429_storm_is_transient_and_carries_retry_after(sl: FakeSlack, slack: SlackChannel) -> None:
    sl.fail_next(3, status=429, retry_after=1)
    errors = await asyncio.gather(
        *(slack.send(Outgoing(channel, "x")) for channel in ("C1", "C2", "C3")), return_exceptions=True
    )

    assert all(isinstance(e, TransientError) for e in errors)
    assert {(e.retry_after, e.reason) for e in errors if isinstance(e, TransientError)} == {
        (1.0, "rate_limited")
    }
    assert all(isinstance(e.__cause__, SlackApiError) for e in errors if isinstance(e, BaseException))
    refused_at = max(r["at"] for r in sl.requests)

    await slack.send(Outgoing("C1", "after the storm"))
    assert sl.sent_to("C1")[0]["at"] >= refused_at + 1.0  # the channel was penalised
    assert sl.throttled == 0


@pytest.mark.parametrize(
    ("script", "error", "reason"),
    [
        (lambda sl: sl.archive("C9"), BlockedError, "is_archived"),
        (lambda sl: sl.not_in_channel("C9"), BlockedError, "not_in_channel"),
        (lambda sl: sl.not_found("C9"), NotFoundError, "channel_not_found"),
        (lambda sl: sl.revoke_token(), AuthError, "token_revoked"),
        (lambda sl: sl.revoke_token("account_inactive"), AuthError, "account_inactive"),
    ],
)
async def test_dead_addresses_and_credentials_are_permanent(
    sl: FakeSlack, slack: SlackChannel, script: object, error: type[PermanentError], reason: str
) -> None:
    script(sl)  # type: ignore[operator]
    with pytest.raises(error) as caught:
        await slack.send(Outgoing("C9", "x"))
    assert caught.value.reason == reason and caught.value.address == "C9"
    assert isinstance(caught.value.__cause__, SlackApiError)


async def test_an_invalid_token_is_an_auth_error(sl: FakeSlack) -> None:
    async with SlackChannel("xoxb-wrong", base_url=f"{sl.url}/api/") as slack:
        with pytest.raises(AuthError, match="invalid_auth"):
            await slack.send(Outgoing("C1", "x"))


async def test_server_errors_and_unreachable_servers_are_transient(
    sl: FakeSlack, slack: SlackChannel
) -> None:
    sl.fail_next(1, status=503)
    with pytest.raises(TransientError) as server_error:
        await slack.send(Outgoing("C1", "x"))
    assert server_error.value.retry_after is None

    url = f"{sl.url}/api/"
    sl.stop()
    async with SlackChannel(sl.token, base_url=url) as gone:
        with pytest.raises(TransientError) as unreachable:
            await gone.send(Outgoing("C1", "x"))
    assert unreachable.value.reason == "network"


async def test_messages_to_one_channel_are_paced_and_keep_their_order() -> None:
    with FakeSlack(limits=SlackLimits(channel_rate=1, channel_per=0.1)) as sl:
        pacer = Pacer(global_rate=None, per_key_rate=1, per_key_per=0.1, group_rate=None)
        async with SlackChannel(sl.token, base_url=f"{sl.url}/api/", pacer=pacer) as slack:
            await asyncio.gather(*(slack.send(Outgoing(f"C{i % 2}", str(i))) for i in range(10)))

    assert sl.throttled == 0 and len(sl.sent) == 10
    by_channel: defaultdict[str, list[float]] = defaultdict(list)
    for entry in sl.sent:
        by_channel[entry["channel"]].append(entry["at"])
    assert all(max_in_window(times, per=0.1) <= 1 for times in by_channel.values())
    assert [e["text"] for e in sl.sent_to("C0")] == ["0", "2", "4", "6", "8"]
