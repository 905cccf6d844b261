"""The composition root: settings in, store, channels, poller and sender out.

Entry points (CLI commands, the long-running ``run``) call these builders and nothing else
constructs infrastructure; tests call them with local fake servers' URLs in the settings.
Nothing here connects at import time.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TextIO

from relays.channels.apprise_channel import AppriseChannel
from relays.channels.base import Channel
from relays.channels.console import ConsoleChannel
from relays.lifecycle import Rules
from relays.store import Store

from .settings import Settings


def open_store(settings: Settings, url: str | None = None) -> Store:
    return Store.open(url or settings.resolved_database_url())


def rules(settings: Settings) -> Rules:
    return Rules(degraded_after=settings.degraded_after, close_after_absent=settings.close_after_absent)


async def build_channels(
    settings: Settings, stack: AsyncExitStack, *, console: TextIO | None = None
) -> dict[str, Channel]:
    """Every channel the configuration enables (Telegram and Slack need their tokens)."""
    channels: dict[str, Channel] = {"apprise": AppriseChannel(), "console": ConsoleChannel(console)}
    if settings.telegram_bot_token is not None:
        from relays.channels.telegram import TelegramChannel, telegram_pacer

        telegram = TelegramChannel(
            settings.telegram_bot_token.get_secret_value(),
            base_url=settings.telegram_api_url,
            pacer=telegram_pacer(settings.telegram_rate),
        )
        await stack.enter_async_context(telegram)
        channels["telegram"] = telegram
    if settings.slack_bot_token is not None:
        from relays.channels.slack import SlackChannel

        slack = SlackChannel(settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
        await stack.enter_async_context(slack)
        channels["slack"] = slack
    return channels
