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

    from bot.service import preflight
    from bot.settings import load_settings
    from relays.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    preflight(settings, bind=True)  # before anything is opened or written
    asyncio.run(_main(settings))
    return 0
