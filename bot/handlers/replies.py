"""The platform-neutral vocabulary of the chat bots: who is talking (Context), what we answer (Reply).

Handlers never write Telegram HTML or Slack mrkdwn. A reply is a sequence of :class:`Span` — a
piece of text and its style (plain, bold, italic, code, pre) — plus rows of :class:`Button` whose
``data`` is opaque callback data (at most 64 bytes, Telegram's limit), so every piece of text a
user typed or a page published stays text: each platform's renderer (:mod:`bot.handlers.markup`)
escapes every span for its markup. A reply may also carry side effects (a broadcast) that
:func:`bot.handlers.router.respond` performs through the relay's channels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from relays.channels.base import Channel
from relays.store import Store
from relays.subscribers import Subscriber

__all__ = [
    "BotRelay",
    "Broadcast",
    "Button",
    "Context",
    "Reply",
    "Span",
    "Style",
    "b",
    "code",
    "i",
    "pre",
    "reply",
]

Style = Literal["plain", "bold", "italic", "code", "pre"]
CALLBACK_MAX_BYTES = 64


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    style: Style = "plain"


def b(text: str) -> Span:
    return Span(text, "bold")


def i(text: str) -> Span:
    return Span(text, "italic")


def code(text: str) -> Span:
    return Span(text, "code")


def pre(text: str) -> Span:
    return Span(text, "pre")


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str

    def __post_init__(self) -> None:
        if not self.label or not self.data or len(self.data.encode()) > CALLBACK_MAX_BYTES:
            raise ValueError(f"bad button {self.label!r} / {self.data!r}")


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send ``text`` to every active, unpaused subscriber (performed by ``respond``)."""

    text: str
    by: str


@dataclass(frozen=True, slots=True)
class Reply:
    spans: tuple[Span, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    ephemeral: bool = False  # only the asking user should see it (Slack); private chats only elsewhere
    edit: bool = False  # replaces the message whose button was pressed
    effects: tuple[Broadcast, ...] = ()

    @property
    def text(self) -> str:
        """The reply as plain text (transcripts, tests, notification previews)."""
        return "".join(s.text for s in self.spans)

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("empty reply")


def reply(
    *parts: str | Span,
    buttons: list[list[Button]] | None = None,
    ephemeral: bool = False,
    edit: bool = False,
    effects: tuple[Broadcast, ...] = (),
) -> Reply:
    """A reply from strings (plain) and spans, joined as given (write "\\n" where lines break)."""
    spans = tuple(
        p if isinstance(p, Span) else Span(p) for p in parts if (p.text if isinstance(p, Span) else p)
    )
    rows = tuple(tuple(row) for row in (buttons or []) if row)
    return Reply(spans, rows, ephemeral=ephemeral, edit=edit, effects=effects)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BotRelay:
    """What the handlers work with: the relay's store, the admins, the channels, a clock.

    Built by :func:`bot.bootstrap.bootstrap` (``relay.bots``); the handlers read the store through
    :mod:`relays.queries` and change it through :mod:`relays.subscribers` and :mod:`relays.invites`.
    """

    store: Store
    admins: frozenset[str] = frozenset()
    channels: Mapping[str, Channel] = field(default_factory=dict)
    clock: Callable[[], datetime] = _now


@dataclass(frozen=True, slots=True)
class Context:
    """One incoming message or button press, described the same way for every platform."""

    relay: BotRelay
    platform: str  # "telegram" | "slack"
    chat_id: str
    user_id: str
    chat_type: str = "private"  # "private" | "group"
    addressed: bool = True  # a command, a mention, a reply to the bot, or any private message
    lang_hint: str | None = None  # the user's interface language when the platform tells it
    can_whisper: bool = False  # ephemeral replies are possible in groups (Slack)
    bare_commands: bool = False  # "status" without a slash is a command (Slack mentions and DMs)
    bot_name: str | None = None  # the bot's username, for deep links
    command_prefix: str = "/"  # how commands are typed here ("/", or "/prodouane " on Slack)
    # Filled in by the router:
    lang: str = "fr"
    subscriber: Subscriber | None = None

    @property
    def is_admin(self) -> bool:
        return f"{self.platform}:{self.user_id}" in self.relay.admins

    @property
    def private(self) -> bool:
        return self.chat_type == "private"

    def t(self, fr: str, en: str) -> str:
        return en if self.lang == "en" else fr
