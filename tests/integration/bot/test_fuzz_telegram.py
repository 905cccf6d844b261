"""Random messages and button presses through the real Telegram Application: the fake Bot API
accepts every reply (valid HTML, within 4096 characters) and no update crashes.

How many is the Hypothesis profile's say (``tests/conftest.py``); each example talks to the bot
over a fresh copy of the store, so a failure shrinks and replays exactly."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.telegram_app import build_telegram_application
from relays import invites
from relays.store import Store
from tests.fakes import FakeTelegram, TelegramLimits
from tests.fakes._telegram_wire import html_error
from tests.support.bot_world import ScenarioCopies, fixed_clock
from tests.unit.bot.test_fuzz import callback_data, command_strings

from .conftest import TelegramUser


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    user: TelegramUser
    tg: FakeTelegram
    settings: Settings
    stores: ScenarioCopies

    @contextmanager
    def fresh(self) -> Iterator[None]:
        """The bot's handlers over a fresh copy of the store, for one example."""
        with self.stores.fresh() as store:
            # The Application stays (started once); only the relay its handlers read is replaced.
            self.user.app.bot_data["relay"] = bootstrap(self.settings, store=store, clock=fixed_clock()).bots
            yield


def enrol_one_chat(store: Store) -> None:
    invites.redeem(store, invites.create_invite(store, "Fuzz <&> Co"), "telegram", "42")


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    loop = asyncio.new_event_loop()
    with FakeTelegram(limits=TelegramLimits.off()) as tg, tempfile.TemporaryDirectory() as folder:
        stores = ScenarioCopies(Path(folder), enrol_one_chat)
        tg.set_chat(-100, type="supergroup", title="g")
        settings = Settings.defaults(
            telegram_bot_token=tg.token, telegram_api_url=f"{tg.url}/bot", admins=["telegram:1"]
        )
        with stores.fresh() as store:
            bots = bootstrap(settings, store=store, clock=fixed_clock()).bots
            app = build_telegram_application(bots, settings, rate_limit=False)
        loop.run_until_complete(app.initialize())
        yield World(loop, TelegramUser(tg, app), tg, settings, stores)
        loop.run_until_complete(app.shutdown())
        stores.close()
    loop.close()


chats = st.sampled_from([(42, None), (1, None), (-100, 7), (-100, 1)])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=command_strings, where=chats, data=callback_data)
def test_random_updates_never_crash_and_every_reply_is_accepted(
    world: World, text: str, where: tuple[int, Any], data: str, caplog: pytest.LogCaptureFixture
) -> None:
    chat, user_id = where
    text = text.strip() or "?"
    before = len(world.tg.requests)
    with world.fresh(), caplog.at_level(logging.ERROR, logger="bot.telegram_app"):
        world.loop.run_until_complete(world.user.say(chat, text[:4096], user_id=user_id))
        sent = world.tg.sent_to(chat, method=None)
        if sent:
            world.loop.run_until_complete(
                world.user.press(chat, data[:64] or "x", sent[-1]["message_id"], user_id=user_id)
            )
    calls = [c for c in world.tg.requests[before:] if c["method"] in ("sendMessage", "editMessageText")]
    for call in calls:  # an edit to identical content is refused ("message is not modified"), and ignored
        assert call["status"] == 200 or call["method"] == "editMessageText", call
        assert html_error(call["params"]["text"]) is None and len(call["params"]["text"]) <= 4096
    assert not [r for r in caplog.records if r.name == "bot.telegram_app" and r.levelno >= logging.ERROR]
