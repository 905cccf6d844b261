"""``run``: the long-running process (poller, outbox sender, chat bots, web server); see ``bot.service``."""

from __future__ import annotations

import argparse
import asyncio

from bot.bootstrap import bootstrap
from bot.commands import summary
from bot.service import install_signal_handlers, preflight, serve
from bot.settings import Settings, load_settings
from relays.logs import configure_logging


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help=summary("run"))
    p.set_defaults(func=run)


async def _main(settings: Settings) -> None:
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await serve(bootstrap(settings), stop)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    preflight(settings, bind=True)  # before anything is opened or written
    asyncio.run(_main(settings))
    return 0
