"""A fragment sent right after a question is read with that question's subject (per chat, per user)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.bootstrap import bootstrap
from bot.handlers.replies import Context
from bot.handlers.router import handle
from bot.settings import Settings
from relays.store import Store

QUESTION = "Pour Delta G, l'auto-déclenchement de la procédure de secours nécessite-t-il l'accord du bureau ?"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _context(store: Store, clock: Clock, chat_id: str = "42", user_id: str = "42") -> Context:
    relay = bootstrap(Settings.defaults(), store=store, clock=clock).bots
    return Context(relay=relay, platform="telegram", chat_id=chat_id, user_id=user_id)


def _text(ctx: Context, message: str) -> str:
    reply = handle(ctx, message)
    assert reply is not None
    return reply.text


def test_a_fragment_after_a_question_is_read_with_its_subject(store: Store) -> None:
    clock = Clock()
    ctx = _context(store, clock, chat_id="7", user_id="7")
    _text(ctx, QUESTION)
    clock.now += timedelta(minutes=3)
    text = _text(ctx, "et pour GAMMA ?")
    assert "décide de l'autorisation" in text
    assert "IV.1" in text


def test_a_fragment_long_after_the_question_stands_alone(store: Store) -> None:
    clock = Clock()
    ctx = _context(store, clock, chat_id="8", user_id="8")
    _text(ctx, QUESTION)
    clock.now += timedelta(minutes=11)
    assert "décide de l'autorisation" not in _text(ctx, "et pour GAMMA ?")


def test_another_users_question_is_not_the_subject(store: Store) -> None:
    clock = Clock()
    _text(_context(store, clock, chat_id="-100", user_id="1"), QUESTION)
    clock.now += timedelta(minutes=1)
    other = _context(store, clock, chat_id="-100", user_id="2")
    assert "décide de l'autorisation" not in _text(other, "et pour GAMMA ?")


def test_a_fragment_naming_a_service_no_fiche_covers_says_what_they_cover(store: Store) -> None:
    clock = Clock()
    ctx = _context(store, clock, chat_id="9", user_id="9")
    _text(ctx, "How do I self-trigger the fallback procedure for Delta X?")
    text = _text(ctx, "and what about NCTS?")
    assert "do not cover NCTS" in text and "09 702 80 100" in text
