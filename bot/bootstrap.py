"""The composition root: settings in, a :class:`Relay` out, with every part wired once, here.

    relay = bootstrap(settings)       # nothing is built and nothing connects yet
    relay.poller, relay.sender, …     # each part is built the first time it is asked for
    await relay.aclose()              # closes what was built here

The parts and the way data flows between them::

    fetcher ─▶ poller ─▶ store.record_poll ─(same transaction)─▶ fanout: deliveries
                         (page → snapshot → events)                   │
                                         sender ◀─── claims ──────────┘
                                           └─▶ channels (Telegram, Slack, Apprise, webhooks, console)
    store ─▶ relays.queries ─▶ web app (status page), bots (Telegram, Slack), CLI commands
    metrics ◀─ poller, sender; leadership: which instance polls

Every entry point gets its parts from here: the commands (``run``, ``demo``, ``replay``,
``poll``, ``subscribers``…), ``run``'s service (which adds the chat front-ends the settings ask
for, over :attr:`Relay.bots`), the web app; and the tests, which call :func:`bootstrap` with
fakes as overrides (a store, channels, a clock, a console stream) — cosmicpython's
``bootstrap.py`` is the model. A part's module is imported when the part is first built, so a
command pays only for what it uses: ``subscribers list`` never loads a chat library. What a
caller passes in stays the caller's to close.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TextIO

from relays.store import EventHook, Store

from .settings import Settings

if TYPE_CHECKING:
    from relays.channels.base import Channel
    from relays.fetch import Fetcher
    from relays.leader import Leadership
    from relays.lifecycle import Rules
    from relays.metrics import Metrics
    from relays.pacing import Pacer
    from relays.poller import Poller
    from relays.sender import Sender

    from .handlers.replies import BotRelay

__all__ = ["Clock", "Relay", "bootstrap"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def bootstrap(
    settings: Settings,
    *,
    store: Store | None = None,
    database_url: str | None = None,
    channels: Mapping[str, Channel] | None = None,
    console: TextIO | None = None,
    source_name: str = "meteo",
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    one_off: bool = False,
    read_only: bool = False,
    migrate: bool = False,
) -> Relay:
    """The relay these settings describe; every keyword replaces the part it names.

    ``store`` (or ``database_url``) instead of the configured database; ``channels`` instead of
    those the tokens enable; ``console``: where the console channel writes (stdout by default);
    ``source_name`` names the polled source in the store;
    ``clock`` for every part that reads the time; ``one_off``: a command beside ``run`` (``replay
    --deliver``, ``demo``), which gets a name of its own rather than this instance's;
    ``read_only``: a command that only reads opens the store without writing anything (a SQLite
    file read-only and not created, no migration), so it works on a read-only copy.
    ``migrate``: bring the store's schema to the latest (``run``); otherwise a brand-new store is
    created but one whose schema is behind is refused with one line (:mod:`relays.migrate`).
    """
    return Relay(
        settings,
        store=store,
        database_url=database_url,
        channels=channels,
        console=console,
        source_name=source_name,
        clock=clock or _now,
        metrics=metrics,
        one_off=one_off,
        read_only=read_only,
        migrate=migrate,
    )


class Relay:
    """The parts of one relay, wired by :func:`bootstrap` and built on first use."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None,
        database_url: str | None,
        channels: Mapping[str, Channel] | None,
        console: TextIO | None,
        source_name: str,
        clock: Clock,
        metrics: Metrics | None,
        one_off: bool,
        read_only: bool = False,
        migrate: bool = False,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.source_name = source_name
        host, pid = socket.gethostname(), os.getpid()
        self.instance = (
            f"{host}:{pid}:{uuid.uuid4().hex[:8]}" if one_off else settings.instance_id or f"{host}:{pid}"
        )
        self._database_url = database_url
        self._read_only = read_only
        self._migrate = migrate
        self._console = console
        given: dict[str, Any] = {"store": store, "channels": channels, "metrics": metrics}
        for name, part in given.items():
            if part is not None:
                self.__dict__[name] = dict(part) if name == "channels" else part  # the cached value
        self._given = frozenset(name for name, part in given.items() if part is not None)

    # --- the parts ------------------------------------------------------------------------------
    @cached_property
    def rules(self) -> Rules:
        """The lifecycle's thresholds (degraded after N bad polls, closed after N absent ones)."""
        from relays.lifecycle import Rules

        return Rules(
            degraded_after=self.settings.degraded_after, close_after_absent=self.settings.close_after_absent
        )

    @cached_property
    def store(self) -> Store:
        """The database: migrated to the latest schema when opened for ``run``; for any other
        command created when brand new, else used only when its schema is this version's."""
        url = self._database_url or self.settings.resolved_database_url(create=not self._read_only)
        return Store.open(
            url, schema="upgrade_apart" if self._migrate else "check", read_only=self._read_only
        )

    @cached_property
    def metrics(self) -> Metrics:
        from relays.metrics import Metrics

        return Metrics.create(self.store, source_name=self.source_name)

    @cached_property
    def fetcher(self) -> Fetcher:
        from relays.fetch import Fetcher

        return Fetcher(timeout=self.settings.http_timeout)

    @cached_property
    def poller(self) -> Poller:
        """Fetch the page(s), diff against the store, record events and their deliveries at once."""
        from relays.cadence import Cadence
        from relays.poller import Poller

        return Poller(
            self.store,
            self.fetcher,
            self.settings.meteo_url,
            source_name=self.source_name,
            rules=self.rules,
            on_events=self.fanout,
            cadence=Cadence(
                calm=self.settings.poll_interval_calm,
                active=self.settings.poll_interval_active,
                max_backoff=self.settings.max_backoff,
            ),
            clock=self.clock,
            metrics=self.metrics,
        )

    @cached_property
    def fanout(self) -> EventHook:
        """The hook that turns recorded events into deliveries, inside the recording transaction
        (and, on PostgreSQL, announces them to every instance's sender: ``relays.wakeup``)."""
        from relays.fanout import enqueue_hook
        from relays.wakeup import announcing

        return announcing(enqueue_hook(clock=self.clock))

    @cached_property
    def leadership(self) -> Leadership:
        """Whether this instance is the one that polls (several may share a PostgreSQL database)."""
        from relays.leader import Leadership

        ttl = timedelta(seconds=self.settings.poll_interval_calm * 1.5)
        return Leadership(self.store, "poller", instance=self.instance, ttl=ttl)

    @cached_property
    def telegram_pacer(self) -> Pacer:
        """Telegram's limits for this bot token, shared by everything that sends with it."""
        from relays.channels.telegram import telegram_pacer

        return telegram_pacer(self.settings.telegram_rate)

    @cached_property
    def channels(self) -> dict[str, Channel]:
        """Every channel the configuration enables (Telegram and Slack need their tokens)."""
        from relays.channels.apprise_channel import AppriseChannel
        from relays.channels.console import ConsoleChannel
        from relays.channels.webhook import WebhookChannel
        from relays.webhook_secrets import secret_for

        settings = self.settings
        channels: dict[str, Channel] = {"apprise": AppriseChannel(), "console": ConsoleChannel(self._console)}
        channels["webhook"] = WebhookChannel(
            lambda address: secret_for(self.store, address), timeout=settings.webhook_timeout
        )
        if settings.telegram_bot_token is not None:
            from relays.channels.telegram import TelegramChannel

            channels["telegram"] = TelegramChannel(
                settings.telegram_bot_token.get_secret_value(),
                base_url=settings.telegram_api_url,
                pacer=self.telegram_pacer,
            )
        if settings.slack_bot_token is not None:
            from relays.channels.slack import SlackChannel

            channels["slack"] = SlackChannel(
                settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
            )
        return channels

    @cached_property
    def sender(self) -> Sender:
        """Claims due deliveries for the channels this relay has and sends them."""
        from relays.sender import Sender

        # Claimed ahead: about two seconds of Telegram's pace, so a fan-out never stalls on a claim,
        # and a sender that dies leaves no more than that to be taken back.
        return Sender(
            self.store,
            self.channels,
            clock=self.clock,
            worker=self.instance,
            metrics=self.metrics,
            window=max(20, 2 * self.settings.telegram_rate),
        )

    @cached_property
    def bots(self) -> BotRelay:
        """What the chat handlers work with; an instance that does not deliver does not broadcast."""
        from .handlers.replies import BotRelay

        return BotRelay(
            store=self.store,
            admins=frozenset(self.settings.admins),
            channels=self.channels if self.settings.sender_enabled else {},
            clock=self.clock,
        )

    # --- closing --------------------------------------------------------------------------------
    def _built(self, name: str) -> bool:
        """Whether this relay built the part ``name`` (and so must close it)."""
        return name in self.__dict__ and name not in self._given

    async def aclose(self) -> None:
        """Close what was built here: channels, then the fetcher, then :meth:`close`."""
        if self._built("channels"):
            for channel in self.channels.values():
                await channel.aclose()
        if self._built("fetcher"):
            await self.fetcher.aclose()
        self.close()

    def close(self) -> None:
        """Step down from leadership and close the store (the parts a synchronous command uses)."""
        if "leadership" in self.__dict__:
            self.leadership.release()
        if self._built("store"):
            self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
