"""Fake chat-platform APIs on 127.0.0.1 for tests and benchmarks (never any external host).

``FakeTelegram`` (Bot API) and ``FakeSlack`` (Web API) run in a background thread with their own
event loop, so sync tests, async tests and ``bench/`` scripts all use them the same way::

    with FakeTelegram() as tg, FakeSlack() as sl:
        ...

Both enforce the platforms' rate limits as exact sliding windows and record what they accepted.
"""

from tests.fakes.slack_api import FakeSlack, SlackLimits
from tests.fakes.telegram_api import FakeTelegram, TelegramLimits

__all__ = ["FakeSlack", "FakeTelegram", "SlackLimits", "TelegramLimits"]
