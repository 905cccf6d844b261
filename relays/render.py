"""What each subscriber reads: one event (or reminder) rendered per channel and language.

Everything scraped from the page (titles, CID texts) is untrusted and escaped for the target
markup: Telegram HTML (``<``, ``>``, ``&``), Slack mrkdwn (``<``, ``>``, ``&`` — which also defuses
``<!channel>`` and fake links), plain text for Apprise and the console. The content follows
fiche 9: what is down (téléservices, EDI/DTI, level), the CID's text and time, the fallback
modalities from the fiches, and at the end of alert the resumption steps and the reintegration
deadline (24 h after the fin d'alerte, fiche 4).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from knowledge.documents import load_documents
from knowledge.procedures import fallback_for, reintegration_deadline, resumption_for

from .dates import PARIS
from .events import (
    AlertClosed,
    AlertOpened,
    AlertUpdated,
    BulletinPublished,
    Event,
    InterruptionCancelled,
    InterruptionPlanned,
    SourceDegraded,
    SourceRecovered,
    StoreRecovered,
    SubscriberDeactivated,
    UnattributedMessage,
)

FORMATS = {
    "telegram": "html",
    "slack": "mrkdwn",
    "apprise": "plain",
    "console": "plain",
    "memory": "plain",
    "webhook": "cloudevents",  # a CloudEvents JSON document for machines (relays.cloudevents)
}
TELEGRAM_LIMIT = 4096
SLACK_LIMIT = 3900


@dataclass(frozen=True, slots=True)
class Markup:
    """How to write bold text and escape untrusted text in one format."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


MARKUPS = {
    "html": Markup(lambda t: html.escape(t, quote=False), lambda t: f"<b>{t}</b>"),
    "mrkdwn": Markup(_slack_escape, lambda t: f"*{t}*"),
    "plain": Markup(lambda t: t, lambda t: t.upper() if len(t) < 60 else t),
}

_L = {
    "fr": {
        "alert": "ALERTE",
        "black": "ALERTE NOIRE",
        "red": "ALERTE ROUGE",
        "bulletin": "BIP n°{n}",
        "bulletin_nonum": "Bulletin d'information",
        "end": "FIN D'ALERTE",
        "inferred": "L'alerte n'apparaît plus sur la météo des services en ligne sans message de fin "
        "d'alerte : vérifiez auprès du SAU du CID (09 702 80 100) avant de reprendre.",
        "published": "Publié par le CID le {t}",
        "planned": "INTERRUPTION PROGRAMMÉE",
        "cancelled": "INTERRUPTION ANNULÉE",
        "cancelled_text": "L'interruption programmée {window} n'aura pas lieu.",
        "window": "Du {a} au {b} (heure de Paris)",
        "deadline": "Réintégrez les déclarations déposées en procédure de secours avant le {t} "
        "(24 h après la fin d'alerte, Fiche 4, étape 4).",
        "reminder_deadline": "RAPPEL — réintégration avant le {t}",
        "reminder_interruption": "RAPPEL — interruption programmée à partir du {t}",
        "interruption_start": "DÉBUT DE L'INTERRUPTION PROGRAMMÉE",
        "interruption_start_text": "Les services ci-dessus sont interrompus jusqu'au {t} : reportez vos "
        "formalités ou passez en procédure de secours jusqu'au message de fin d'alerte.",
        "source": "Source : météo des services en ligne (douane.gouv.fr)",
        "degraded": "SOURCE EN PANNE (administrateurs)",
        "degraded_text": "La météo des services en ligne ne peut plus être lue depuis le {t} "
        "({n} relevés en échec : {r}). Aucune alerte n'est close tant que la page est illisible.",
        "recovered": "SOURCE RÉTABLIE (administrateurs)",
        "recovered_text": "La météo des services en ligne est de nouveau lisible (en panne depuis le {t}).",
        "deactivated": "ABONNÉ DÉSACTIVÉ (administrateurs)",
        "deactivated_text": "{c} ({ch} {a}) ne reçoit plus les alertes : {r}",
        "store_recovered": "STOCKAGE RÉTABLI (administrateurs)",
        "store_recovered_text": "Le relais ne pouvait plus écrire dans sa base depuis le {t} ({r}) ; "
        "il le peut de nouveau. La page a été relue et enregistrée : rien n'est perdu, "
        "les messages dus partent.",
        "all": "tous téléservices",
        "requalified": "Alerte requalifiée en {level}",
        "level_red": "alerte rouge",
        "level_black": "alerte noire",
        "widened": "Alerte étendue",
        "now_covers": "L'alerte concerne désormais : {what}",
        "unattributed": "MESSAGE NON ATTRIBUÉ (administrateurs)",
        "unattributed_text": "Ce message de la météo ne nomme aucun téléservice que le relais reconnaisse : "
        "il n'a été transmis à aucun client. Vérifiez la page ({source}) et prévenez vos clients si besoin.",
        "reopened": "L'alerte réapparaît sur la météo des services en ligne : elle n'était pas terminée "
        "(sa fin avait été déduite de son absence). La procédure de secours reste en vigueur.",
    },
    "en": {
        "alert": "ALERT",
        "black": "BLACK ALERT",
        "red": "RED ALERT",
        "bulletin": "Bulletin no. {n}",
        "bulletin_nonum": "Information bulletin",
        "end": "END OF ALERT",
        "inferred": "The alert no longer appears on the météo des services en ligne, without an "
        "end-of-alert message: check with the CID support desk (SAU, +33 9 702 80 100) before resuming.",
        "published": "Published by the CID on {t}",
        "planned": "PLANNED INTERRUPTION",
        "cancelled": "INTERRUPTION CANCELLED",
        "cancelled_text": "The planned interruption {window} will not take place.",
        "window": "From {a} to {b} (Paris time)",
        "deadline": "Reintegrate the declarations lodged under the fallback procedure before {t} "
        "(24 h after the end of alert, Fiche 4, step 4).",
        "reminder_deadline": "REMINDER — reintegration due before {t}",
        "reminder_interruption": "REMINDER — planned interruption from {t}",
        "interruption_start": "PLANNED INTERRUPTION STARTS NOW",
        "interruption_start_text": "The services above are interrupted until {t}: postpone your formalities "
        "or switch to the fallback procedure until the end-of-alert message.",
        "source": "Source: météo des services en ligne (douane.gouv.fr)",
        "degraded": "SOURCE BROKEN (admins)",
        "degraded_text": "The météo des services en ligne page cannot be read since {t} "
        "({n} failed polls: {r}). No alert is closed while the page is unreadable.",
        "recovered": "SOURCE RECOVERED (admins)",
        "recovered_text": "The météo des services en ligne page can be read again (broken since {t}).",
        "deactivated": "SUBSCRIBER DEACTIVATED (admins)",
        "deactivated_text": "{c} ({ch} {a}) no longer receives alerts: {r}",
        "store_recovered": "STORE RECOVERED (admins)",
        "store_recovered_text": "The relay could not write to its database since {t} ({r}); it can again. "
        "The page was read again and recorded: nothing is lost, the messages due are going out.",
        "all": "all téléservices",
        "requalified": "Alert requalified as a {level}",
        "level_red": "red alert",
        "level_black": "black alert",
        "widened": "Alert widened",
        "now_covers": "The alert now covers: {what}",
        "unattributed": "UNATTRIBUTED MESSAGE (admins)",
        "unattributed_text": "This message of the météo names no téléservice the relay recognises: it was "
        "sent to no client. Check the page ({source}) and tell your clients if needed.",
        "reopened": "The alert is back on the météo des services en ligne: it had not ended "
        "(its end had been inferred from its absence). The fallback procedure still applies.",
    },
}


def paris(moment: datetime | None, lang: str = "fr") -> str:
    if moment is None:
        return "?"
    local = moment.astimezone(PARIS)
    return local.strftime("%d/%m/%Y %H:%M") if lang == "fr" else local.strftime("%d/%m/%Y %H:%M")


def deadline_applies(services: tuple[str, ...]) -> bool:
    """Whether a fiche sets a reintegration deadline for these téléservices (fiche 4: Delta G/X)."""
    covered: set[str] = set()
    for doc in load_documents():
        if doc.with_role("deadline"):
            covered |= set(doc.services) | set(doc.related)
    return bool(covered & set(services))


def deadline_of(event: AlertClosed) -> datetime:
    return reintegration_deadline(event.published_at or event.detected_at)


def render(event: Event, purpose: str, *, lang: str, fmt: str) -> str:
    """The message for ``event`` (``purpose``: notify / deadline_reminder / interruption_reminder /
    interruption_start) in ``lang`` and format ``fmt`` (html, mrkdwn, plain, or cloudevents: the
    event as data, for machines)."""
    if fmt == "cloudevents":
        from .cloudevents import envelope

        return envelope(event, purpose)
    lang = lang if lang in _L else "fr"
    words = _L[lang]
    m = MARKUPS.get(fmt, MARKUPS["plain"])
    e = m.escape
    lines: list[str] = []
    services = tuple(getattr(event, "services", ()) or ())
    modes = tuple(getattr(event, "modes", ()) or ())
    what = e(", ".join(services) or words["all"]) + (f" ({'/'.join(modes)})" if modes else "")

    if isinstance(event, AlertOpened):
        label = words.get(event.level or "", words["alert"]) if event.level else words["alert"]
        lines += [("🔴 " if event.level != "black" else "⚫ ") + m.bold(f"{label} — {what}")]
        if ":reopened:" in event.id:
            lines.append(m.bold(words["reopened"]))
        if event.title:
            lines.append(e(event.title))
        if event.text:
            lines.append(e(event.text))
        lines.append(words["published"].format(t=paris(event.published_at or event.detected_at)))
        guidance = fallback_for(services, lang)
        lines += ["", e(guidance.summary)]
    elif isinstance(event, AlertUpdated):
        if "level" in event.changes and event.level in ("red", "black"):
            icon = "⚫ " if event.level == "black" else "🔴 "
            head = words["requalified"].format(level=words[f"level_{event.level}"])
        else:
            icon, head = "📣 ", words["widened"]
        lines += [icon + m.bold(f"{head} — {what}")]
        if {"services", "modes"} & set(event.changes):
            lines.append(words["now_covers"].format(what=what))
        if event.title:
            lines.append(e(event.title))
        if event.text:
            lines.append(e(event.text))
        lines.append(words["published"].format(t=paris(event.published_at or event.detected_at)))
        lines += ["", e(fallback_for(services, lang).summary)]
    elif isinstance(event, BulletinPublished):
        head = (
            words["bulletin"].format(n=event.number) if event.number is not None else words["bulletin_nonum"]
        )
        level = f" · {words[f'level_{event.level}']}" if event.level in ("red", "black") else ""
        lines += ["ℹ️ " + m.bold(f"{head} — {what}{level}")]
        if event.text:
            lines.append(e(event.text))
        lines.append(words["published"].format(t=paris(event.published_at or event.detected_at)))
    elif isinstance(event, AlertClosed) and purpose == "deadline_reminder":
        lines += [
            "⏰ " + m.bold(words["reminder_deadline"].format(t=paris(deadline_of(event)))),
            what,
            words["deadline"].format(t=paris(deadline_of(event))),
        ]
    elif isinstance(event, AlertClosed):
        lines += ["✅ " + m.bold(f"{words['end']} — {what}")]
        if event.inferred:
            lines.append(e(words["inferred"]))
        elif event.text:
            lines.append(e(event.text))
        if event.published_at:
            lines.append(words["published"].format(t=paris(event.published_at)))
        if deadline_applies(services):
            lines.append(m.bold(words["deadline"].format(t=paris(deadline_of(event)))))
        lines += ["", e(resumption_for(services, lang).summary)]
    elif isinstance(event, InterruptionPlanned):
        window = words["window"].format(a=paris(event.starts_at), b=paris(event.ends_at))
        if purpose == "interruption_reminder":
            lines += [
                "⏰ " + m.bold(words["reminder_interruption"].format(t=paris(event.starts_at))),
                what,
                window,
            ]
        elif purpose == "interruption_start":
            lines += [
                "🛠 " + m.bold(f"{words['interruption_start']} — {what}"),
                words["interruption_start_text"].format(t=paris(event.ends_at)),
            ]
        else:
            lines += ["🛠 " + m.bold(f"{words['planned']} — {what}"), window]
            if event.text:
                lines.append(e(event.text))
        lines += ["", e(fallback_for(services, lang).summary)] if purpose != "interruption_reminder" else []
    elif isinstance(event, InterruptionCancelled):
        window = words["window"].format(a=paris(event.starts_at), b=paris(event.ends_at))
        lines += [
            "🗓 " + m.bold(f"{words['cancelled']} — {what}"),
            words["cancelled_text"].format(window=window.lower()),
        ]
        if event.text:
            lines.append(e(event.text))
    elif isinstance(event, SourceDegraded):
        lines += [
            "⚠️ " + m.bold(words["degraded"]),
            e(words["degraded_text"].format(t=paris(event.since), n=event.failures, r=event.reason)),
        ]
    elif isinstance(event, SourceRecovered):
        lines += ["✅ " + m.bold(words["recovered"]), words["recovered_text"].format(t=paris(event.since))]
    elif isinstance(event, UnattributedMessage):
        lines += [
            "⚠️ " + m.bold(words["unattributed"]),
            e(words["unattributed_text"].format(source=event.source)),
        ]
        if event.title:
            lines.append(e(event.title))
        if event.text:
            lines.append(e(event.text))
        if event.published_at:
            lines.append(words["published"].format(t=paris(event.published_at)))
    elif isinstance(event, SubscriberDeactivated):
        lines += [
            "⚠️ " + m.bold(words["deactivated"]),
            e(
                words["deactivated_text"].format(
                    c=event.client, ch=event.channel, a=event.address, r=event.reason
                )
            ),
        ]
    elif isinstance(event, StoreRecovered):
        lines += [
            "💾 " + m.bold(words["store_recovered"]),
            e(words["store_recovered_text"].format(t=paris(event.since), r=event.error or event.reason)),
        ]
    else:
        lines.append(e(f"{event.kind}: {event.id}"))
    if event.kind not in (
        "source_degraded",
        "source_recovered",
        "subscriber_deactivated",
        "unattributed_message",
        "store_recovered",
    ):
        lines.append(words["source"])
    return "\n".join(lines)


def split_text(text: str, limit: int, *, measure: Callable[[str], int] = len) -> list[str]:
    """``text`` in ordered parts of at most ``limit`` (as ``measure`` counts), cut at line breaks,
    else at spaces — never inside a word, a markup tag or an entity — each part after the first
    numbered "(k/n)" so that a reader knows more follows. A text that fits is one part."""
    if measure(text) <= limit:
        return [text]
    room = limit - 12  # the "(k/n)" marker and its line break
    pieces: list[str] = []
    for line in text.split("\n"):
        while measure(line) > room:
            cut = line[:room].rfind(" ")
            cut = cut if cut > room // 2 else room
            pieces.append(line[:cut])
            line = line[cut:].lstrip()
        pieces.append(line)
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n{piece}" if current else piece
        if current and measure(candidate) > room:
            parts.append(current)
            current = piece
        else:
            current = candidate
    parts.append(current)
    n = len(parts)
    return [part if k == 1 else f"({k}/{n})\n{part}" for k, part in enumerate(parts, start=1)]
