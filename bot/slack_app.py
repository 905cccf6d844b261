"""The Slack app: Bolt's ``AsyncApp`` wired thinly onto the shared handlers.

``/prodouane <command> …`` (slash command; replies only the caller sees), ``@bot <command or
question>`` in a channel (answered in the thread), direct messages (``message.im``), and the
buttons (``block_actions``). A Slack chat is identified by its channel id (``C…``, ``G…``, ``D…``
for a DM), so a channel enrols with ``/prodouane start CODE``. When the bot leaves or is removed
from a channel, that channel's subscription is deactivated.

Every HTTP request is verified by Bolt with the signing secret (``X-Slack-Signature``,
``X-Slack-Request-Timestamp``): forged or stale requests get 401. In Socket Mode the connection
itself is authenticated by the app-level token and there is no HTTP request to sign.

``run`` starts it as a :class:`SlackBot` front-end: over Socket Mode (:func:`start_socket_mode`,
no public URL), or with :func:`http_handler` mounted on the web server at ``/slack/events``
(events, commands and interactivity all point there).
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from relays import subscribers as subs
from relays.errors import ConfigError

from .handlers.markup import slack_blocks, slack_mrkdwn
from .handlers.replies import BotRelay, Context, Reply
from .handlers.router import help_reply, resolve, respond_callback
from .handlers.router import respond as route
from .settings import Settings
from .web import Route

__all__ = ["COMMAND", "SlackBot", "build_slack_app", "http_handler", "start_socket_mode"]

log = logging.getLogger(__name__)

COMMAND = "/prodouane"
APOLOGY = (
    "Désolé, une erreur est survenue ; elle a été signalée. / Sorry, something went wrong; it has been "
    "logged."
)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<[!#][^>]*>")
Say = Callable[..., Awaitable[Any]]


def incoming(text: str) -> str:
    """Slack's escaped message text as the user typed it: mentions dropped, links as their label."""
    text = _MENTION.sub(" ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub(" ", text)
    return html.unescape(text)


def _context(relay: BotRelay, channel: str, user: str, *, private: bool) -> Context:
    return Context(
        relay=relay,
        platform="slack",
        chat_id=channel,
        user_id=user,
        chat_type="private" if private else "group",
        addressed=True,
        can_whisper=True,
        bare_commands=True,
        command_prefix=f"{COMMAND} ",
    )


def _payload(reply: Reply) -> dict[str, Any]:
    return {"text": slack_mrkdwn(reply), "blocks": slack_blocks(reply)}


def build_slack_app(
    bots: BotRelay,
    settings: Settings,
    *,
    client: AsyncWebClient | None = None,
    socket_mode: bool = False,
    process_before_response: bool = False,
) -> AsyncApp:
    """The Slack app over the bots' relay (``bootstrap(…).bots``), configured but not started.

    HTTP mode needs ``slack_signing_secret`` (requests are verified; keep it that way); Socket
    Mode does not use it. ``client`` defaults to an ``AsyncWebClient`` on ``slack_api_url``.
    """
    if settings.slack_bot_token is None:
        raise ConfigError("the Slack app needs PRODOUANE_RELAY_SLACK_BOT_TOKEN")
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    if not socket_mode and not secret:
        raise ConfigError("Slack HTTP mode needs PRODOUANE_RELAY_SLACK_SIGNING_SECRET")
    client = client or AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    app = AsyncApp(
        client=client,
        signing_secret=secret or "",
        request_verification_enabled=not socket_mode,
        process_before_response=process_before_response,
    )

    @app.command(re.compile(rf"^({re.escape(COMMAND)}|/relay)$"))
    async def on_command(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], respond: Callable[..., Awaitable[Any]]
    ) -> None:
        """``/prodouane status``, ``/prodouane ask …``: acknowledged at once, answered to the caller."""
        await ack()
        channel, user = str(body.get("channel_id") or ""), str(body.get("user_id") or "")
        ctx = _context(bots, channel, user, private=channel.startswith("D"))
        text = (body.get("text") or "").strip()
        try:
            result = await route(ctx, text) if text else help_reply(resolve(ctx))
        except Exception as exc:  # noqa: BLE001 - answered here: Bolt drops errors raised after ack()
            log.error("slack command failed: %r", exc, exc_info=exc)
            await respond(text=APOLOGY, response_type="ephemeral", replace_original=False)
            return
        if result is not None:
            await respond(response_type="ephemeral", **_payload(result))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: Say, client: AsyncWebClient) -> None:
        """``@bot status`` or ``@bot a question``: answered in the thread (or privately when confidential)."""
        channel, user = str(event.get("channel") or ""), str(event.get("user") or "")
        if not channel or not user:
            return
        ctx = _context(bots, channel, user, private=channel.startswith("D"))
        result = await route(ctx, incoming(str(event.get("text") or "")))
        if result is None:
            result = help_reply(resolve(ctx))
        if result.ephemeral:
            await client.chat_postEphemeral(channel=channel, user=user, **_payload(result))
        else:
            await say(thread_ts=event.get("thread_ts") or event.get("ts"), **_payload(result))

    @app.event("message")
    async def on_message(event: dict[str, Any], say: Say) -> None:
        """Direct messages: commands without a slash, or questions. Edits, bots and channels are ignored."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        channel, user = str(event.get("channel") or ""), str(event.get("user") or "")
        if not channel or not user:
            return
        result = await route(
            _context(bots, channel, user, private=True), incoming(str(event.get("text") or ""))
        )
        if result is not None:
            await say(**_payload(result))

    @app.action(re.compile(r"^relay_btn_"))
    async def on_button(
        ack: Callable[[], Awaitable[None]], body: dict[str, Any], respond: Callable[..., Awaitable[Any]]
    ) -> None:
        """A button: acknowledged at once; the message is replaced, or a new one is posted."""
        await ack()
        actions = body.get("actions") or [{}]
        data = str(actions[0].get("value") or "")
        channel = str(
            (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
        )
        user = str((body.get("user") or {}).get("id") or "")
        if not data or not channel or not user:
            return
        result = await respond_callback(_context(bots, channel, user, private=channel.startswith("D")), data)
        if result is not None:
            await respond(replace_original=result.edit, **_payload(result))

    @app.event("channel_left")
    @app.event("group_left")
    async def on_left(event: dict[str, Any]) -> None:
        """The bot was removed from a channel: stop writing to it."""
        channel = str(event.get("channel") or "")
        reason = "the app was removed from the channel"
        subscriber = subs.deactivate(bots.store, "slack", channel, reason) if channel else None
        if subscriber is not None:
            log.warning("slack channel %s removed the app: subscriber %s deactivated", channel, subscriber.id)

    @app.error
    async def on_error(
        error: Exception, body: dict[str, Any], respond: Callable[..., Awaitable[Any]] | None = None
    ) -> None:
        """Log first; then a short apology to the user when Slack gave us a way to answer."""
        log.error("slack request failed: %r", error, exc_info=error)
        if isinstance(error, SlackApiError) or respond is None or not body.get("response_url"):
            return
        with contextlib.suppress(Exception):
            await respond(text=APOLOGY, response_type="ephemeral", replace_original=False)

    return app


def http_handler(app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for Slack's HTTP requests (events, slash commands, interactivity).

    Bolt verifies the signature and the timestamp of each request (401 otherwise).
    """

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    return handle


async def start_socket_mode(app: AsyncApp, settings: Settings) -> AsyncSocketModeHandler:
    """Connect over Socket Mode (needs ``slack_app_token``, ``xapp-…``); close with ``close_async()``."""
    if settings.slack_app_token is None:
        raise ConfigError("Slack Socket Mode needs PRODOUANE_RELAY_SLACK_APP_TOKEN (xapp-…)")
    handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
    await handler.connect_async()  # type: ignore[no-untyped-call]
    return handler


def check_settings(settings: Settings) -> None:
    """What the Slack front-end refuses before anything starts (``run``, ``config check``)."""
    if settings.slack_mode == "socket" and settings.slack_app_token is None:
        raise ConfigError("slack_mode=socket needs PRODOUANE_RELAY_SLACK_APP_TOKEN (xapp-…)")
    if settings.slack_mode == "http" and (settings.slack_signing_secret is None or not settings.web_enabled):
        raise ConfigError("slack_mode=http needs PRODOUANE_RELAY_SLACK_SIGNING_SECRET and the web server")


class SlackBot:
    """The Slack front-end of ``run``: Socket Mode by default (needs the app token), or HTTP events.

    Building it checks the configuration (:class:`~relays.errors.ConfigError`); :meth:`start`
    connects in Socket Mode (in HTTP mode Slack calls the route it adds to the web server).
    """

    name = "slack"

    def __init__(self, bots: BotRelay, settings: Settings) -> None:
        check_settings(settings)
        self.settings = settings
        self.routes: list[Route] = []
        self._socket: AsyncSocketModeHandler | None = None
        if settings.slack_mode == "socket":
            self.app = build_slack_app(bots, settings, socket_mode=True)
        else:
            self.app = build_slack_app(bots, settings)
            self.routes.append(("/slack/events", http_handler(self.app)))

    async def start(self) -> None:
        if self.settings.slack_mode == "socket":
            self._socket = await start_socket_mode(self.app, self.settings)
        log.warning("Slack app started (%s)", self.settings.slack_mode)

    async def aclose(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
