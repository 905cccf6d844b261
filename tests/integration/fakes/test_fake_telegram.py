"""The fake Bot API behaves like Telegram for the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import Bot, ReplyParameters
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.fakes._server import SlidingLog
from tests.fakes.telegram_api import FakeTelegram, TelegramLimits

UNLIMITED = TelegramLimits.off()


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(limits=UNLIMITED) as fake:
        yield fake


def make_bot(fake: FakeTelegram, token: str | None = None, read_timeout: float = 5.0) -> Bot:
    request = HTTPXRequest(connection_pool_size=64, read_timeout=read_timeout)
    return Bot(token or fake.token, base_url=f"{fake.url}/bot", request=request)


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(tg) as client:
        yield client


def retry_after(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value if isinstance(value, int | float) else value.total_seconds()


async def test_send_message_returns_a_full_message_and_records_it(tg: FakeTelegram, bot: Bot) -> None:
    first = await bot.send_message(42, "Alerte <b>DELTA</b>", parse_mode="HTML")
    second = await bot.send_message(42, "deux")
    other = await bot.send_message(-1001, "groupe")

    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert (
        first.text == "Alerte <b>DELTA</b>"
        and first.chat.id == 42
        and first.from_user is not None
        and first.from_user.is_bot
    )
    assert [e["text"] for e in tg.sent_to(42)] == ["Alerte <b>DELTA</b>", "deux"]
    assert tg.sent_to("42")[0]["parse_mode"] == "HTML"
    assert tg.sent_to(-1001)[0]["chat_id"] == "-1001"


async def test_replies_are_threaded_and_recorded(tg: FakeTelegram, bot: Bot) -> None:
    parent = await bot.send_message(7, "alerte")
    reply = await bot.send_message(
        7,
        "fin d'alerte",
        reply_parameters=ReplyParameters(parent.message_id, allow_sending_without_reply=True),
    )
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{tg.url}/bot{tg.token}/sendMessage",
            json={"chat_id": 7, "text": "legacy", "reply_to_message_id": parent.message_id},
        )
    legacy = answer.json()["result"]

    assert reply.reply_to_message is not None and reply.reply_to_message.message_id == parent.message_id
    assert legacy["reply_to_message"]["message_id"] == parent.message_id
    assert [e["reply_to_message_id"] for e in tg.sent_to(7)] == [None, parent.message_id, parent.message_id]


async def test_a_reply_to_a_missing_message_needs_allow_sending_without_reply(
    tg: FakeTelegram, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(7, "x", reply_parameters=ReplyParameters(99))
    sent = await bot.send_message(
        7, "y", reply_parameters=ReplyParameters(99, allow_sending_without_reply=True)
    )

    assert sent.reply_to_message is None
    assert tg.sent_to(7)[0]["reply_to_message_id"] == 99


async def test_injected_429_surfaces_as_retry_after_and_is_not_delivered(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next(1, status=429, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "x")

    assert retry_after(caught.value) == 7
    assert tg.sent == [] and tg.requests_for("sendMessage")[0]["status"] == 429


@pytest.mark.parametrize(("status", "match"), [(500, "Internal Server Error"), (502, "Bad Gateway")])
async def test_injected_server_errors_surface_as_network_errors(
    tg: FakeTelegram, bot: Bot, status: int, match: str
) -> None:
    tg.fail_next(1, status=status)

    with pytest.raises(NetworkError, match=match):
        await bot.send_message(1, "x")
    await bot.send_message(1, "y")  # only the next call fails

    assert [e["text"] for e in tg.sent] == ["y"]


async def test_blocked_user_and_kicked_group_answer_403(tg: FakeTelegram, bot: Bot) -> None:
    tg.block(5)
    tg.block(-5)

    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(5, "x")
    with pytest.raises(Forbidden, match="(?i)bot was kicked"):
        await bot.send_message(-5, "x")
    assert tg.sent == []


async def test_unknown_chat_answers_400_chat_not_found(tg: FakeTelegram, bot: Bot) -> None:
    tg.chat_not_found(404)

    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(404, "x")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.get_chat(404)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("<b>unclosed", "(?i)can't parse entities"),
        ("<script>x</script>", "(?i)unsupported start tag"),
        ("a < b", "(?i)can't parse entities"),
        ("", "(?i)message text is empty"),
        ("x" * 4097, "(?i)message is too long"),
    ],
)
async def test_messages_telegram_would_refuse_answer_400(bot: Bot, text: str, match: str) -> None:
    with pytest.raises(BadRequest, match=match):
        await bot.send_message(1, text, parse_mode="HTML")


async def test_escaped_html_is_accepted(bot: Bot) -> None:
    await bot.send_message(1, "a &lt; b &amp; <i>c</i> &#8364;", parse_mode="HTML")


async def test_edit_and_delete(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(3, "v1")
    edited = await bot.edit_message_text("v2", chat_id=3, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("v2", chat_id=3, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("v3", chat_id=3, message_id=999)
    assert await bot.delete_message(3, sent.message_id)

    assert isinstance(edited, object) and getattr(edited, "text", None) == "v2"
    assert [(e["method"], e["text"]) for e in tg.sent_to(3, method=None)] == [
        ("sendMessage", "v1"),
        ("editMessageText", "v2"),
    ]


async def test_bad_token_is_401_and_unknown_method_is_404(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(tg, token="999:WRONG"):
            pass
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{tg.url}/bot{tg.token}/sendTelepathy", json={})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_json_and_form_bodies_are_both_understood(tg: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{tg.url}/bot{tg.token}") as client:
        as_json = await client.post("/sendMessage", json={"chat_id": 9, "text": "json"})
        as_form = await client.post("/sendMessage", data={"chat_id": "9", "text": "form"})

    assert as_json.json()["result"]["message_id"] == 1
    assert as_form.json()["result"]["message_id"] == 2
    assert [e["text"] for e in tg.sent_to(9)] == ["json", "form"]


async def test_get_updates_long_polls_until_an_update_is_pushed(tg: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    pushed = tg.push_message(42, "/abonner DELTA", user_id=42)

    updates = await asyncio.wait_for(poll, 5)
    assert [u.message.text for u in updates if u.message] == ["/abonner DELTA"]
    assert updates[0].message is not None and updates[0].message.message_id == pushed["message_id"]
    entity = updates[0].message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, len("/abonner"))

    # The offset confirms what was read; nothing is left, and an empty poll returns at timeout.
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_group_messages_and_callbacks_are_delivered(tg: FakeTelegram, bot: Bot) -> None:
    menu = await bot.send_message(-77, "Choisir")
    tg.push_message(-77, "bonjour", user_id=5, chat_type="supergroup")
    tg.push_callback(-77, "sub:DELTA", menu.message_id, user_id=5)

    updates = await bot.get_updates(timeout=1)
    assert updates[0].message is not None and updates[0].message.chat.type == "supergroup"
    query = updates[1].callback_query
    assert query is not None and query.data == "sub:DELTA" and query.from_user.id == 5
    assert query.message is not None and query.message.message_id == menu.message_id

    await bot.answer_callback_query(query.id, text="ok")
    assert tg.callback_answers[0]["callback_query_id"] == query.id


async def test_commands_and_webhook_methods(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([("abonner", "S'abonner"), ("aide", "Aide")])
    assert [c.command for c in await bot.get_my_commands()] == ["abonner", "aide"]
    await bot.set_webhook("https://example.invalid/hook")
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert await bot.send_chat_action(1, "typing")
    assert (await bot.get_chat(-3)).type == "group"


async def test_slow_answers_time_the_client_out_after_delivery(tg: FakeTelegram) -> None:
    tg.delay(0.4)
    async with make_bot(tg) as slow:  # getMe is slow too, but within 5 s
        with pytest.raises(TimedOut):
            await slow.send_message(1, "x", read_timeout=0.1)
    assert [e["text"] for e in tg.sent] == ["x"]  # delivered all the same


async def test_a_lost_response_still_delivers(tg: FakeTelegram, bot: Bot) -> None:
    tg.lose_responses(1)
    with pytest.raises(NetworkError):
        await bot.send_message(1, "x")
    await bot.send_message(2, "y")
    assert [e["text"] for e in tg.sent] == ["x", "y"]


async def test_crash_after_drops_everything_until_recovered(tg: FakeTelegram, bot: Bot) -> None:
    tg.crash_after(1)
    await bot.send_message(1, "a")
    with pytest.raises(NetworkError):
        await bot.send_message(2, "b")
    tg.recover()
    await bot.send_message(3, "c")
    assert [e["text"] for e in tg.sent] == ["a", "c"]


# -- rate limits ------------------------------------------------------------------------------


def test_sliding_log_is_exact_at_the_edge() -> None:
    log = SlidingLog(rate=2, per=1.0)
    log.add(0.0)
    log.add(0.5)
    assert log.wait(0.99) == pytest.approx(0.01)
    assert log.wait(1.0) == 0.0  # the stamp at 0.0 left the window (t - 1, t]
    log.add(1.0)
    assert log.wait(1.2) == pytest.approx(0.3)


async def test_the_31st_message_within_the_window_is_refused() -> None:
    limits = TelegramLimits(global_rate=30, global_per=60.0, chat_rate=None, group_rate=None)
    with FakeTelegram(limits=limits) as tg:
        async with make_bot(tg) as client:
            results = await asyncio.gather(
                *(client.send_message(1000 + i, "x") for i in range(31)), return_exceptions=True
            )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], RetryAfter)
    assert 1 <= retry_after(refused[0]) <= 60
    assert len(tg.sent) == 30 and tg.throttled == 1


async def test_the_global_window_frees_exactly_per_seconds_after_the_oldest_send() -> None:
    per = 0.4
    limits = TelegramLimits(global_rate=2, global_per=per, chat_rate=None, group_rate=None)
    with FakeTelegram(limits=limits) as tg:
        async with make_bot(tg) as client:
            await client.send_message(1, "a")
            await client.send_message(2, "b")
            with contextlib.suppress(RetryAfter):
                await client.send_message(3, "c")
            await asyncio.sleep(per)
            await client.send_message(4, "after the window")
    # Whether "c" was refused depends only on when the server saw it, never on our speed.
    oldest, third = tg.sent[0]["at"], tg.requests_for("sendMessage")[2]
    assert (third["status"] == 429) == (third["at"] - oldest < per)
    assert tg.throttled == (third["status"] == 429)
    assert tg.sent[-1]["text"] == "after the window"


async def test_per_chat_and_per_group_windows() -> None:
    limits = TelegramLimits(global_rate=None, chat_rate=1, chat_per=60.0, group_rate=2, group_per=60.0)
    with FakeTelegram(limits=limits) as tg:
        async with make_bot(tg) as client:
            await client.send_message(1, "a")
            with pytest.raises(RetryAfter):
                await client.send_message(1, "b")
            await client.send_message(2, "other chat is fine")
    assert tg.throttled == 1

    group_only = TelegramLimits(global_rate=None, chat_rate=None, group_rate=2, group_per=60.0)
    with FakeTelegram(limits=group_only) as tg:
        async with make_bot(tg) as client:
            await client.send_message(-9, "1")
            await client.send_message(-9, "2")
            with pytest.raises(RetryAfter):
                await client.send_message(-9, "3")
            await client.send_message(9, "private chats have no group window")
            await client.send_message(9, "nor a chat window here")
    assert len(tg.sent) == 4 and tg.throttled == 1


def test_the_fake_works_from_sync_code() -> None:
    with FakeTelegram(limits=UNLIMITED) as tg:
        response = httpx.post(f"{tg.url}/bot{tg.token}/sendMessage", json={"chat_id": 1, "text": "hi"})
        tg.wait_for(lambda: len(tg.sent) == 1, timeout=1)
    assert response.json()["ok"] is True
    with pytest.raises(RuntimeError):
        _ = tg.url
