"""Shared handlers over a store in the middle of the sample scenario (no platform involved)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import bootstrap
from bot.handlers.replies import BotRelay, Context
from bot.settings import Settings
from relays.store import Store
from tests.support.bot_world import fixed_clock, scenario_store

ADMIN = "1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = scenario_store(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    yield s
    s.close()


@pytest.fixture
def relay(store: Store) -> BotRelay:
    return bootstrap(Settings.defaults(admins=[f"telegram:{ADMIN}"]), store=store, clock=fixed_clock()).bots


@pytest.fixture
def chat(relay: BotRelay) -> Callable[..., Context]:
    def make(chat_id: str = "42", user_id: str | None = None, **kwargs: Any) -> Context:
        return Context(
            relay=relay,
            platform="telegram",
            chat_id=chat_id,
            user_id=user_id or chat_id,
            bot_name="relay_bot",
            **kwargs,
        )

    return make
