"""Enrolment and preferences: ``start CODE``, ``subscribe``, ``unsubscribe``, ``settings``, ``lang``.

A chat becomes a subscriber only by redeeming an invite code an administrator created for a
client (:mod:`relays.invites`); without one the bot says how to get one and stores nothing.
Filters follow :class:`relays.subscribers.Subscriber`: an empty list means "everything".
Buttons carry their whole meaning in their callback data (``sub:s:3`` toggles the fourth
téléservice), so a press works the same after a restart.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from knowledge.services import CANONICAL
from relays import invites
from relays import subscribers as subs
from relays.errors import InviteError, SubscriberError
from relays.events import CLIENT_KINDS
from relays.snapshot import MODES
from relays.subscribers import Subscriber

from .common import UserError, fold_word, small_int, take_services
from .replies import Button, Context, Reply, Span, b, reply

log = logging.getLogger(__name__)

SELF_UNSUBSCRIBED = "unsubscribed from the chat"
KIND_NAMES = {
    "alert_opened": ("alertes", "alerts"),
    "bulletin": ("BIP", "bulletins"),
    "alert_closed": ("fins d'alerte", "ends of alert"),
    "interruption_planned": ("interruptions programmées", "planned interruptions"),
    "alert_updated": ("requalifications", "requalifications"),
    "interruption_cancelled": ("interruptions annulées", "cancelled interruptions"),
}
_KIND_WORDS = {
    "alert_opened": {"alert_opened", "alerte", "alertes", "alert", "alerts", "ouverture", "opened"},
    "bulletin": {"bulletin", "bulletins", "bip", "bips"},
    "alert_closed": {"alert_closed", "fin", "fins", "end", "ends", "closed", "cloture"},
    "alert_updated": {"alert_updated", "requalification", "requalifications", "update", "updates"},
    "interruption_cancelled": {"interruption_cancelled", "annulation", "annulations", "cancelled"},
    "interruption_planned": {
        "interruption_planned",
        "interruption",
        "interruptions",
        "planned",
        "programmee",
        "programmees",
        "maintenance",
    },
}
_ALL_WORDS = {"all", "tout", "tous", "toutes", "everything", "*"}


def not_enrolled(ctx: Context) -> Reply:
    who = f"{ctx.command_prefix}start CODE"
    return reply(
        b(ctx.t("Cette discussion n'est pas encore abonnée.", "This chat is not subscribed yet.")),
        "\n",
        ctx.t(
            "Pour recevoir les alertes de la météo des téléservices, demandez un code d'invitation à votre "
            f"prestataire (l'administrateur de ce relais), puis envoyez « {who} ». Rien n'est enregistré "
            "d'ici là.",
            "To receive the météo des téléservices alerts, ask your provider (the administrator of this "
            f"relay) for an invite code, then send “{who}”. Nothing is stored until then.",
        ),
        "\n",
        ctx.t(
            "Les questions (/ask) et l'état des téléservices (/status) restent accessibles.",
            "Questions (/ask) and the téléservices status (/status) work without it.",
        ).replace("/", ctx.command_prefix),
    )


def _enrolled(ctx: Context) -> Subscriber:
    """The chat's subscriber, active (re-activated if it had unsubscribed itself), or a UserError."""
    s = ctx.subscriber
    if s is None:
        raise UserError(not_enrolled(ctx).text)
    if not s.active:
        if s.deactivated_reason != SELF_UNSUBSCRIBED:
            raise UserError(
                "Cette discussion ne reçoit plus les alertes (désactivée par le relais). Demandez un nouveau "
                "code d'invitation à votre prestataire.",
                "This chat no longer receives alerts (deactivated by the relay). Ask your provider for a "
                "new invite code.",
            )
        s = subs.update(ctx.relay.store, s.id, active=True)
    return s


def describe(ctx: Context, s: Subscriber) -> list[str | Span]:
    everything = ctx.t("tous", "all")
    kinds = [KIND_NAMES[k][1 if ctx.lang == "en" else 0] for k in s.kinds]
    state = (
        ctx.t("désabonnée", "unsubscribed")
        if not s.active
        else ctx.t("en pause (par l'administrateur)", "paused (by the administrator)")
        if s.paused
        else ctx.t("active", "active")
    )
    return [
        ctx.t("Client : ", "Client: "),
        b(s.client),
        "\n",
        ctx.t("Téléservices : ", "Téléservices: "),
        ", ".join(s.services) or everything,
        "\n",
        ctx.t("Modes : ", "Modes: "),
        "/".join(s.modes) or everything,
        "\n",
        ctx.t("Messages : ", "Messages: "),
        ", ".join(kinds) or everything,
        "\n",
        ctx.t("Langue : ", "Language: "),
        "français" if s.lang == "fr" else "English",
        "\n",
        ctx.t("État : ", "State: "),
        state,
    ]


def start(ctx: Context, args: str) -> Reply:
    code = args.split()[0] if args.split() else ""
    if not code:
        if ctx.subscriber is not None and ctx.subscriber.active:
            return reply(
                ctx.t("Cette discussion est déjà abonnée.", "This chat is already subscribed."),
                "\n",
                *describe(ctx, ctx.subscriber),
                buttons=[[Button(ctx.t("Choisir les téléservices", "Pick téléservices"), "sub:menu")]],
            )
        return not_enrolled(ctx)
    try:
        s = invites.redeem(
            ctx.relay.store, code, ctx.platform, ctx.chat_id, lang=ctx.lang, now=ctx.relay.clock()
        )
    except InviteError as exc:
        log.warning(
            "invite refused", extra={"platform": ctx.platform, "chat": ctx.chat_id, "why": exc.reason}
        )
        raise UserError(_refused_fr(exc), f"Cannot use this code: {exc}.") from exc
    except SubscriberError as exc:
        raise UserError(
            f"Impossible d'abonner cette discussion : {exc}.", f"Cannot subscribe this chat: {exc}."
        ) from exc
    log.info("chat enrolled", extra={"platform": ctx.platform, "chat": ctx.chat_id, "subscriber": s.id})
    ctx = replace(ctx, subscriber=s, lang=s.lang)
    return reply(
        "✅ ",
        b(
            ctx.t(
                f"Bienvenue ! Cette discussion reçoit désormais les alertes pour {s.client}.",
                f"Welcome! This chat now receives the alerts for {s.client}.",
            )
        ),
        "\n\n",
        *describe(ctx, s),
        "\n\n",
        ctx.t(
            "Choisissez les téléservices qui vous concernent (par défaut : tous), ou /help pour la liste des "
            "commandes.",
            "Pick the téléservices that concern you (default: all), or /help for the commands.",
        ).replace("/", ctx.command_prefix),
        buttons=[[Button(ctx.t("Choisir les téléservices", "Pick téléservices"), "sub:menu")]],
    )


#: Why an invite code was refused (``InviteError.reason``), as the chat reads it in French.
REFUSED_FR = {
    "code_used": "Ce code d'invitation a déjà été utilisé. Demandez-en un nouveau à votre prestataire.",
    "code_expired": "Ce code d'invitation a expiré. Demandez-en un nouveau à votre prestataire.",
    "unknown_code": "Code d'invitation inconnu. Vérifiez-le ou demandez-en un à votre prestataire.",
}


def _refused_fr(exc: InviteError) -> str:
    if exc.reason == "already_subscribed":
        return (
            f"Cette discussion est déjà abonnée (client {exc.client})."
            if exc.client
            else ("Cette discussion est déjà abonnée.")
        )
    return REFUSED_FR.get(exc.reason, REFUSED_FR["unknown_code"])


def _parse_filters(args: str) -> tuple[list[str], list[str], list[str], bool]:
    """(services, modes, kinds, all) named in ``args``; a word naming nothing is a UserError."""
    words = args.replace(",", " , ").split()
    services: list[str] = []
    modes: list[str] = []
    kinds: list[str] = []
    everything = False
    while words:
        word = fold_word(words[0])
        if word in {",", ";", "et", "and"}:
            words = words[1:]
        elif word.upper() in MODES:
            modes.append(word.upper())
            words = words[1:]
        elif word in _ALL_WORDS:
            everything = True
            words = words[1:]
        elif kind := next((k for k, names in _KIND_WORDS.items() if word in names), None):
            kinds.append(kind)
            words = words[1:]
        else:
            found, rest = take_services(words)
            if not found:
                raise UserError(
                    f"Je ne connais pas « {words[0][:40]} » (exemples : DELTA G, ICS2, EDI, bulletin).",
                    f"I do not know “{words[0][:40]}” (examples: DELTA G, ICS2, EDI, bulletin).",
                )
            services += found
            words = rest
    return services, modes, kinds, everything


def subscribe(ctx: Context, args: str) -> Reply:
    s = _enrolled(ctx)
    if not args.strip():
        return menu(replace(ctx, subscriber=s), s, edit=False)
    services, modes, kinds, everything = _parse_filters(args)
    store = ctx.relay.store
    if everything and not (services or modes or kinds):
        s = subs.update(store, s.id, services=[], modes=[], kinds=[])
    else:  # naming some when the filter is "all" means "only these"; otherwise they are added
        changes: dict[str, list[str]] = {}
        for name, named, current in (
            ("services", services, s.services),
            ("modes", modes, s.modes),
            ("kinds", kinds, s.kinds),
        ):
            if named:
                changes[name] = [] if everything else list(dict.fromkeys([*current, *named]))
        s = subs.update(store, s.id, **changes)
    return reply("✅ ", ctx.t("Abonnement mis à jour.", "Subscription updated."), "\n", *describe(ctx, s))


def unsubscribe(ctx: Context, args: str) -> Reply:
    s = ctx.subscriber
    if s is None:
        return not_enrolled(ctx)
    if not args.strip():
        return reply(
            ctx.t("Que voulez-vous arrêter ?", "What do you want to stop?"),
            "\n",
            *describe(ctx, s),
            buttons=[
                [Button(ctx.t("Arrêter toutes les alertes", "Stop all alerts"), "un:all")],
                [Button(ctx.t("Choisir les téléservices", "Pick téléservices"), "sub:menu")],
            ],
        )
    services, modes, kinds, everything = _parse_filters(args)
    if everything:
        return stop_all(ctx)
    s = _enrolled(ctx)
    changes: dict[str, list[str]] = {}
    for name, named, current, universe in (
        ("services", services, s.services, CANONICAL),
        ("modes", modes, s.modes, MODES),
        ("kinds", kinds, s.kinds, CLIENT_KINDS),
    ):
        if not named:
            continue
        left = [x for x in (current or universe) if x not in named]
        if not left:
            raise UserError(
                "Il ne resterait plus rien : pour tout arrêter, envoyez « unsubscribe all ».",
                "Nothing would be left: to stop everything, send “unsubscribe all”.",
            )
        changes[name] = left
    s = subs.update(ctx.relay.store, s.id, **changes)
    return reply("✅ ", ctx.t("Abonnement mis à jour.", "Subscription updated."), "\n", *describe(ctx, s))


def stop_all(ctx: Context) -> Reply:
    s = ctx.subscriber
    if s is None:
        return not_enrolled(ctx)
    if s.active:
        subs.update(ctx.relay.store, s.id, active=False, deactivated_reason=SELF_UNSUBSCRIBED)
    return reply(
        "🔕 ",
        ctx.t(
            "Cette discussion ne recevra plus d'alertes. Envoyez /subscribe pour les reprendre.",
            "This chat will no longer receive alerts. Send /subscribe to resume.",
        ).replace("/", ctx.command_prefix),
        edit=True,
    )


def settings(ctx: Context, args: str) -> Reply:
    s = ctx.subscriber
    if s is None:
        return not_enrolled(ctx)
    profile = s.profile or {}
    extra = [
        f"\n{label} : {profile[key]}"
        for key, label in (
            ("eori", "EORI"),
            ("company", ctx.t("Raison sociale", "Company")),
            ("address", ctx.t("Adresse", "Address")),
            ("phone", ctx.t("Téléphone", "Phone")),
        )
        if profile.get(key)
    ]
    return reply(
        b(ctx.t("Réglages de cette discussion", "This chat's settings")),
        "\n",
        *describe(ctx, s),
        *extra,
        buttons=[
            [Button(ctx.t("Choisir les téléservices", "Pick téléservices"), "sub:menu")],
            [Button("Français", "lang:fr"), Button("English", "lang:en")],
        ],
    )


def lang(ctx: Context, args: str) -> Reply:
    word = fold_word(args.split()[0]) if args.split() else ""
    chosen = {"fr": "fr", "francais": "fr", "french": "fr", "en": "en", "english": "en", "anglais": "en"}.get(
        word
    )
    if chosen is None:
        if word:
            raise UserError("Langues disponibles : fr, en.", "Available languages: fr, en.")
        return reply(
            ctx.t("Choisissez la langue :", "Choose the language:"),
            buttons=[[Button("Français", "lang:fr"), Button("English", "lang:en")]],
        )
    return set_lang(ctx, chosen)


def set_lang(ctx: Context, chosen: str) -> Reply:
    if ctx.subscriber is not None:
        subs.update(ctx.relay.store, ctx.subscriber.id, lang=chosen)
        return reply(
            "✅ ", "Les messages seront en français." if chosen == "fr" else "Messages will be in English."
        )
    return reply(
        "✅ ",
        "D'accord, en français." if chosen == "fr" else "OK, in English.",
        " ",
        "(Enregistré dès que cette discussion sera abonnée.)"
        if chosen == "fr"
        else "(Saved once this chat is enrolled.)",
    )


# --- the buttons --------------------------------------------------------------------------------


def menu(ctx: Context, s: Subscriber, *, edit: bool = True) -> Reply:
    def mark(on: bool, label: str) -> str:
        return f"✅ {label}" if on else label

    rows: list[list[Button]] = []
    names = list(CANONICAL)
    for start_at in range(0, len(names), 3):
        rows.append(
            [
                Button(mark(n in s.services, n), f"sub:s:{names.index(n)}")
                for n in names[start_at : start_at + 3]
            ]
        )
    rows.append([Button(mark(m in s.modes, m), f"sub:m:{m}") for m in MODES])
    rows.append(
        [
            Button(mark(k in s.kinds, KIND_NAMES[k][1 if ctx.lang == "en" else 0]), f"sub:k:{n}")
            for n, k in enumerate(CLIENT_KINDS)
        ]
    )
    rows.append(
        [
            Button(ctx.t("Tout recevoir", "Receive everything"), "sub:all"),
            Button(ctx.t("Terminé", "Done"), "sub:done"),
        ]
    )
    return reply(
        b(ctx.t("Vos abonnements", "Your subscriptions")),
        " ",
        ctx.t("(touchez pour cocher ; rien de coché = tout)", "(tap to tick; nothing ticked = everything)"),
        "\n",
        *describe(ctx, s),
        buttons=rows,
        edit=edit,
    )


def _toggle(current: tuple[str, ...], item: str) -> list[str]:
    return [x for x in current if x != item] if item in current else [*current, item]


def on_button(ctx: Context, payload: str) -> Reply:
    """``sub:menu``, ``sub:s:<n>``, ``sub:m:<EDI|DTI>``, ``sub:k:<n>``, ``sub:all``, ``sub:done``."""
    s = _enrolled(ctx)
    store = ctx.relay.store
    what, _, value = payload.partition(":")
    service, kind = small_int(value, len(CANONICAL)), small_int(value, len(CLIENT_KINDS))
    if what == "s" and service is not None:
        s = subs.update(store, s.id, services=_toggle(s.services, CANONICAL[service]))
    elif what == "m" and value in MODES:
        s = subs.update(store, s.id, modes=_toggle(s.modes, value))
    elif what == "k" and kind is not None:
        s = subs.update(store, s.id, kinds=_toggle(s.kinds, CLIENT_KINDS[kind]))
    elif what == "all":
        s = subs.update(store, s.id, services=[], modes=[], kinds=[])
    elif what == "done":
        return reply(
            "✅ ", ctx.t("Abonnement enregistré.", "Subscription saved."), "\n", *describe(ctx, s), edit=True
        )
    return menu(replace(ctx, subscriber=s), s)


def on_unsubscribe_button(ctx: Context, payload: str) -> Reply:
    if payload == "all":
        return stop_all(ctx)
    raise UserError("Ce bouton n'est plus valable.", "This button is no longer valid.")
