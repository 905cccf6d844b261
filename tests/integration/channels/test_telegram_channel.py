"""TelegramChannel against the strict fake Bot API: content as given, threading, errors, pacing."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from relays.channels.base import (
    AuthError,
    BlockedError,
    Channel,
    NotFoundError,
    Outgoing,
    PermanentError,
    TransientError,
)
from relays.channels.telegram import TelegramChannel
from relays.pacing import Pacer
from tests.fakes import FakeTelegram, TelegramLimits
from tests.integration.channels.windows import max_in_window

HOSTILE = "<script>alert(1)</script> & *bold* _it_ [x](javascript:1) `\u202e` \x00 \U0001f6a8 ${{7*7}}"


async def test_it_is_a_channel(telegram: TelegramChannel) -> None:
    assert isinstance(telegram, Channel) and telegram.name == "telegram"
    assert "TEST-token" not in repr(telegram)


async def test_plain_text_is_sent_exactly_as_given(tg: FakeTelegram, telegram: TelegramChannel) -> None:
    ref = await telegram.send(Outgoing("42", HOSTILE))

    [sent] = tg.sent_to(42)
    assert sent["text"] == HOSTILE and sent["parse_mode"] is None
    assert ref == f"42:{sent['message_id']}"


async def test_html_is_sent_in_html_mode_without_link_previews(
    tg: FakeTelegram, telegram: TelegramChannel
) -> None:
    await telegram.send(Outgoing("42", "<b>DELTA G</b> &lt;indisponible&gt;", format="html"))

    [sent] = tg.sent_to(42)
    assert sent["parse_mode"] == "HTML" and sent["text"] == "<b>DELTA G</b> &lt;indisponible&gt;"
    assert sent["link_preview_options"] == {"is_disabled": True}


async def test_a_thread_ref_makes_a_reply() -> None:
    # Without limits on either side: five messages to one chat would otherwise take four seconds.
    unlimited = Pacer(global_rate=None, per_key_rate=None, group_rate=None)
    with FakeTelegram(limits=TelegramLimits.off()) as tg:
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot", pacer=unlimited) as channel:
            parent = await channel.send(Outgoing("-100", "alerte"))
            reply = await channel.send(Outgoing("-100", "fin d'alerte", thread_ref=parent))
            bare = await channel.send(Outgoing("-100", "bare id", thread_ref=parent.split(":")[1]))
            gone = await channel.send(Outgoing("-100", "parent deleted", thread_ref="-100:999"))
            with pytest.raises(ValueError, match="does not belong"):
                await channel.send(Outgoing("-200", "wrong chat", thread_ref=parent))

    parent_id = int(parent.split(":")[1])
    replies = [e["reply_to_message_id"] for e in tg.sent_to(-100)]
    assert replies == [None, parent_id, parent_id, 999]
    assert reply != bare != gone


async def test_a_long_message_goes_out_whole_in_numbered_parts_replying_to_the_first() -> None:
    unlimited = Pacer(global_rate=None, per_key_rate=None, group_rate=None)
    paragraph = " ".join(f"<b>mot{i}</b> &amp;" for i in range(900))  # ~12,000 characters of HTML
    with FakeTelegram(limits=TelegramLimits.off()) as tg:
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot", pacer=unlimited) as channel:
            alert = await channel.send(Outgoing("-100", "alerte"))
            ref = await channel.send(
                Outgoing("-100", f"BIP n°1\n{paragraph}", thread_ref=alert, format="html")
            )

    first, *rest = tg.sent_to(-100)[1:]
    assert ref == f"-100:{first['message_id']}" and first["reply_to_message_id"] == int(alert.split(":")[1])
    assert len(rest) >= 2 and all(r["reply_to_message_id"] == first["message_id"] for r in rest)
    assert [r["text"].split("\n")[0] for r in rest] == [
        f"({k}/{len(rest) + 1})" for k in range(2, len(rest) + 2)
    ]
    words = " ".join([first["text"], *(r["text"] for r in rest)])
    assert all(f"<b>mot{i}</b>" in words for i in range(900))


async def test_a_429_storm_is_transient_and_carries_retry_after(tg: FakeTelegram) -> None:
    tg.fail_next(3, status=429, retry_after=1)
    async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot") as channel:
        errors = await asyncio.gather(
            *(channel.send(Outgoing(str(chat), "x")) for chat in (1, 2, 3)), return_exceptions=True
        )
        assert all(isinstance(e, TransientError) for e in errors)
        assert {(e.retry_after, e.reason) for e in errors if isinstance(e, TransientError)} == {
            (1.0, "rate_limited")
        }
        assert all(isinstance(e.__cause__, RetryAfter) for e in errors if isinstance(e, BaseException))
        refused_at = max(
            r["at"] for r in tg.requests_for("sendMessage") if str(r["params"]["chat_id"]) == "1"
        )

        await channel.send(Outgoing("1", "after the storm"))

    # The chat was penalised for retry_after: the server saw the retry a second later, at least.
    assert tg.sent_to(1)[0]["at"] >= refused_at + 1.0
    assert tg.throttled == 0


async def test_a_blocked_bot_is_permanent(tg: FakeTelegram, telegram: TelegramChannel) -> None:
    tg.block(5)
    with pytest.raises(BlockedError) as caught:
        await telegram.send(Outgoing("5", "x"))
    assert isinstance(caught.value, PermanentError) and isinstance(caught.value.__cause__, Forbidden)
    assert (caught.value.channel, caught.value.address, caught.value.reason) == ("telegram", "5", "blocked")


async def test_a_missing_chat_is_permanent(tg: FakeTelegram, telegram: TelegramChannel) -> None:
    tg.chat_not_found(-404)
    with pytest.raises(NotFoundError) as caught:
        await telegram.send(Outgoing("-404", "x"))
    assert isinstance(caught.value.__cause__, BadRequest) and caught.value.reason == "chat_not_found"


async def test_html_telegram_cannot_parse_is_permanent_for_that_message(telegram: TelegramChannel) -> None:
    with pytest.raises(PermanentError) as caught:
        await telegram.send(Outgoing("1", "<b>unclosed", format="html"))
    assert type(caught.value) is PermanentError and caught.value.reason == "bad_request"


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_transient(tg: FakeTelegram, telegram: TelegramChannel, status: int) -> None:
    tg.fail_next(1, status=status)
    with pytest.raises(TransientError) as caught:
        await telegram.send(Outgoing("1", "x"))
    assert isinstance(caught.value.__cause__, NetworkError) and caught.value.retry_after is None


async def test_a_timeout_is_transient(tg: FakeTelegram) -> None:
    tg.delay(0.5)
    async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot", timeout=0.1) as channel:
        with pytest.raises(TransientError) as caught:
            await channel.send(Outgoing("1", "x"))
    assert caught.value.reason == "timeout" and isinstance(caught.value.__cause__, TimedOut)


async def test_a_bad_token_is_an_auth_error_that_does_not_quote_it(tg: FakeTelegram) -> None:
    async with TelegramChannel("999:SECRET", base_url=f"{tg.url}/bot") as channel:
        with pytest.raises(AuthError) as caught:
            await channel.send(Outgoing("1", "x"))
    assert isinstance(caught.value.__cause__, InvalidToken) and "SECRET" not in str(caught.value)


async def test_an_unknown_format_is_a_programming_error(telegram: TelegramChannel) -> None:
    with pytest.raises(ValueError, match="mrkdwn"):
        await telegram.send(Outgoing("1", "x", format="mrkdwn"))


# -- pacing against the strict server -------------------------------------------------------------


async def test_a_fan_out_to_90_chats_is_never_throttled(tg: FakeTelegram, telegram: TelegramChannel) -> None:
    refs = await asyncio.gather(*(telegram.send(Outgoing(str(1000 + i), f"alerte {i}")) for i in range(90)))

    assert tg.throttled == 0 and len(tg.sent) == 90 and len(set(refs)) == 90
    assert max_in_window((e["at"] for e in tg.sent), per=1.0) <= 30


async def test_mixed_traffic_respects_every_window_and_keeps_per_chat_order() -> None:
    # Telegram's three windows, scaled down so the test takes about a second.
    limits = TelegramLimits(
        global_rate=6, global_per=0.1, chat_rate=1, chat_per=0.05, group_rate=3, group_per=0.3
    )
    pacer = Pacer(6, 0.1, 1, 0.05, 3, 0.3)
    chats = ["1", "2", "3", "-10", "-20"]
    with FakeTelegram(limits=limits) as tg:
        async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot", pacer=pacer) as channel:
            await asyncio.gather(*(channel.send(Outgoing(chats[i % 5], f"{i}")) for i in range(40)))

    assert tg.throttled == 0 and len(tg.sent) == 40
    assert max_in_window((e["at"] for e in tg.sent), per=0.1) <= 6
    by_chat: defaultdict[str, list[float]] = defaultdict(list)
    for entry in tg.sent:
        by_chat[entry["chat_id"]].append(entry["at"])
    for chat, times in by_chat.items():
        assert max_in_window(times, per=0.05) <= 1
        if chat.startswith("-"):
            assert max_in_window(times, per=0.3) <= 3
    for chat in chats:
        texts = [int(e["text"]) for e in tg.sent_to(chat)]
        assert texts == sorted(texts)
