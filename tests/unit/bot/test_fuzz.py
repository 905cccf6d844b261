"""Random command strings and button data through the shared handlers: every reply is well formed
on every platform (non-empty, within limits, valid Telegram HTML) and nothing raises.

How many examples is the Hypothesis profile's say (``tests/conftest.py``: a fast default, ``deep``
on demand); each example gets a fresh copy of the store, so a failure shrinks and replays exactly."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bootstrap import bootstrap
from bot.handlers.markup import SLACK_LIMIT, slack_blocks, slack_mrkdwn, telegram_html, utf16_len
from bot.handlers.replies import CALLBACK_MAX_BYTES, BotRelay, Context, Reply
from bot.handlers.router import BY_ALIAS, handle, handle_callback
from bot.settings import Settings
from relays import invites
from relays.store import Store
from tests.fakes._telegram_wire import html_error
from tests.support.bot_world import ScenarioCopies, fixed_clock

ALIASES = sorted(BY_ALIAS)
WORDS = [
    "DELTA G",
    "delta x import",
    "ICS2",
    "GAMMA",
    "EDI",
    "DTI",
    "tout",
    "fin",
    "bip",
    "14:30",
    "03/12/2026",
    "25:99",
    "31/02/2026",
    "eori=FR1",
    "prestataire",
    "fr",
    "en",
    "<b>",
    "&amp;",
    "<!channel>",
    "*_~`",
    "auto-déclencher",
    "self-trigger",
    "?",
    "\n",
    "99999999999999999999",
    "²",
    "٣",
    "@relay_bot",
]
odd = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
words = st.lists(st.one_of(st.sampled_from(WORDS), odd), max_size=8).map(" ".join)
command_strings = st.one_of(
    st.builds(lambda a, rest: f"/{a} {rest}", st.sampled_from(ALIASES), words),
    st.builds(lambda a, rest: f"{a} {rest}", st.sampled_from(ALIASES), words),
    st.builds(lambda a, rest: f"/{a}@relay_bot{rest}", st.sampled_from(ALIASES), odd),
    words,
    odd,
    st.text(max_size=5000),
)
callback_data = st.one_of(
    st.builds(
        lambda p, rest: f"{p}:{rest}",
        st.sampled_from(["sub", "un", "lang", "st", "da", "x"]),
        st.text(st.sampled_from("0123456789.:EDvnbxyf?o-s mk²"), max_size=20),
    ),
    st.text(max_size=64),
)
contexts = st.fixed_dictionaries(
    {
        "platform": st.sampled_from(["telegram", "slack"]),
        "chat_id": st.sampled_from(["42", "43", "-100", "C0TEAM01", "D0DM0001"]),
        "user_id": st.sampled_from(["42", "1", "UADMIN01", "U0USER01"]),
        "chat_type": st.sampled_from(["private", "group"]),
        "addressed": st.booleans(),
        "lang_hint": st.sampled_from([None, "en", "fr", "de", "en-GB", ""]),
        "can_whisper": st.booleans(),
        "bare_commands": st.booleans(),
    }
)


SETTINGS = Settings.defaults(admins=["telegram:1", "slack:UADMIN01"])


def enrol_two_chats(store: Store) -> None:
    for chat in ("42", "-100"):
        invites.redeem(
            store, invites.create_invite(store, "Fuzz & <Co>", {"eori": "FR<1>"}), "telegram", chat
        )


@pytest.fixture(scope="module")
def stores() -> Iterator[ScenarioCopies]:
    with tempfile.TemporaryDirectory() as folder:
        copies = ScenarioCopies(Path(folder), enrol_two_chats)
        yield copies
        copies.close()


@contextmanager
def fresh_relay(stores: ScenarioCopies) -> Iterator[BotRelay]:
    """The bots' relay over a fresh copy of the store (one per example)."""
    with stores.fresh() as store:
        yield bootstrap(SETTINGS, store=store, clock=fixed_clock()).bots


def well_formed(result: Reply) -> None:
    assert result.text.strip()
    html = telegram_html(result)
    assert utf16_len(html) <= 4096 and html_error(html) is None, html[:300]
    assert len(slack_mrkdwn(result)) <= SLACK_LIMIT
    for block in slack_blocks(result):
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
        else:
            assert 0 < len(block["elements"]) <= 25
    for row in result.buttons:
        for button in row:
            assert button.label and len(button.data.encode()) <= CALLBACK_MAX_BYTES


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=command_strings, where=contexts)
def test_any_message_gets_a_well_formed_reply_or_silence(
    stores: ScenarioCopies, text: str, where: dict[str, object]
) -> None:
    with fresh_relay(stores) as relay:
        result = handle(Context(relay=relay, bot_name="relay_bot", **where), text)  # type: ignore[arg-type]
    if result is not None:
        well_formed(result)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=callback_data, where=contexts)
def test_any_button_data_gets_a_well_formed_reply(
    stores: ScenarioCopies, data: str, where: dict[str, object]
) -> None:
    with fresh_relay(stores) as relay:
        well_formed(handle_callback(Context(relay=relay, **where), data))  # type: ignore[arg-type]
