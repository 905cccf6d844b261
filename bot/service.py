"""``run``: one asyncio process with the poller, the outbox sender, the chat bots and the web server.

:func:`serve` starts the parts of a :class:`~bot.bootstrap.Relay`, each enabled by configuration
(with no chat token the process still polls and delivers to the console and Apprise
subscribers), in this order: the poll job (polling first: a chat platform that is down must not
delay it) and the sender, then the web server with the routes the front-ends need, then the
front-ends themselves — one that cannot reach its platform now is retried in the background while
relaying goes on. A configuration error stops the process before anything starts.

Several instances may share one PostgreSQL database: only the leader polls (see
``relays.leader``), every instance sends (the outbox is claimed with ``SKIP LOCKED``).
SIGTERM/SIGINT stop it gracefully, in reverse order: the web server lets requests finish, the
front-ends stop, the scheduler stops, the sender finishes the message on the wire and hands back
what it had claimed but not sent, the leader steps down, the store closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any, Protocol

from relays import queries
from relays.errors import ConfigError
from relays.logs import register_secrets
from relays.scheduler import add_poll_job, build_scheduler

from .bootstrap import Relay
from .settings import Settings
from .web import Route, build_web_app, start_web, stop_web

log = logging.getLogger(__name__)

RETRY_FIRST, RETRY_MAX = 5.0, 300.0  # seconds between attempts to start a front-end


class Frontend(Protocol):
    """A chat front-end: its webhook routes, then ``start()`` once the web server listens, ``aclose()``."""

    name: str

    @property
    def routes(self) -> Sequence[Route]:
        """POST routes the web server must serve for this front-end (its webhook), if any."""
        ...

    async def start(self) -> None:
        """Connect (long polling, Socket Mode) or register the webhook."""
        ...

    async def aclose(self) -> None: ...


def frontends(relay: Relay) -> list[Frontend]:
    """The chat front-ends the settings enable (a token, and a mode that is not off), over the bots'
    relay. Building them checks their configuration (:class:`~relays.errors.ConfigError`); nothing
    connects until ``start()``. A platform's library is imported only when it is enabled.
    """
    settings = relay.settings
    chosen: list[Frontend] = []
    if settings.telegram_bot_token is not None and settings.telegram_mode != "off":
        from .telegram_app import TelegramBot

        chosen.append(TelegramBot(relay.bots, settings, pacer=relay.telegram_pacer))  # one pacer per token
    if settings.slack_bot_token is not None and settings.slack_mode != "off":
        from .slack_app import SlackBot

        chosen.append(SlackBot(relay.bots, settings))
    return chosen


async def serve(relay: Relay, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set, then stop everything in reverse order."""
    settings = relay.settings
    tasks: list[asyncio.Task[Any]] = []
    async with AsyncExitStack() as stack:
        stack.push_async_callback(relay.aclose)
        chosen = frontends(relay)  # a configuration error stops here, before anything starts
        # invite codes and subscribers' address secrets, from before this process started: no log shows them
        register_secrets(await asyncio.to_thread(queries.secrets, relay.store))
        for frontend in chosen:
            stack.push_async_callback(frontend.aclose)
        if settings.web_enabled:  # first: a port in use stops the process before anything is polled
            routes = [route for frontend in chosen for route in frontend.routes]
            runner = await start_web(
                build_web_app(relay, routes=routes), settings.web_host, settings.web_port
            )
            stack.push_async_callback(stop_web, runner)
            host, port = runner.addresses[0][:2]
            log.warning("web server on http://%s:%s (status page, /healthz, /readyz, /metrics)", host, port)
        scheduler = build_scheduler()
        if settings.poller_enabled:
            add_poll_job(
                scheduler,
                poll_job(relay),
                interval=settings.poll_interval_calm,
                jitter=settings.poll_jitter,
                due=relay.poller.until_due,
            )
        if settings.sender_enabled:
            tasks.append(asyncio.create_task(relay.sender.run_forever(stop=stop), name="sender"))
            if relay.store.engine.dialect.name == "postgresql":  # woken by the other instances' polls
                from relays.wakeup import listen

                tasks.append(
                    asyncio.create_task(listen(relay.store.engine.url, relay.sender.wake), name="listen")
                )
        scheduler.start()
        stack.callback(scheduler.shutdown, wait=False)
        for frontend in chosen:
            await _start(frontend, tasks)
        log.warning(
            "prodouane-relay running as %s (poller %s, sender %s)",
            relay.instance,
            "on" if settings.poller_enabled else "off",
            "on" if settings.sender_enabled else "off",
        )
        await stop.wait()
        log.warning("stopping: finishing the message on the wire, handing back the rest")
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def preflight(settings: Settings, *, bind: bool = False) -> None:
    """Refuse, before anything starts or connects, what ``run`` cannot run with (``config check``
    calls it too): the chat front-ends' configuration, a web host that does not resolve, a status
    page served beyond this machine without ``STATUS_TOKEN`` (unless ``STATUS_PUBLIC`` says it is
    meant), and with ``bind`` a web port already in use. Raises :class:`ConfigError`.
    """
    if settings.telegram_bot_token is not None and settings.telegram_mode != "off":
        from .telegram_app import check_settings

        check_settings(settings)
    if settings.slack_bot_token is not None and settings.slack_mode != "off":
        from .slack_app import check_settings as check_slack

        check_slack(settings)
    if not settings.web_enabled:
        return
    host, port = settings.web_host, settings.web_port
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f"PRODOUANE_RELAY_WEB_HOST={host} cannot be resolved ({getattr(exc, 'strerror', None) or exc})",
            reason="web_host",
        ) from exc
    beyond = [sockaddr[0] for *_, sockaddr in found if not _loopback(str(sockaddr[0]))]
    if beyond and settings.status_token is None and not settings.status_public:
        where = host if beyond[0] == host else f"{host} ({beyond[0]})"
        raise ConfigError(
            f"the status page (client names, chat ids) would be served on {where}, beyond "
            "this machine, without a token: set PRODOUANE_RELAY_STATUS_TOKEN, or "
            "PRODOUANE_RELAY_STATUS_PUBLIC=true if it is meant to be open",
            reason="status_exposed",
        )
    if bind and port:
        for family, kind, proto, _, sockaddr in found:
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                try:
                    sock.bind(sockaddr)
                except OSError as exc:
                    raise ConfigError(
                        f"cannot listen on {host}:{port} (PRODOUANE_RELAY_WEB_HOST/WEB_PORT): "
                        f"{exc.strerror or exc}",
                        reason="web_port",
                    ) from exc


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def poll_job(relay: Relay) -> Callable[[], Awaitable[None]]:
    """The scheduled poll: only the instance that leads polls; it logs the events it recorded and
    wakes this instance's sender at once (the others hear of them by NOTIFY on PostgreSQL)."""
    leadership, poller = relay.leadership, relay.poller
    sender = relay.sender if relay.settings.sender_enabled else None

    async def job() -> None:
        if await asyncio.to_thread(leadership.acquire):
            result = await poller.tick()
            if result is not None and result.events and sender is not None:
                sender.wake()
            if result is not None and result.events:
                log.info(
                    "poll recorded %d event(s)",
                    len(result.events),
                    extra={"event_ids": [e.id for e in result.events]},
                )

    return job


async def _start(frontend: Frontend, tasks: list[asyncio.Task[Any]]) -> None:
    """Start ``frontend``; if its platform is unreachable now, keep relaying and retry in the background.

    A configuration error still stops the process: it will not fix itself.
    """
    try:
        await frontend.start()
        return
    except ConfigError:
        raise
    except Exception:
        log.exception("%s could not start; relaying goes on, retrying in the background", frontend.name)

    async def retry() -> None:
        delay = RETRY_FIRST
        while True:
            await asyncio.sleep(delay)
            try:
                await frontend.start()
                return
            except ConfigError:
                log.exception("%s: configuration error, giving up", frontend.name)
                return
            except Exception:
                log.exception("%s still cannot start", frontend.name)
                delay = min(delay * 2, RETRY_MAX)

    tasks.append(asyncio.create_task(retry(), name=f"retry-{frontend.name}"))


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
