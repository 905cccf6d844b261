"""The commands of ``prodouane-relay``, one module each, imported only when that command runs.

:data:`COMMANDS` is what the dispatcher (:mod:`bot.cli`) knows without importing any of them:
each command's module and the one line ``--help`` shows for it, in the order it lists them. A
command module exposes ``register(subparsers)``, which adds its sub-parser (with that line as its
help) and sets ``func`` (``(args) -> int``); it imports what it needs at the top.
"""

from __future__ import annotations

import math

from relays.errors import UsageError

#: name → (module, one-line help), in the order ``--help`` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "poll": ("bot.commands.poll", "fetch the météo page and print the parsed snapshot"),
    "replay": (
        "bot.commands.replay",
        "feed pages (files or URLs) through the lifecycle and print the events",
    ),
    "demo": ("bot.commands.demo", "poll the bundled sample scenario on 127.0.0.1 and print each event"),
    "ask": ("bot.commands.ask", "answer a question from the DGDDI fiches"),
    "subscribers": ("bot.commands.subscribers", "add, list, remove, test subscribers; new webhook secret"),
    "audit": (
        "bot.commands.audit",
        "per alert, which subscribers were told of the start and the end, and when",
    ),
    "invite": ("bot.commands.invite", "create a single-use invite code for a client's chat"),
    "run": ("bot.commands.run", "run everything: poller, sender, Telegram and Slack bots, web server"),
    "db": ("bot.commands.db", "database maintenance"),
    "config": ("bot.commands.config", "configuration"),
}


def summary(name: str) -> str:
    """The one line ``--help`` shows for command ``name``."""
    return COMMANDS[name][1]


def seconds(value: float | None, option: str, *, most: float = 86400.0) -> float | None:
    """``value`` (an option's seconds) when it is a finite number above 0 and at most ``most``;
    None stays None. Anything else is a :class:`UsageError` naming ``option``."""
    if value is None:
        return None
    if not math.isfinite(value) or not 0 < value <= most:
        raise UsageError(f"{option} must be positive and finite, at most {most:g} seconds (not {value:g})")
    return value
