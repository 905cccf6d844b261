"""The Telegram bot: python-telegram-bot's ``Application`` wired thinly onto the shared handlers.

Each handler here only translates an update into a :class:`~bot.handlers.replies.Context`, calls
:mod:`bot.handlers.router`, and renders the reply as escaped HTML with an inline keyboard. Edited
messages, channel posts and messages for other bots are ignored; stickers and photos in a private
chat get a one-line hint; when the bot is removed from a group or blocked, that chat's
subscription is deactivated. One error handler logs first, then apologises in the chat without
any detail.

``run`` starts it as a :class:`TelegramBot` front-end: long polling (:func:`start_polling`), or
a webhook (:func:`start_webhook`, with :func:`webhook_handler` mounted on the web server: Telegram
must then send the secret token, which is checked in constant time); :func:`stop` stops it.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from relays import subscribers as subs
from relays.channels.telegram_limiter import PacerRateLimiter
from relays.errors import ConfigError
from relays.pacing import Pacer

from .handlers.markup import telegram_html
from .handlers.replies import BotRelay, Context, Reply
from .handlers.router import COMMANDS, respond, respond_callback
from .settings import Settings
from .web import Route

__all__ = [
    "TelegramBot",
    "build_telegram_application",
    "set_commands",
    "start_polling",
    "start_webhook",
    "stop",
    "webhook_handler",
]

log = logging.getLogger(__name__)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
Ctx = ContextTypes.DEFAULT_TYPE
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_FORM = re.compile(r"[A-Za-z0-9_-]{32,256}")
APOLOGY = (
    "Désolé, une erreur est survenue ; elle a été signalée. Réessayez plus tard ou envoyez /help.\n"
    "Sorry, something went wrong; it has been logged. Try again later or send /help."
)
TEXT_ONLY = (
    "Je ne lis que les messages texte : posez votre question ou envoyez /help.\n"
    "I only read text messages: type your question or send /help."
)
_PREVIEW_OFF = LinkPreviewOptions(is_disabled=True)


def _relay(context: Ctx) -> BotRelay:
    relay = context.bot_data["relay"]
    assert isinstance(relay, BotRelay)
    return relay


def _context(update: Update, context: Ctx, *, addressed: bool) -> Context | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type == ChatType.CHANNEL:
        return None
    return Context(
        relay=_relay(context),
        platform="telegram",
        chat_id=str(chat.id),
        user_id=str(user.id),
        chat_type="private" if chat.type == ChatType.PRIVATE else "group",
        addressed=addressed,
        lang_hint=user.language_code,
        bot_name=context.bot.username,
    )


def _keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label[:64], callback_data=b.data) for b in row] for row in reply.buttons]
    )


async def _send(context: Ctx, chat_id: int, reply: Reply, *, quote: Message | None = None) -> None:
    await context.bot.send_message(
        chat_id=chat_id,
        text=telegram_html(reply),
        parse_mode=ParseMode.HTML,
        reply_markup=_keyboard(reply),
        link_preview_options=_PREVIEW_OFF,
        reply_parameters=ReplyParameters(quote.message_id, allow_sending_without_reply=True)
        if quote
        else None,
    )


def _is_group(message: Message) -> bool:
    return message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def on_command(update: Update, context: Ctx) -> None:
    """A /command (ours, an alias, or unknown): the router decides."""
    message = update.message
    if message is None or not message.text:
        return
    head = message.text.split(maxsplit=1)[0]
    addressed = not _is_group(message) or head.lower().endswith(f"@{(context.bot.username or '').lower()}")
    ctx = _context(update, context, addressed=addressed)
    if ctx is None:
        return
    result = await respond(ctx, message.text)
    if result is not None:
        await _send(context, message.chat_id, result, quote=message if _is_group(message) else None)


def _addressed_text(message: Message, bot_id: int, username: str) -> tuple[bool, bool, str]:
    """(whether a group message speaks to the bot, whether it mentions it, its text without the
    mention)."""
    text = message.text or ""
    if not _is_group(message):
        return True, False, text
    replied = message.reply_to_message
    addressed = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    mentioned = False
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if (entity.type == MessageEntity.MENTION and value.lower() == f"@{username.lower()}") or (
            entity.user is not None and entity.user.id == bot_id
        ):
            mentioned = True
            text = text.replace(value, " ")
    if username:  # clients that send no entities
        mention = re.compile(rf"(?<!\w)@{re.escape(username)}\b", re.IGNORECASE)
        mentioned = mentioned or bool(mention.search(text))
        text = mention.sub(" ", text)
    addressed = addressed or mentioned
    return addressed, mentioned, " ".join(text.split()) if addressed else text


async def on_text(update: Update, context: Ctx) -> None:
    """Plain text: a question in a private chat, or when the bot is mentioned or replied to in a group."""
    message = update.message
    if message is None or not message.text:
        return
    addressed, mentioned, text = _addressed_text(message, context.bot.id, context.bot.username or "")
    if not addressed:
        return
    ctx = _context(update, context, addressed=True)
    if ctx is None:
        return
    if mentioned:  # "@bot status" runs the command, as on Slack ("@bot délai … ?" stays a question)
        ctx = replace(ctx, bare_commands=True)
    result = await respond(ctx, text)
    if result is not None:
        await _send(context, message.chat_id, result, quote=message if _is_group(message) else None)


async def on_other(update: Update, context: Ctx) -> None:
    """A sticker, photo, voice note… in a private chat: say what the bot understands."""
    if update.message is not None:
        await update.message.reply_text(TEXT_ONLY)


async def on_button(update: Update, context: Ctx) -> None:
    """A button press: answer the query at once, then edit the message (or send a new one)."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    ctx = _context(update, context, addressed=True)
    if ctx is None or not query.data:
        return
    result = await respond_callback(ctx, query.data)
    if result is None:
        return
    message = query.message
    if result.edit and isinstance(message, Message):
        try:
            await query.edit_message_text(
                telegram_html(result),
                parse_mode=ParseMode.HTML,
                reply_markup=_keyboard(result),
                link_preview_options=_PREVIEW_OFF,
            )
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("cannot edit message %s (%s): sending a new one", message.message_id, exc)
    if update.effective_chat is not None:
        await _send(context, update.effective_chat.id, result)


async def on_membership(update: Update, context: Ctx) -> None:
    """The bot was removed from a group or blocked by a user: stop writing to that chat."""
    change = update.my_chat_member
    if change is None:
        return
    if change.new_chat_member.status not in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return
    reason = f"the bot was removed from the chat ({change.new_chat_member.status})"
    subscriber = subs.deactivate(_relay(context).store, "telegram", str(change.chat.id), reason)
    if subscriber is not None:
        log.warning(
            "telegram chat %s removed the bot: subscriber %s deactivated", change.chat.id, subscriber.id
        )


async def on_error(update: object, context: Ctx) -> None:
    """Log first; then a short apology in the chat for our own bugs (not for Telegram refusing us).

    The Bot API or the network failing for a moment (a 502 from a proxy, a timeout) is one warning
    line: there is nothing in our code to look at."""
    if isinstance(context.error, (NetworkError, TimedOut, RetryAfter)):
        log.warning("telegram update not answered: the Bot API failed for a moment (%s)", context.error)
        return
    log.error("telegram update failed: %r", context.error, exc_info=context.error)
    if isinstance(context.error, TelegramError) or not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is not None:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat_id=chat.id, text=APOLOGY)


def build_telegram_application(
    bots: BotRelay, settings: Settings, *, rate_limit: bool = True, pacer: Pacer | None = None
) -> TelegramApp:
    """The bot over the bots' relay (``bootstrap(…).bots``), configured but not started.

    Nothing connects here. ``pacer``: the bot token's pacer, shared with the outbox
    (``Relay.telegram_pacer``), through which replies go first; without it, ``rate_limit`` paces
    replies on their own (python-telegram-bot's ``AIORateLimiter``). Either retries a 429 once.
    """
    if settings.telegram_bot_token is None:
        raise ConfigError("the Telegram bot needs PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .concurrent_updates(False)
    )
    if pacer is not None:
        builder = builder.rate_limiter(PacerRateLimiter(pacer, max_retries=1))
    elif rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=1))  # type: ignore[arg-type]
    app: TelegramApp = builder.build()
    app.bot_data["relay"] = bots
    fresh = filters.UpdateType.MESSAGE  # not edits, not channel posts
    names = [name for c in COMMANDS for name in (c.name, *c.aliases)]
    app.add_handler(CommandHandler(names, on_command, filters=fresh))
    app.add_handler(MessageHandler(fresh & filters.COMMAND, on_command))
    app.add_handler(MessageHandler(fresh & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(
        MessageHandler(fresh & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, on_other)
    )
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(ChatMemberHandler(on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_error_handler(on_error)
    return app


async def set_commands(app: TelegramApp) -> None:
    """The command menu users see (French by default, English for English-language clients)."""
    public = [c for c in COMMANDS if not c.admin]
    await app.bot.set_my_commands(
        [BotCommand(c.name, c.fr[:256]) for c in public], scope=BotCommandScopeDefault()
    )
    await app.bot.set_my_commands(
        [BotCommand(c.name, c.en[:256]) for c in public], scope=BotCommandScopeDefault(), language_code="en"
    )


async def start_polling(app: TelegramApp, *, commands: bool = True) -> None:
    """Long polling (no public URL needed); returns once polling runs. Stop with :func:`stop`."""
    await app.initialize()
    if commands:
        await set_commands(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(
        allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, error_callback=_polling_failed
    )


def _polling_failed(error: TelegramError) -> None:
    """getUpdates failed (a 502 from the Bot API's proxy, a network cut): python-telegram-bot retries
    by itself, with a growing pause; one warning line rather than its ERROR with a traceback."""
    log.warning("telegram: polling for updates failed (%s); retrying", error)


def _webhook_secret(settings: Settings) -> str:
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else ""
    if not _SECRET_FORM.fullmatch(secret):
        raise ConfigError(
            "webhook mode needs PRODOUANE_RELAY_TELEGRAM_WEBHOOK_SECRET: 32 to 256 of A-Z a-z 0-9 _ - "
            f"({'none is set' if not secret else f'{len(secret)} characters given'}; e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return secret


def check_settings(settings: Settings) -> None:
    """What the Telegram front-end refuses before anything starts (``run``, ``config check``)."""
    if settings.telegram_mode != "webhook":
        return
    if not settings.telegram_webhook_url or not settings.web_enabled:
        raise ConfigError(
            "telegram_mode=webhook needs PRODOUANE_RELAY_TELEGRAM_WEBHOOK_URL and the web server"
        )
    if not settings.telegram_webhook_url.startswith("https://"):
        raise ConfigError("webhook mode needs PRODOUANE_RELAY_TELEGRAM_WEBHOOK_URL (https://…)")
    _webhook_secret(settings)


async def start_webhook(app: TelegramApp, settings: Settings, *, commands: bool = True) -> None:
    """Register the webhook with Telegram (with the secret token) and start processing updates.

    The updates arrive through :func:`webhook_handler`, which ``run`` mounts on its web server at
    the path of ``telegram_webhook_url``.
    """
    secret = _webhook_secret(settings)
    url = settings.telegram_webhook_url or ""
    if not url.startswith("https://"):
        raise ConfigError("webhook mode needs PRODOUANE_RELAY_TELEGRAM_WEBHOOK_URL (https://…)")
    await app.initialize()
    if commands:
        await set_commands(app)
    await app.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
    await app.start()


def webhook_handler(app: TelegramApp, settings: Settings) -> Callable[[web.Request], Any]:
    """An aiohttp handler for Telegram's POSTs: 401 without the right secret token, else queued."""
    secret = _webhook_secret(settings).encode()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret):
            log.warning("telegram webhook call refused: bad or missing secret token from %s", request.remote)
            return web.Response(status=401, text="unauthorized")
        try:
            data = await request.json()
        except ValueError:
            return web.Response(status=400, text="bad json")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        await app.update_queue.put(Update.de_json(data, app.bot))
        return web.Response(text="ok")

    return handle


async def stop(app: TelegramApp) -> None:
    """Stop polling or webhook processing and release the HTTP clients."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()


class TelegramBot:
    """The Telegram front-end of ``run``: long polling by default, or a webhook with its secret token.

    Building it checks the configuration (:class:`~relays.errors.ConfigError`: a webhook needs its
    URL, the web server and a secret); :meth:`start` connects.
    """

    name = "telegram"

    def __init__(self, bots: BotRelay, settings: Settings, *, pacer: Pacer | None = None) -> None:
        check_settings(settings)
        self.settings = settings
        self.app = build_telegram_application(bots, settings, pacer=pacer)
        self.routes: list[Route] = []
        if settings.telegram_mode == "webhook" and settings.telegram_webhook_url:
            path = urlparse(settings.telegram_webhook_url).path or "/telegram"
            self.routes.append((path, webhook_handler(self.app, settings)))

    async def start(self) -> None:
        if self.settings.telegram_mode == "webhook":
            await start_webhook(self.app, self.settings)
        else:
            await start_polling(self.app)
        log.warning("Telegram bot started (%s)", self.settings.telegram_mode)

    async def aclose(self) -> None:
        await stop(self.app)
