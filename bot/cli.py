"""The ``prodouane-relay`` command line: parses arguments and hands them to one command module.

The dispatcher knows the commands from a table (:data:`bot.commands.COMMANDS`: name → module and
one line of help) and imports only the module of the command being run, which imports what it
needs at its top; ``--help`` and argument errors import none of them, so they load no database,
HTTP or chat library. Every failure a user can cause ends as one line on stderr and a non-zero
exit, never a traceback: our errors (:mod:`relays.errors`) are translated here, exit 2 for a
:class:`UsageError`, 1 for any other; a storage fault that reached this edge untranslated (a
damaged file found mid-command) is named by :func:`relays.storage.store_fault`, a file system
error by its path; anything else is a bug, still one line (its traceback is logged with ``-v``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from bot.commands import COMMANDS
from relays.errors import RelayError, UsageError
from relays.logs import configure_logging, redact

# UsageError is named here too for the command modules that still import it from the CLI.
__all__ = ["UsageError", "build_parser", "entry", "main"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (the usage stays in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the arguments of ``command`` (the only command module imported)."""
    parser = _Parser(
        prog="prodouane-relay",
        description="Relay DGDDI météo des téléservices alerts and answer questions from the fiches.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (module, summary) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=summary)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command named in ``argv``: its first word that is not an option."""
    return next((word for word in argv if not word.startswith("-")), None)


def entry() -> NoReturn:
    """The ``prodouane-relay`` program (the console script, ``python -m bot.cli``): :func:`main`
    on the process's arguments, then exit with its code.

    The process ends there, so what the command made is left to it: the objects still alive are
    handed to :func:`gc.freeze` rather than to the collector. Otherwise the collector, given back,
    walks every object the command allocated (it was paused: :func:`_collector_paused`), and the
    interpreter's shutdown walks them all once more, for cycles nobody will use — about 0.1 s of
    a 0.46 s ``subscribers add``. Exiting still runs the ``atexit`` handlers (logging's flush),
    flushes stdout and frees every object not held in a cycle; only cyclic garbage is left to the
    operating system, as a process that exits always leaves its memory. A caller of :func:`main`
    in process (the tests) gets the collector back, nothing frozen.
    """
    sys.exit(main(exiting=True))


def main(argv: Sequence[str] | None = None, *, exiting: bool = False) -> int:
    """Run the command in ``argv`` (default: the process's arguments); its exit code.

    ``exiting``: the process ends right after (:func:`entry`).
    """
    # httpx imports its own command line (rich, pygments, click) whenever those are installed, and
    # the dev tools install them: 3 MB of `run`'s resident memory the relay never uses (the image,
    # without the dev tools, never loads them). Marked absent, httpx falls back as it was written to.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    with _collector_paused(exiting=exiting) as resume:
        return _main(list(sys.argv[1:] if argv is None else argv), resume)


def _main(argv: list[str], resume_collector: Callable[[], None]) -> int:
    args = build_parser(_command(argv)).parse_args(argv)
    if not _one_shot(args):
        resume_collector()
    # JSON lines when stderr is not a terminal, tokens redacted, httpx kept below INFO (a Telegram
    # URL carries the bot token). `run` re-applies it with the configured level.
    configure_logging(logging.DEBUG if args.verbose else logging.WARNING)
    name = " ".join(word for word in (args.command, getattr(args, "action", None)) if word)
    try:
        return int(args.func(args))
    except RelayError as exc:  # ours, translated at this edge: one line, no traceback
        return _fail(name, exc, 2 if isinstance(exc, UsageError) else 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `prodouane-relay … | head`: the reader left, not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if "sqlalchemy" in sys.modules:
            from relays.storage import store_fault

            if (fault := store_fault(exc)) is not None:
                return _fail(name, fault, 1)
        if isinstance(exc, OSError):
            where = f" ({exc.filename})" if exc.filename else ""
            return _fail(name, f"{exc.strerror or exc}{where}", 1)
        logging.getLogger("bot.cli").debug("unexpected error", exc_info=exc)
        return _fail(name, f"unexpected error {type(exc).__name__}: {exc} (run with -v for the details)", 1)


def _one_shot(args: argparse.Namespace) -> bool:
    """Whether the command handles one item and ends: ``one_shot`` in its parser's defaults, a
    flag or a test of its arguments (``ask`` with one question, not a batch)."""
    flag = getattr(args, "one_shot", False)
    return bool(flag(args) if callable(flag) else flag)


@contextmanager
def _collector_paused(*, exiting: bool = False) -> Iterator[Callable[[], None]]:
    """Python's cyclic garbage collector paused while the command line is read and, for a one-shot
    command (:func:`_one_shot`), until it ends; what it yields resumes it sooner (any other command).

    A one-shot command spends most of its life importing libraries (SQLAlchemy, pydantic, the
    answer engine): hundreds of thousands of objects that live until exit. The collector,
    triggered by allocations, walks them again and again for garbage there is not — 0.02 to 0.06 s
    of a 0.45 s ``subscribers add``. Reference counting still frees everything else at once, and
    whatever a cycle holds is given back when the process exits, a moment later. Commands that
    work on and on (``run``, ``demo``, batches) get the collector back before they start; a caller
    of :func:`main` in process (the tests) gets it back on the way out. ``exiting`` (the process
    ends next, :func:`entry`): what is alive is frozen first, so neither the collector given back
    nor the interpreter's shutdown walks it again.
    """
    was_on = gc.isenabled()
    gc.disable()

    def resume() -> None:
        if was_on:
            gc.enable()

    try:
        yield resume
    finally:
        if exiting:
            gc.freeze()
        resume()


def _fail(command: str, error: object, code: int) -> int:
    """One line on stderr, whatever the message holds, and the exit code."""
    print(f"prodouane-relay {command}: {redact(' '.join(str(error).split()))}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    entry()
