"""The chat bots against the fake platforms: a store in the middle of the sample scenario."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.telegram_app import TelegramApp, build_telegram_application
from relays.channels.memory import MemoryChannel
from relays.invites import create_invite
from relays.store import Store
from tests.fakes import FakeSlack, FakeTelegram, SlackLimits, TelegramLimits
from tests.support.bot_world import fixed_clock, scenario_store

ADMIN = 1
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PROFILE = {
    "eori": "FR12345678901",
    "company": "Transit SA",
    "address": "1 quai de Southampton, 76600 Le Havre",
    "phone": "+33 2 35 00 00 00",
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = scenario_store(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(limits=TelegramLimits.off()) as fake:
        yield fake


@pytest.fixture
def sl() -> Iterator[FakeSlack]:
    with FakeSlack(limits=SlackLimits.off()) as fake:
        yield fake


@pytest.fixture
def settings(tg: FakeTelegram, sl: FakeSlack) -> Settings:
    return Settings.defaults(
        telegram_bot_token=tg.token,
        telegram_api_url=f"{tg.url}/bot",
        slack_bot_token=sl.token,
        slack_api_url=f"{sl.url}/api/",
        slack_signing_secret=SIGNING_SECRET,
        telegram_webhook_secret="s3cret-token_ok-0123456789abcdef0123",
        admins=[f"telegram:{ADMIN}", "slack:UADMIN01"],
    )


@pytest.fixture
def memory() -> MemoryChannel:
    return MemoryChannel("telegram")


@pytest.fixture
async def app(settings: Settings, store: Store, memory: MemoryChannel) -> AsyncIterator[TelegramApp]:
    relay = bootstrap(settings, store=store, channels={"telegram": memory}, clock=fixed_clock())
    application = build_telegram_application(relay.bots, settings, rate_limit=False)
    await application.initialize()
    yield application
    await application.shutdown()


@pytest.fixture
def code(store: Store) -> str:
    return create_invite(store, "Transit SA", PROFILE)


class TelegramUser:
    """Pushes updates the way Telegram would and processes them with the real Application."""

    def __init__(self, tg: FakeTelegram, app: TelegramApp) -> None:
        self.tg, self.app = tg, app
        self.ids = count(10_000)

    async def process(self, update: dict[str, Any]) -> None:
        update.setdefault("update_id", next(self.ids))
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def say(self, chat: int, text: str, **kwargs: Any) -> None:
        await self.process({"message": self.tg.push_message(chat, text, **kwargs)})

    async def press(self, chat: int, data: str, message_id: int, **kwargs: Any) -> None:
        await self.process({"callback_query": self.tg.push_callback(chat, data, message_id, **kwargs)})

    def texts(self, chat: int) -> list[str]:
        return [str(m["text"]) for m in self.tg.sent_to(chat, method=None)]

    def last(self, chat: int) -> dict[str, Any]:
        return self.tg.sent_to(chat, method=None)[-1]


@pytest.fixture
def user(tg: FakeTelegram, app: TelegramApp) -> TelegramUser:
    return TelegramUser(tg, app)
