"""``run``: the long-running process (poller, outbox sender, chat bots, web server); see ``bot.service``.

The service, the store and the chat libraries are imported when ``run`` runs, not when the
command line is parsed (``run --help`` loads none of them). ``run`` is, with ``db upgrade``, the
one command that migrates the store's schema (:mod:`relays.migrate`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.commands import summary

if TYPE_CHECKING:
    from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help=summary("run"))
    p.set_defaults(func=run)


async def _main(settings: Settings) -> None:
    import asyncio

    from bot.bootstrap import bootstrap
    from bot.service import install_signal_handlers, serve

    stop = asyncio.Event()
    install_signal_handlers(stop)
    await serve(bootstrap(settings, migrate=True), stop)


def run(args: argparse.Namespace) -> int:
    import asyncio

    _few_malloc_arenas()

    from bot.service import preflight
    from bot.settings import load_settings
    from relays.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    preflight(settings, bind=True)  # before anything is opened or written
    asyncio.run(_main(settings))
    return 0


MALLOC_ARENAS = 2  # glibc's M_ARENA_MAX for the long-running process
_M_ARENA_MAX = -8  # mallopt's parameter number (glibc's malloc.h)


def _few_malloc_arenas() -> None:
    """Cap glibc's malloc arenas before any thread starts.

    By default every thread that allocates may get its own arena (up to eight per core), and what
    it frees stays there: the answer engine, built and run in a worker thread, left 1.3 MB of
    resident memory stranded in arenas of its own (bench/answers.py). With two arenas the
    threads share them; Python's GIL serialises the allocations anyway. Not glibc: nothing done.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
