"""Fake platforms and channels wired to them, for the channel integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from relays.channels.slack import SlackChannel
from relays.channels.telegram import TelegramChannel
from tests.fakes import FakeSlack, FakeTelegram


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    """The Bot API with Telegram's real limits, enforced strictly."""
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def telegram(tg: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    async with TelegramChannel(tg.token, base_url=f"{tg.url}/bot", timeout=5.0) as channel:
        yield channel


@pytest.fixture
def sl() -> Iterator[FakeSlack]:
    """The Web API with Slack's one-message-per-second-per-channel limit."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def slack(sl: FakeSlack) -> AsyncIterator[SlackChannel]:
    async with SlackChannel(sl.token, base_url=f"{sl.url}/api/", timeout=5.0) as channel:
        yield channel
