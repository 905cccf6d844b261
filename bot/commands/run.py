"""``run``: the long-running process (poller, outbox sender, chat bots, web server)."""

from __future__ import annotations

import argparse
import asyncio


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run everything: poller, sender, Telegram and Slack bots, web server")
    p.set_defaults(func=run)


async def _main() -> None:
    from bot.service import install_signal_handlers, serve
    from bot.settings import load_settings

    from relays.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await serve(settings, stop, parts=_parts(settings))


def _parts(settings):  # type: ignore[no-untyped-def]
    """The optional front-ends, each started only when configured."""
    return []


def run(args: argparse.Namespace) -> int:
    asyncio.run(_main())
    return 0
