"""Administrator commands: ``broadcast``, ``subscribers``, ``audit``, ``invite``, ``pause``, ``resume``.

Who is an administrator comes from configuration only (``Settings.admins``: ``telegram:<user id>``,
``slack:<user id>``); the router refuses everyone else politely and logs it.

``broadcast`` sends directly through the relay's channels (the ones ``run`` built: Telegram,
Slack, Apprise, console) to every active, unpaused subscriber, each in its channel's markup with
the admin's text escaped. It is deliberately *not* an outbox event: the event kinds and their
rendering are the relay's public contract (``replay --json``, audit), and an announcement is
neither an alert nor a fact about one. The price: a broadcast interrupted by a crash is not
resumed — the admin sees the count of messages sent and failed, and the log has every failure.
"""

from __future__ import annotations

import asyncio
import logging

from relays import invites
from relays import subscribers as subs
from relays.audit import as_table, audit, resolve_alert
from relays.channels.base import DeliveryError, Outgoing
from relays.errors import UsageError
from relays.render import FORMATS, MARKUPS
from relays.subscribers import Subscriber

from .common import UserError, fold_word, small_int
from .replies import Broadcast, Context, Reply, Span, b, code, pre, reply

log = logging.getLogger(__name__)

MAX_BROADCAST = 3000
CONCURRENCY = 8


def broadcast(ctx: Context, args: str) -> Reply:
    text = args.strip()
    if not text:
        raise UserError("Usage : broadcast MESSAGE", "Usage: broadcast MESSAGE")
    if len(text) > MAX_BROADCAST:
        raise UserError(
            f"Message trop long ({len(text)} caractères, {MAX_BROADCAST} au plus).",
            f"Message too long ({len(text)} characters, {MAX_BROADCAST} at most).",
        )
    targets = [s for s in subs.all_subscribers(ctx.relay.store, include_inactive=False) if not s.paused]
    return reply(
        "📣 ",
        ctx.t(f"Diffusion à {len(targets)} abonné(s)…", f"Broadcasting to {len(targets)} subscriber(s)…"),
        effects=(Broadcast(text, f"{ctx.platform}:{ctx.user_id}"),),
    )


def _rendered(text: str, subscriber: Subscriber) -> Outgoing:
    fmt = FORMATS.get(subscriber.channel, "plain")
    markup = MARKUPS.get(fmt, MARKUPS["plain"])
    head = "Message de votre prestataire" if subscriber.lang == "fr" else "Message from your provider"
    return Outgoing(
        address=subscriber.address, text=f"📣 {markup.bold(head)}\n{markup.escape(text)}", format=fmt
    )


async def perform(ctx: Context, effect: Broadcast) -> tuple[int, int, int]:
    """Send the broadcast; (sent, failed, skipped because their channel is not configured here)."""
    targets = [
        s
        for s in await asyncio.to_thread(subs.all_subscribers, ctx.relay.store, include_inactive=False)
        if not s.paused
    ]
    gate = asyncio.Semaphore(CONCURRENCY)
    sent = failed = skipped = 0

    async def one(s: Subscriber) -> None:
        nonlocal sent, failed, skipped
        channel = ctx.relay.channels.get(s.channel)
        if channel is None:
            skipped += 1
            return
        async with gate:
            try:
                await channel.send(_rendered(effect.text, s))
                sent += 1
            except DeliveryError as exc:
                failed += 1
                log.warning("broadcast to subscriber %s failed: %s", s.id, exc)

    await asyncio.gather(*(one(s) for s in targets))
    log.info("broadcast by %s: %d sent, %d failed, %d skipped", effect.by, sent, failed, skipped)
    return sent, failed, skipped


def subscribers(ctx: Context, args: str) -> Reply:
    everyone = subs.all_subscribers(ctx.relay.store)
    if not everyone:
        return reply(
            ctx.t(
                "Aucun abonné. Créez une invitation : invite CLIENT",
                "No subscriber. Create an invite: invite CLIENT",
            ),
            ephemeral=True,
        )
    lines = []
    for s in everyone:
        state = "active" if s.active and not s.paused else "paused" if s.active else "inactive"
        lines.append(
            f"{s.id:>3} {s.channel:<8} {s.shown_address:<16} {s.client[:24]:<24} {state:<8} "
            f"{', '.join(s.services) or 'all'} / {'/'.join(s.modes) or 'all'} / {s.lang}"
        )
    return reply(
        b(ctx.t(f"{len(everyone)} abonné(s)", f"{len(everyone)} subscriber(s)")),
        "\n",
        pre("\n".join(lines)),
        "\n",
        ctx.t(
            "pause ID / resume ID pour suspendre ou reprendre.", "pause ID / resume ID to suspend or resume."
        ),
        ephemeral=True,
    )


def _alert(ctx: Context, key: str) -> str:
    """The alert whose id starts with ``key`` (the short id of the audit table is enough)."""
    try:
        return resolve_alert(ctx.relay.store, key)
    except UsageError as exc:
        several = exc.reason == "ambiguous"
        raise UserError(
            f"« {key[:40]} » : {'plusieurs alertes' if several else 'aucune alerte'} dont "
            "l'identifiant commence ainsi.",
            f"“{key[:40]}”: {'several alerts' if several else 'no alert'} with an id starting so.",
        ) from exc


def audit_cmd(ctx: Context, args: str) -> Reply:
    key = args.split()[0] if args.split() else ""
    alert_id = _alert(ctx, key) if key else None
    rows = audit(ctx.relay.store, alert_id)
    if alert_id and not rows:
        raise UserError(
            f"Aucune remise enregistrée pour l'alerte {alert_id[:40]}.",
            f"No delivery recorded for alert {alert_id[:40]}.",
        )
    return reply(
        b(ctx.t("Preuve d'information des clients (fiche 9)", "Proof the clients were told (fiche 9)")),
        "\n",
        pre(as_table(rows)),
        "\n",
        ctx.t(
            "Export complet : prodouane-relay audit --format csv",
            "Full export: prodouane-relay audit --format csv",
        ),
        ephemeral=True,
    )


def invite(ctx: Context, args: str) -> Reply:
    """``invite CLIENT NAME [eori=…] [company=…] [address=…] [phone=…]``."""
    profile: dict[str, str] = {}
    name: list[str] = []
    key: str | None = None
    for word in args.split():
        head, sep, value = word.partition("=")
        if sep and fold_word(head) in invites.PROFILE_FIELDS:
            key = fold_word(head)
            profile[key] = value
        elif key is not None:
            profile[key] = f"{profile[key]} {word}".strip()
        else:
            name.append(word)
    client = " ".join(name)[:200]
    if not client:
        raise UserError(
            "Usage : invite CLIENT [eori=FR…] [company=…] [address=…] [phone=…]",
            "Usage: invite CLIENT [eori=FR…] [company=…] [address=…] [phone=…]",
        )
    code_ = invites.create_invite(ctx.relay.store, client, profile, now=ctx.relay.clock())
    log.info("invite created by %s:%s for %s", ctx.platform, ctx.user_id, client)
    parts: list[str | Span] = [
        "🎟 ",
        b(ctx.t(f"Invitation pour {client}", f"Invite for {client}")),
        "\n",
        ctx.t("Code à usage unique (valable 30 jours) : ", "Single-use code (valid 30 days): "),
        code(code_),
        "\n",
        ctx.t("Dans la discussion à abonner, envoyez : ", "In the chat to subscribe, send: "),
        code(f"/start {code_}"),
        "\n",
    ]
    if ctx.platform == "telegram" and ctx.bot_name:
        parts += [ctx.t("Ou ouvrez : ", "Or open: "), f"https://t.me/{ctx.bot_name}?start={code_}", "\n"]
    if profile:
        parts += [ctx.t("Profil : ", "Profile: "), ", ".join(f"{k}={v}" for k, v in profile.items())]
    return reply(*parts, ephemeral=True)


def _target(ctx: Context, args: str) -> Subscriber:
    key = args.strip()
    found = None
    if key and (small_int(key) is not None or not key.isdigit()):
        found = subs.find(ctx.relay.store, key)
    if found is None:
        raise UserError("Usage : pause ID (voir « subscribers »)", "Usage: pause ID (see “subscribers”)")
    return found


def pause(ctx: Context, args: str) -> Reply:
    s = subs.update(ctx.relay.store, _target(ctx, args).id, paused=True)
    log.info("subscriber %s paused by %s:%s", s.id, ctx.platform, ctx.user_id)
    return reply(
        "⏸ ",
        ctx.t(f"Abonné {s.id} ({s.client}) en pause.", f"Subscriber {s.id} ({s.client}) paused."),
        ephemeral=True,
    )


def resume(ctx: Context, args: str) -> Reply:
    s = subs.update(ctx.relay.store, _target(ctx, args).id, paused=False)
    log.info("subscriber %s resumed by %s:%s", s.id, ctx.platform, ctx.user_id)
    return reply(
        "▶️ ",
        ctx.t(f"Abonné {s.id} ({s.client}) réactivé.", f"Subscriber {s.id} ({s.client}) resumed."),
        ephemeral=True,
    )
