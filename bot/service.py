"""``run``: one asyncio process with the poller, the outbox sender, the chat bots and the web server.

Every part is enabled by configuration; with no chat token the process still polls and delivers to
the console and Apprise subscribers. Several instances may share one PostgreSQL database: only the
leader polls (see ``relays.leader``), every instance sends (the outbox is claimed with
``SKIP LOCKED``). SIGTERM/SIGINT stop it gracefully: the scheduler stops, the sender finishes the
message on the wire and hands back what it had claimed but not sent, the leader steps down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from relays.fanout import enqueue_hook
from relays.fetch import Fetcher
from relays.leader import Leadership
from relays.metrics import Metrics
from relays.poller import Poller
from relays.scheduler import add_poll_job, build_scheduler
from relays.sender import Sender
from relays.store import Store

from .bootstrap import build_channels, open_store, rules
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Service:
    """What ``run`` started, for the parts (web, bots) that need to look at it."""

    settings: Settings
    store: Store
    instance: str
    poller: Poller | None = None
    sender: Sender | None = None
    leadership: Leadership | None = None
    metrics: Metrics | None = None
    web_url: str | None = None
    #: POST routes the parts add to the web server (Telegram webhook, Slack HTTP events).
    posts: list[tuple[str, Callable[[Any], Awaitable[Any]]]] = field(default_factory=list)
    #: Coroutines to run once the web server listens (e.g. telling Telegram the webhook URL).
    after_web: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


#: Extra parts started after the core (chat bots, web server), each given the service and the
#: exit stack that will stop it. Registered by ``bot.commands.run`` so this module stays small.
Part = Callable[[Service, AsyncExitStack], Awaitable[None]]


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    parts: list[Part] | None = None,
    ready: Callable[[Service], None] | None = None,
) -> None:
    instance = settings.instance_id or f"{socket.gethostname()}:{os.getpid()}"
    store = open_store(settings)
    service = Service(settings=settings, store=store, instance=instance)
    service.metrics = Metrics.create(store, source_name="meteo")
    async with AsyncExitStack() as stack:
        stack.callback(store.close)
        scheduler = build_scheduler()
        if settings.poller_enabled:
            fetcher = Fetcher(timeout=settings.http_timeout)
            stack.push_async_callback(fetcher.aclose)
            service.poller = Poller(
                store,
                fetcher,
                settings.meteo_url,
                rules=rules(settings),
                on_events=enqueue_hook(),
                interval=settings.poll_interval,
                max_backoff=settings.max_backoff,
                metrics=service.metrics,
            )
            service.leadership = Leadership(
                store, "poller", instance=instance, ttl=timedelta(seconds=settings.poll_interval * 1.5)
            )
            stack.callback(service.leadership.release)
            poller, leadership = service.poller, service.leadership

            async def poll_job() -> None:
                if await asyncio.to_thread(leadership.acquire):
                    result = await poller.tick()
                    if result is not None and result.events:
                        log.info(
                            "poll recorded %d event(s)",
                            len(result.events),
                            extra={"event_ids": [e.id for e in result.events]},
                        )

            add_poll_job(scheduler, poll_job, interval=settings.poll_interval, jitter=settings.poll_jitter)
        if settings.sender_enabled:
            channels = await build_channels(settings, stack)
            service.sender = Sender(store, channels, worker=instance, metrics=service.metrics)
            service.tasks.append(asyncio.create_task(service.sender.run_forever(stop=stop), name="sender"))
        scheduler.start()  # polling first: a chat platform that is down must not delay it
        stack.callback(scheduler.shutdown, wait=False)
        for part in parts or []:
            await part(service, stack)
        if settings.web_enabled:
            await _start_web(service, stack)
        for callback in service.after_web:
            try:
                await callback()
            except Exception:
                log.exception("a start-up step after the web server failed")
        log.warning(
            "prodouane-relay running as %s (poller %s, sender %s)",
            instance,
            "on" if settings.poller_enabled else "off",
            "on" if settings.sender_enabled else "off",
        )
        if ready is not None:
            ready(service)
        await stop.wait()
        log.warning("stopping: finishing the message on the wire, handing back the rest")
        for task in service.tasks:
            task.cancel()
        for task in service.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _start_web(service: Service, stack: AsyncExitStack) -> None:
    """/healthz, /readyz, /metrics and the status page (``bot/web.py``)."""
    from .web import build_web_app, start_web, stop_web, store_readiness

    settings = service.settings
    assert service.metrics is not None
    token = settings.status_token.get_secret_value() if settings.status_token else None
    app = build_web_app(
        service.store,
        metrics=service.metrics,
        readiness=store_readiness(service.store, "meteo"),
        status_token=token,
        poll_interval=settings.poll_interval,
        source_name="meteo",
        posts=service.posts,
    )
    runner = await start_web(app, settings.web_host, settings.web_port)
    stack.push_async_callback(stop_web, runner)
    host, port = runner.addresses[0][:2]
    service.web_url = f"http://{host}:{port}"
    log.warning("web server on %s (status page, /healthz, /readyz, /metrics)", service.web_url)


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
