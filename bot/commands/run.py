"""``run``: the long-running process (poller, outbox sender, chat bots, web server)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from contextlib import AsyncExitStack
from urllib.parse import urlparse

from bot.service import Part, Service
from bot.settings import Settings
from relays.errors import UsageError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run everything: poller, sender, Telegram and Slack bots, web server")
    p.set_defaults(func=run)


async def telegram_part(service: Service, stack: AsyncExitStack) -> None:
    """The Telegram bot: long polling by default, or a webhook with its secret token."""
    from bot import telegram_app

    settings = service.settings
    channels = service.sender.channels if service.sender else None
    app = telegram_app.build_telegram_application(settings, service.store, channels=channels)
    if settings.telegram_mode == "webhook":
        if not settings.telegram_webhook_url or not settings.web_enabled:
            raise UsageError(
                "telegram_mode=webhook needs PRODOUANE_RELAY_TELEGRAM_WEBHOOK_URL and the web server"
            )
        path = urlparse(settings.telegram_webhook_url).path or "/telegram"
        try:
            service.posts.append((path, telegram_app.webhook_handler(app, settings)))
        except ValueError as exc:  # no usable secret token: refuse to start an open webhook
            raise UsageError(str(exc)) from exc

        async def register_webhook() -> None:
            await telegram_app.start_webhook(app, settings)

        service.after_web.append(register_webhook)
    else:
        await telegram_app.start_polling(app)
    stack.push_async_callback(telegram_app.stop, app)
    log.warning("Telegram bot started (%s)", settings.telegram_mode)


async def slack_part(service: Service, stack: AsyncExitStack) -> None:
    """The Slack app: Socket Mode by default (needs the app token), or HTTP events."""
    from bot import slack_app

    settings = service.settings
    channels = service.sender.channels if service.sender else None
    if settings.slack_mode == "socket":
        if settings.slack_app_token is None:
            raise UsageError("slack_mode=socket needs PRODOUANE_RELAY_SLACK_APP_TOKEN (xapp-…)")
        app = slack_app.build_slack_app(settings, service.store, channels=channels, socket_mode=True)
        handler = await slack_app.start_socket_mode(app, settings)
        stack.push_async_callback(handler.close_async)
    else:
        if settings.slack_signing_secret is None or not settings.web_enabled:
            raise UsageError("slack_mode=http needs PRODOUANE_RELAY_SLACK_SIGNING_SECRET and the web server")
        app = slack_app.build_slack_app(settings, service.store, channels=channels)
        service.posts.append(("/slack/events", slack_app.http_handler(app)))
    log.warning("Slack app started (%s)", settings.slack_mode)


def resilient(part: Part) -> Part:
    """Start ``part``; if the platform is unreachable now, keep relaying and retry in the background.

    A configuration error (``UsageError``) still stops the process: it will not fix itself.
    """

    async def start(service: Service, stack: AsyncExitStack) -> None:
        try:
            await part(service, stack)
            return
        except UsageError:
            raise
        except Exception:
            log.exception("%s could not start; relaying goes on, retrying in the background", part.__name__)

        async def retry() -> None:
            delay = 5.0
            while True:
                await asyncio.sleep(delay)
                try:
                    await part(service, stack)
                    return
                except UsageError:
                    log.exception("%s: configuration error, giving up", part.__name__)
                    return
                except Exception:
                    log.exception("%s still cannot start", part.__name__)
                    delay = min(delay * 2, 300.0)

        service.tasks.append(asyncio.create_task(retry(), name=f"retry-{part.__name__}"))

    start.__name__ = part.__name__
    return start


def parts(settings: Settings) -> list[Part]:
    """The optional front-ends, each started only when configured (a token and a mode not off)."""
    chosen: list[Part] = []
    if settings.telegram_bot_token is not None and settings.telegram_mode != "off":
        chosen.append(resilient(telegram_part))
    if settings.slack_bot_token is not None and settings.slack_mode != "off":
        chosen.append(resilient(slack_part))
    return chosen


async def _main() -> None:
    from bot.service import install_signal_handlers, serve
    from bot.settings import load_settings
    from relays.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    stop = asyncio.Event()
    install_signal_handlers(stop)
    await serve(settings, stop, parts=parts(settings))


def run(args: argparse.Namespace) -> int:
    asyncio.run(_main())
    return 0
