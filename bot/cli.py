"""The ``prodouane-relay`` command line: parses arguments and hands them to one command module.

Each command lives in ``bot/commands/<name>.py`` and exposes ``register(subparsers)``, which adds
its sub-parser and sets ``func`` (``(args) -> int``) as its default. Command modules import their
heavy dependencies inside ``func`` so that ``--help`` and argument errors stay instant.
Every failure a user can cause ends as one line on stderr and a non-zero exit, never a traceback:
our errors (:mod:`relays.errors`) are translated here, exit 2 for a :class:`UsageError`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from relays.errors import RelayError, UsageError

# UsageError is named here too for the command modules that still import it from the CLI.
__all__ = ["UsageError", "build_parser", "main"]

#: Command modules under ``bot.commands``, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "poll",
    "replay",
    "demo",
    "ask",
    "subscribers",
    "audit",
    "invite",
    "run",
    "db",
    "config",
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (the usage stays in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="prodouane-relay",
        description="Relay DGDDI météo des téléservices alerts and answer questions from the fiches.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"bot.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from relays.logs import configure_logging

    # JSON lines when stderr is not a terminal, tokens redacted, httpx kept below INFO (a Telegram
    # URL carries the bot token). `run` re-applies it with the configured level.
    configure_logging(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        return int(args.func(args))
    except RelayError as exc:  # ours, translated at this edge: one line, no traceback
        print(f"prodouane-relay {args.command}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `prodouane-relay … | head`: the reader left, not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
