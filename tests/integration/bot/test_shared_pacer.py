"""A person talks to the bot while an alert is fanned out to the same chat: one pacer per token.

The outbox (``TelegramChannel``) and the bot's replies (python-telegram-bot through
``PacerRateLimiter``) share ``Relay.telegram_pacer``, so against the strict fake Bot API (30/s
overall, 1/s per chat) nothing earns a 429, and the reply to the person goes before the alert
message already waiting for that chat.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from telegram import Update

from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.telegram_app import build_telegram_application
from relays import subscribers as subs
from relays.poller import read_page
from relays.store import DeliveryRow, Store, SubscriberRow
from tests.fakes import FakeTelegram

SAMPLES = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"
PERSON = "7000"
CHATS = [str(7000 + i) for i in range(60)]  # the person's chat is served first


def claimed_or_sent(store: Store, chat: str) -> int:
    with store.sessions() as session:
        return len(
            session.scalars(
                select(DeliveryRow.id)
                .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
                .where(SubscriberRow.address == chat, DeliveryRow.status.in_(("sending", "sent")))
            ).all()
        )


async def test_a_reply_during_a_fan_out_to_the_same_chat_goes_first_and_nothing_is_throttled(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    for chat in CHATS:
        subs.add(store, channel="telegram", address=chat, client=f"Client {chat}")
    with FakeTelegram() as tg:  # strict limits
        settings = Settings.defaults(telegram_bot_token=tg.token, telegram_api_url=f"{tg.url}/bot")
        async with bootstrap(settings, store=store) as relay:
            app = build_telegram_application(relay.bots, settings, pacer=relay.telegram_pacer)
            await app.initialize()
            stop = asyncio.Event()
            sender = asyncio.create_task(relay.sender.run_forever(stop=stop))
            try:
                # The sample page: an alert and a planned interruption, two messages for every chat.
                page = (SAMPLES / "02-alerte-delta-g.html").read_bytes()
                store.record_poll(
                    "meteo", "p", read_page("p", page), now=datetime.now(UTC), on_events=relay.fanout
                )
                relay.sender.wake()
                await tg.wait_for_async(lambda: len(tg.sent_to(PERSON)) == 1, timeout=30)
                # Its second message is claimed and waits for the chat's next second...
                deadline = asyncio.get_running_loop().time() + 30
                while claimed_or_sent(store, PERSON) < 2:
                    assert asyncio.get_running_loop().time() < deadline, (
                        "the second message was never claimed"
                    )
                    await asyncio.sleep(0.01)
                assert len(tg.sent_to(PERSON)) == 1
                # ... when the person asks the bot something.
                message = tg.push_message(int(PERSON), "/help")
                await app.process_update(Update.de_json({"update_id": 1, "message": message}, app.bot))
                await tg.wait_for_async(lambda: len(tg.sent) == 2 * len(CHATS) + 1, timeout=60)
            finally:
                stop.set()
                await sender
                await app.shutdown()
        firsts = [str(m["text"]).splitlines()[0] for m in tg.sent_to(PERSON)]
        assert tg.throttled == 0
    store.close()
    assert len(firsts) == 3
    assert "ALERTE ROUGE" in firsts[0]
    assert "INTERRUPTION" not in firsts[1] and "ALERTE" not in firsts[1]  # the bot's reply
    assert "INTERRUPTION PROGRAMMÉE" in firsts[2]
    assert all(len(tg.sent_to(chat)) == 2 for chat in CHATS if chat != PERSON)
