"""``da``: drafts the demande d'assistance (DA) to file on OLGA, from the chat's client profile.

Fiche 1, étape 5 lists what the DA must say: « auto-déclenchement de la procédure de secours »,
the operator's references (EORI, raison sociale, adresse, téléphone), the type of téléprocédure,
the date and time of the switch to fallback, and the reasons — one DA per téléprocédure. The
text is in French (it is filed with French customs) whatever the chat's language; missing
references are left as visible ``[à compléter]`` blanks.

``da provider`` (administrators only: it lists every client) drafts the provider's request of
fiche 9, scénario 1: its system is down, so the DA names the complete list of its clients.

    da [TÉLÉSERVICE…] [JJ/MM/AAAA] [HH:MM] [raisons]
"""

from __future__ import annotations

from datetime import datetime

from knowledge.documents import load_documents
from knowledge.services import CANONICAL
from relays.dates import PARIS
from relays.render import paris
from relays.subscribers import all_subscribers

from .common import UserError, fold_word, small_int, take_services, take_when
from .replies import Button, Context, Reply, Span, b, pre, reply

BLANK = "[à compléter]"
REASONS = {
    "v": "déclarations impossibles à valider (fiche 1, étape 3, premier cas)",
    "n": "déclarations validées n'ayant pas obtenu le statut « BAE » sans être « sous contrôle », "
    "« crédit en "
    "attente » ou « paiement au comptant » (fiche 1, étape 3, second cas)",
}
PROVIDER_WORDS = {"provider", "prestataire", "fiche9", "fiche-9"}


def _when_text(moment: datetime) -> str:
    local = moment.astimezone(PARIS)
    return f"le {local:%d/%m/%Y} à {local:%H:%M} (heure de Paris)"


def draft(
    profile: dict[str, str], client: str, service: str, mode: str | None, moment: datetime, reason: str
) -> str:
    """The DA text for one téléprocédure (fiche 1, étape 5), in French."""
    mode_text = f" ({mode})" if mode else ""
    return "\n".join(
        [
            f"Objet : auto-déclenchement de la procédure de secours – {service}{mode_text}",
            "",
            "Auto-déclenchement de la procédure de secours.",
            "",
            "Références de l'opérateur :",
            f"- Numéro EORI : {profile.get('eori') or BLANK}",
            f"- Raison sociale : {profile.get('company') or client or BLANK}",
            f"- Adresse : {profile.get('address') or BLANK}",
            f"- Téléphone : {profile.get('phone') or BLANK}",
            "",
            f"Type de téléprocédure : {service}{mode_text}",
            f"Date et heure de passage en alerte : {_when_text(moment)}",
            f"Raisons de l'auto-déclenchement : {reason or BLANK}",
        ]
    )


def _parse(ctx: Context, args: str) -> tuple[list[str], datetime, str]:
    words = args.split()
    services, words = take_services(words)
    moment, words = take_when(words, ctx.relay.clock())
    return services, moment or ctx.relay.clock(), " ".join(words).strip(" :—-")


def da(ctx: Context, args: str) -> Reply:
    words = args.split()
    if words and fold_word(words[0]) in PROVIDER_WORDS:
        return provider(ctx, " ".join(words[1:]))
    services, moment, reason = _parse(ctx, args)
    if not services and ctx.subscriber and ctx.subscriber.services:
        services = list(ctx.subscriber.services)
    if not services:
        rows = [
            [Button(n, f"da:{CANONICAL.index(n)}::") for n in ("DELTA G", "DELTA X Import", "DELTA X Export")]
        ]
        return reply(
            ctx.t(
                "Pour quelle téléprocédure ? (une DA par téléprocédure) Par exemple : da DELTA G 14:30 "
                "déclarations impossibles à valider",
                "For which téléprocédure? (one DA per téléprocédure) For example: da DELTA G 14:30 "
                "cannot validate declarations",
            ),
            buttons=rows,
        )
    modes = ctx.subscriber.modes if ctx.subscriber else ()
    words_upper = {w.upper() for w in args.split()}
    mode = next((m for m in ("EDI", "DTI") if m in words_upper), modes[0] if len(modes) == 1 else None)
    return _drafts(ctx, services, mode, moment, reason)


def on_button(ctx: Context, payload: str) -> Reply:
    """``da:<service index>:<E|D|>:<v|n|>`` (from the self-trigger check)."""
    index, _, rest = payload.partition(":")
    mode, _, case = rest.partition(":")
    number = small_int(index, len(CANONICAL))
    if number is None:
        raise UserError("Ce bouton n'est plus valable.", "This button is no longer valid.")
    return _drafts(
        ctx, [CANONICAL[number]], {"E": "EDI", "D": "DTI"}.get(mode), ctx.relay.clock(), REASONS.get(case, "")
    )


def _drafts(ctx: Context, services: list[str], mode: str | None, moment: datetime, reason: str) -> Reply:
    s = ctx.subscriber
    profile = {k: str(v) for k, v in (s.profile if s else {}).items() if v}
    if s and s.eori and "eori" not in profile:
        profile["eori"] = s.eori
    parts: list[str | Span] = [
        "📝 ",
        b(
            ctx.t(
                "Demande d'assistance (DA) à déposer sur Prodouane (assistance en ligne OLGA)",
                "Assistance request (DA) to file on Prodouane (OLGA online assistance)",
            )
        ),
        "\n",
    ]
    if len(services) > 1:
        parts += [
            ctx.t(
                f"Une DA par téléprocédure : {len(services)} DA ci-dessous.",
                f"One DA per téléprocédure: {len(services)} DAs below.",
            ),
            "\n",
        ]
    for service in services:
        parts += [pre(draft(profile, s.client if s else "", service, mode, moment, reason)), "\n"]
    missing = [
        label
        for key, label in (
            ("eori", "EORI"),
            ("address", ctx.t("adresse", "address")),
            ("phone", ctx.t("téléphone", "phone")),
        )
        if not profile.get(key)
    ]
    if s is None:
        parts += [
            ctx.t(
                "Cette discussion n'est pas abonnée : complétez vos références.",
                "This chat is not enrolled: fill in your references.",
            ),
            "\n",
        ]
    elif missing:
        parts += [
            ctx.t(
                f"À compléter (absent de votre profil client) : {', '.join(missing)}.",
                f"To fill in (missing from your client profile): {', '.join(missing)}.",
            ),
            "\n",
        ]
    if not reason:
        parts += [
            ctx.t(
                "Indiquez les raisons, par exemple : « déclarations impossibles à valider ».",
                "Give the reasons, e.g. « déclarations impossibles à valider » (cannot validate).",
            ),
            "\n",
        ]
    fiche = next(d for d in load_documents() if d.id == "fiche-1")
    parts += [
        "\n",
        ctx.t(
            "Ensuite : transférez au bureau de douane le courriel accusant réception de la DA ; l'heure "
            "d'enregistrement de la DA est celle du début de la procédure de secours ; hors heures "
            "d'ouverture, appelez le SAU du CID (09 702 80 100).",
            "Then: forward the DA's acknowledgement email to the customs office; the DA's registration "
            "time is the start of the fallback procedure; outside opening hours, call the CID's SAU "
            "(+33 9 702 80 100).",
        ),
        "\n",
        ctx.t("Source : ", "Source: "),
        fiche.cite(fiche.section("etape-5")).ref,
    ]
    return reply(*parts)


def provider(ctx: Context, args: str) -> Reply:
    """Fiche 9, scénario 1: the provider's system is down; the DA lists all its clients."""
    if not ctx.is_admin:
        raise UserError(
            "« da prestataire » liste tous les clients : réservé aux administrateurs.",
            "“da provider” lists every client: administrators only.",
        )
    services, moment, reason = _parse(ctx, args)
    services = services or ["ICS2"]
    clients: dict[str, str | None] = {}
    for s in all_subscribers(ctx.relay.store, include_inactive=False):
        if s.role == "client":
            clients.setdefault(s.client, s.eori or (s.profile or {}).get("eori"))
    if not clients:
        raise UserError("Aucun client abonné : rien à lister.", "No subscribed client: nothing to list.")
    lines = [
        f"Objet : panne du système du prestataire – {', '.join(services)} – procédure de secours (fiche n°9, "
        "scénario 1)",
        "",
        f"Notre système de transmission est en panne depuis {_when_text(moment)}.",
        f"Téléprocédure concernée : {', '.join(services)}",
        f"Raisons : {reason or BLANK}",
        "",
        f"Liste complète de nos clients ({len(clients)}) :",
        *(f"- {name} (EORI : {eori or 'non renseigné'})" for name, eori in sorted(clients.items())),
    ]
    fiche = next(d for d in load_documents() if d.id == "fiche-9")
    return reply(
        "📝 ",
        b(ctx.t("DA OLGA du prestataire (fiche 9, scénario 1)", "Provider's OLGA DA (fiche 9, scenario 1)")),
        "\n",
        pre("\n".join(lines)),
        "\n",
        ctx.t("Source : ", "Source: "),
        fiche.cite(fiche.section("scenario-1")).ref,
        " — ",
        paris(moment),
        ephemeral=True,
    )
