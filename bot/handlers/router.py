"""The command table and the router: one message (or button press) in, one reply (or silence) out.

Every command has an English name and French aliases (``/aide`` = ``/help``, ``/etat`` =
``/status``…); ``help`` lists them in the user's language. Plain text in a private chat, or when
the bot is addressed in a group, goes to the answer engine. Refusals — a
:class:`~relays.errors.UsageError`, worded for the chat when it is a
:class:`~bot.handlers.common.UserError` — become a polite reply here; anything else propagates to
the platform's single error handler, which logs it and apologises without a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.exc import SQLAlchemyError

from relays.errors import StoreError, UsageError
from relays.subscribers import LANGS, find_by_address

from . import admin, ask, da, enrolment, selftrigger, status
from .common import UserError, clean, fold_word
from .replies import Context, Reply, Span, b, reply

log = logging.getLogger(__name__)

Handler = Callable[[Context, str], Reply]
OTHER_BOT = "@other"


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    func: Handler
    aliases: tuple[str, ...]
    fr: str
    en: str
    usage: str = ""
    admin: bool = False
    confidential: bool = False  # its answer or its effect is for the admin alone: never run in a group


def _selftrigger(ctx: Context, args: str) -> Reply:
    return selftrigger.start(ctx, args)


def _help(ctx: Context, args: str) -> Reply:
    return help_reply(ctx, args)


COMMANDS: tuple[Command, ...] = (
    Command(
        "start",
        enrolment.start,
        ("demarrer",),
        "abonner cette discussion avec un code d'invitation",
        "enrol this chat with an invite code",
        "CODE",
    ),
    Command("help", _help, ("aide",), "cette aide", "this help"),
    Command(
        "status",
        status.status,
        ("etat", "statut", "meteo"),
        "alertes en cours, derniers BIP, interruptions programmées",
        "open alerts, latest bulletins, planned interruptions",
    ),
    Command(
        "ask",
        ask.ask,
        ("question", "q"),
        "poser une question sur les procédures (réponse citée)",
        "ask about the procedures (cited answer)",
        "QUESTION",
    ),
    Command(
        "selftrigger",
        _selftrigger,
        ("autodeclenchement", "auto"),
        "puis-je auto-déclencher la procédure de secours ? (vérification guidée, fiche 1)",
        "may I self-trigger the fallback procedure? (guided check, fiche 1)",
        "[TÉLÉSERVICE] [EDI|DTI]",
    ),
    Command(
        "da",
        da.da,
        ("demande",),
        "rédiger la demande d'assistance (DA) pour OLGA",
        "draft the assistance request (DA) for OLGA",
        "[TÉLÉSERVICE] [JJ/MM/AAAA] [HH:MM] [raisons]",
    ),
    Command(
        "deadline",
        status.deadline,
        ("delai", "reintegration"),
        "délai de réintégration après la fin d'alerte (fiche 4)",
        "reintegration deadline after the end of alert (fiche 4)",
        "[JJ/MM/AAAA] [HH:MM]",
    ),
    Command(
        "subscribe",
        enrolment.subscribe,
        ("abonner", "sabonner"),
        "choisir téléservices, modes et messages",
        "pick téléservices, modes and messages",
        "[TÉLÉSERVICE…] [EDI|DTI] [alertes|bip|fin|interruptions|tout]",
    ),
    Command(
        "unsubscribe",
        enrolment.unsubscribe,
        ("desabonner", "sedesabonner", "stop"),
        "ne plus recevoir certains messages, ou aucun",
        "stop some messages, or all",
        "[TÉLÉSERVICE…|tout]",
    ),
    Command(
        "settings", enrolment.settings, ("reglages", "parametres"), "voir vos réglages", "show your settings"
    ),
    Command(
        "lang", enrolment.lang, ("langue", "language"), "langue des messages", "message language", "fr|en"
    ),
    Command(
        "broadcast",
        admin.broadcast,
        ("diffuser",),
        "message à tous les abonnés actifs",
        "message to all active subscribers",
        "MESSAGE",
        admin=True,
    ),
    Command(
        "subscribers",
        admin.subscribers,
        ("abonnes",),
        "liste des abonnés",
        "list subscribers",
        admin=True,
        confidential=True,
    ),
    Command(
        "audit",
        admin.audit_cmd,
        (),
        "qui a été informé de chaque alerte, et quand (fiche 9)",
        "who was told of each alert, and when (fiche 9)",
        "[ALERTE]",
        admin=True,
        confidential=True,
    ),
    Command(
        "invite",
        admin.invite,
        ("inviter",),
        "créer un code d'invitation pour un client",
        "create an invite code for a client",
        "CLIENT [eori=…] [company=…] [address=…] [phone=…]",
        admin=True,
        confidential=True,
    ),
    Command(
        "pause",
        admin.pause,
        (),
        "suspendre un abonné",
        "pause a subscriber",
        "ID",
        admin=True,
        confidential=True,
    ),
    Command(
        "resume",
        admin.resume,
        ("reprendre",),
        "reprendre un abonné",
        "resume a subscriber",
        "ID",
        admin=True,
        confidential=True,
    ),
)
BY_ALIAS: dict[str, Command] = {alias: c for c in COMMANDS for alias in (c.name, *c.aliases)}

CALLBACKS: dict[str, Handler] = {
    "sub": enrolment.on_button,
    "un": enrolment.on_unsubscribe_button,
    "lang": lambda ctx, payload: enrolment.set_lang(ctx, payload if payload in LANGS else "fr"),
    "st": selftrigger.on_button,
    "stn": selftrigger.on_offer,
    "da": da.on_button,
}

_SLASH = re.compile(r"/(?P<head>\S*)\s*(?P<rest>.*)", re.DOTALL)


def help_reply(ctx: Context, args: str = "") -> Reply:
    p = ctx.command_prefix
    short = p if p == "/" else ""  # "/aide"; on Slack "aide" rather than "/prodouane aide" again
    wanted = BY_ALIAS.get(fold_word(args.split()[0])) if args.split() else None
    if wanted is not None and (not wanted.admin or ctx.is_admin):
        aliases = ", ".join(f"{short}{a}" for a in wanted.aliases)
        return reply(
            b(f"{p}{wanted.name} {wanted.usage}".strip()),
            "\n",
            wanted.en if ctx.lang == "en" else wanted.fr,
            *([f"\n{ctx.t('Alias', 'Aliases')} : {aliases}"] if aliases else []),
        )
    parts: list[str | Span] = [
        b(ctx.t("Commandes du relais météo des téléservices", "Météo des téléservices relay commands")),
        "\n",
    ]
    for c in COMMANDS:
        if c.admin and not ctx.is_admin:
            continue
        if c.admin and not any(x.admin for x in COMMANDS[: COMMANDS.index(c)]):
            parts += ["\n", b(ctx.t("Administrateurs", "Administrators")), "\n"]
        aliases = f" ({', '.join(short + a for a in c.aliases)})" if c.aliases else ""
        usage = f" {c.usage}" if c.usage else ""
        parts += [f"{p}{c.name}{usage}{aliases} — {c.en if ctx.lang == 'en' else c.fr}", "\n"]
    parts += [
        "\n",
        ctx.t(
            "Vous pouvez aussi écrire votre question directement (en privé, ou en me mentionnant dans "
            "un groupe).",
            "You can also type your question directly (in private, or by mentioning me in a group).",
        ),
    ]
    return reply(*parts)


def resolve(ctx: Context) -> Context:
    """The chat's subscriber and the language to answer in."""
    subscriber = find_by_address(ctx.relay.store, ctx.platform, ctx.chat_id)
    hint = (ctx.lang_hint or "")[:2].lower()
    lang = subscriber.lang if subscriber else hint if hint in LANGS else "fr"
    return replace(ctx, subscriber=subscriber, lang=lang)


def parse(ctx: Context, text: str) -> tuple[str | None, str]:
    """(command alias or None for plain text, the rest); ``OTHER_BOT`` for ``/cmd@someone_else``."""
    if text.startswith("/"):
        m = _SLASH.match(text)
        head, rest = (m["head"], m["rest"]) if m else ("", "")
        name, _, target = head.partition("@")
        if target and ctx.bot_name and target.lower() != ctx.bot_name.lower():
            return OTHER_BOT, ""
        return fold_word(name), rest.strip()
    if ctx.bare_commands:
        first, _, rest = text.partition(" ")
        word = fold_word(first.split("\n")[0]).strip("?!.:,;")
        if word in BY_ALIAS and "\n" not in first:
            return word, rest.strip()
    return None, text


def _handle(ctx: Context, text: str) -> Reply | None:
    """The reply to one message, or None when the bot should stay silent."""
    text = clean(text)
    if not text:
        return None
    ctx = resolve(ctx)
    command, args = parse(ctx, text)
    if command == OTHER_BOT:
        return None
    if command is None:
        if not ctx.addressed:
            return None
        return _guard(ctx, _run(ctx, ask.ask, text))
    spec = BY_ALIAS.get(command)
    if spec is None:
        if not ctx.addressed:
            return None
        shown = command[:32] or "/"
        return reply(
            ctx.t(f"Commande inconnue : {shown}. ", f"Unknown command: {shown}. "),
            ctx.t("Envoyez ", "Send "),
            b(f"{ctx.command_prefix}help"),
            ctx.t(" pour la liste.", " for the list."),
        )
    if not text.startswith("/") and not spec.admin:
        # "délai de réintégration ?" is a question that starts like a command: a bare command word
        # whose arguments do not parse is read as a question instead.
        try:
            return _guard(ctx, spec.func(ctx, args))
        except UsageError:
            return _guard(ctx, _run(ctx, ask.ask, text))
    if spec.admin and not ctx.is_admin:
        log.warning(
            "admin command refused: %s by %s:%s in %s", spec.name, ctx.platform, ctx.user_id, ctx.chat_id
        )
        return reply(
            ctx.t(
                "Désolé, cette commande est réservée aux administrateurs du relais.",
                "Sorry, this command is reserved for the relay's administrators.",
            )
        )
    if spec.confidential and not ctx.private and not ctx.can_whisper:
        # Refused before acting: an invite made, or a subscriber paused, for an answer nobody may see.
        log.info("confidential command refused in a group: %s in %s", spec.name, ctx.chat_id)
        return _confidential(ctx)
    return _guard(ctx, _run(ctx, spec.func, args))


def _handle_callback(ctx: Context, data: str) -> Reply:
    """The reply to a button press (``data`` is the button's callback data)."""
    ctx = resolve(ctx)
    prefix, _, payload = clean(data).partition(":")
    func = CALLBACKS.get(prefix)
    if func is None:
        return reply(ctx.t("Ce bouton n'est plus valable.", "This button is no longer valid."))
    return _guard(ctx, _run(ctx, func, payload))


def _run(ctx: Context, func: Handler, args: str) -> Reply:
    try:
        return func(ctx, args)
    except UserError as exc:
        return reply("⚠️ ", exc.text(ctx.lang))
    except UsageError as exc:  # refused by the relay (a subscriber change, an invite), in its words
        return reply("⚠️ ", str(exc))


def _guard(ctx: Context, result: Reply) -> Reply:
    """A reply meant for one person is never shown to a whole group that cannot see it privately."""
    if result.ephemeral and not ctx.can_whisper and not ctx.private:
        return _confidential(ctx)
    return result


def _confidential(ctx: Context) -> Reply:
    return reply(
        ctx.t(
            "Cette réponse est confidentielle : utilisez cette commande en discussion privée avec moi.",
            "This answer is confidential: use this command in a private chat with me.",
        )
    )


async def _complete(ctx: Context, result: Reply | None) -> Reply | None:
    if result is None or not result.effects:
        return result
    parts: list[str | Span] = list(result.spans)
    ctx = resolve(ctx) if ctx.subscriber is None else ctx
    for effect in result.effects:
        sent, failed, skipped = await admin.perform(ctx, effect)
        parts += [
            "\n",
            ctx.t(
                f"Envoyé : {sent}, échecs : {failed}, canal non configuré : {skipped}.",
                f"Sent: {sent}, failed: {failed}, channel not configured: {skipped}.",
            ),
        ]
    return reply(*parts, ephemeral=result.ephemeral)


async def respond(ctx: Context, text: str) -> Reply | None:
    """:func:`handle` off the event loop (the store is synchronous), then its side effects."""
    return await _complete(ctx, await asyncio.to_thread(handle, ctx, text))


async def respond_callback(ctx: Context, data: str) -> Reply | None:
    return await _complete(ctx, await asyncio.to_thread(handle_callback, ctx, data))


def handle(ctx: Context, text: str) -> Reply | None:
    """The reply to a message (None: nothing to say), a storage fault answered in one plain line."""
    try:
        return _handle(ctx, text)
    except (StoreError, SQLAlchemyError) as exc:
        return _store_failed(ctx, exc)


def handle_callback(ctx: Context, data: str) -> Reply:
    """The reply to a button press (``data`` is the button's callback data)."""
    try:
        return _handle_callback(ctx, data)
    except (StoreError, SQLAlchemyError) as exc:
        return _store_failed(ctx, exc)


def _store_failed(ctx: Context, exc: StoreError | SQLAlchemyError) -> Reply:
    """The disk or the database failing is not a bug of ours: the store's health notes it (one log
    line per episode, no traceback; ``/readyz`` and the ``prodouane_store_up`` gauge show it), and
    the chat gets a plain line saying where to look meanwhile — never the store's address.
    Anything else is a bug and goes to the platform's error handler."""
    if not ctx.relay.store.health.note(exc, doing="answering a chat command"):
        raise exc
    return reply(
        "⚠️ ",
        ctx.t(
            "Le relais ne peut pas lire sa base pour l'instant (incident de stockage) : consultez "
            "directement la météo des services en ligne sur douane.gouv.fr.",
            "The relay cannot read its store right now (a storage fault): check the météo des services "
            "en ligne on douane.gouv.fr directly.",
        ),
    )
