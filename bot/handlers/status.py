"""``status`` and ``deadline``: what the relay's store knows now, never a live fetch per request.

``status`` lists the open alerts (level, téléservices, modes, age, latest BIP), the planned
interruptions still ahead, and how fresh the store is (when the page was last read, whether the
source is degraded). ``deadline`` computes the reintegration deadline of fiche 4 (24 h after the
fin d'alerte) from the last end of alert the relay recorded, or from a time the user gives.
"""

from __future__ import annotations

from datetime import datetime

from knowledge.documents import load_documents
from knowledge.procedures import reintegration_deadline
from relays import queries
from relays.queries import Alert
from relays.render import deadline_applies, paris

from .common import UserError, ago, take_when
from .replies import Context, Reply, Span, b, i, reply

MAX_TEXT = 300  # characters of a CID text quoted in a status line


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _freshness(ctx: Context, sources: tuple[queries.Source, ...], now: datetime) -> list[str | Span]:
    if not sources:
        return [
            i(
                ctx.t(
                    "Le relais n'a pas encore lu la météo des téléservices : vérifiez-la sur Prodouane.",
                    "The relay has not read the météo des téléservices yet: check it on Prodouane.",
                )
            ),
            "\n",
        ]
    out: list[str | Span] = []
    for source in sources:
        if source.degraded:
            out += [
                "⚠️ ",
                b(
                    ctx.t(
                        f"La page n'a pas pu être lue depuis le {paris(source.bad_since)} : cet état peut "
                        "être dépassé.",
                        f"The page could not be read since {paris(source.bad_since)}: this status may be "
                        "stale.",
                    )
                ),
                "\n",
            ]
    last_ok = max((s.last_ok_at for s in sources if s.last_ok_at), default=None)
    out += [
        i(
            ctx.t(
                f"Dernière lecture réussie de la page : {paris(last_ok)} ({ago(last_ok, now, 'fr')}).",
                f"Page last read successfully: {paris(last_ok)} ({ago(last_ok, now, 'en')}).",
            )
        )
        if last_ok
        else i(ctx.t("La page n'a encore jamais pu être lue.", "The page has never been read yet.")),
        "\n",
    ]
    return out


def _alert_lines(ctx: Context, alert: Alert, now: datetime) -> list[str | Span]:
    level = {"red": ctx.t("ALERTE ROUGE", "RED ALERT"), "black": ctx.t("ALERTE NOIRE", "BLACK ALERT")}.get(
        alert.level or "", ctx.t("ALERTE", "ALERT")
    )
    modes = f" ({'/'.join(alert.modes)})" if alert.modes else ""
    mine = ctx.subscriber is not None and _concerns(ctx, alert)
    out: list[str | Span] = [
        "\n",
        "⚫ " if alert.level == "black" else "🔴 ",
        b(f"{level} — {', '.join(alert.services) or '?'}{modes}"),
        ctx.t(" (vous concerne)", " (concerns you)") if mine else "",
        "\n",
    ]
    if alert.title:
        out += [_short(alert.title), "\n"]
    opened = alert.since
    out += [
        ctx.t(
            f"Publiée le {paris(opened)}, {ago(opened, now, 'fr')}.",
            f"Published {paris(opened)}, {ago(opened, now, 'en')}.",
        ),
        "\n",
    ]
    last = alert.latest_bulletin
    if last is not None:
        moment = last.published_at or last.detected_at
        number = f" n°{last.number}" if last.number is not None else ""
        out += [
            ctx.t(
                f"Dernier BIP{number} ({paris(moment)}, {ago(moment, now, 'fr')}) : ",
                f"Latest bulletin{number} ({paris(moment)}, {ago(moment, now, 'en')}): ",
            ),
            _short(last.text or last.title),
            "\n",
        ]
    else:
        out += [ctx.t("Aucun BIP depuis l'alerte.", "No bulletin since the alert."), "\n"]
    return out


def _concerns(ctx: Context, alert: Alert) -> bool:
    s = ctx.subscriber
    if s is None:
        return False
    services = not s.services or bool(set(s.services) & set(alert.services))
    modes = not s.modes or not alert.modes or bool(set(s.modes) & set(alert.modes))
    return services and modes


def status(ctx: Context, args: str) -> Reply:
    store, now = ctx.relay.store, ctx.relay.clock()
    alerts = queries.open_alerts(store)
    parts: list[str | Span] = [
        "📡 ",
        b(
            ctx.t(
                f"Météo des téléservices — état au {paris(now)}",
                f"Météo des téléservices — status at {paris(now)}",
            )
        ),
        "\n",
    ]
    parts += _freshness(ctx, queries.sources(store), now)
    if not alerts:
        parts += ["\n✅ ", ctx.t("Aucune alerte en cours.", "No open alert."), "\n"]
    for alert in alerts:
        parts += _alert_lines(ctx, alert, now)
    planned = queries.upcoming_interruptions(store, now)
    for event in planned:
        what = ", ".join(event.services) or ctx.t("tous téléservices", "all téléservices")
        parts += [
            "\n🛠 ",
            b(ctx.t(f"Interruption programmée — {what}", f"Planned interruption — {what}")),
            "\n",
            ctx.t(
                f"Du {paris(event.starts_at)} au {paris(event.ends_at)} (heure de Paris).",
                f"From {paris(event.starts_at)} to {paris(event.ends_at)} (Paris time).",
            ),
            "\n",
        ]
    if not planned:
        parts += [
            "\n",
            ctx.t("Aucune interruption programmée annoncée.", "No planned interruption announced."),
            "\n",
        ]
    parts += [
        "\n",
        i(
            ctx.t(
                "Source : météo des téléservices (Prodouane), relevée par le relais.",
                "Source: météo des téléservices (Prodouane), as read by the relay.",
            )
        ),
    ]
    return reply(*parts)


def deadline(ctx: Context, args: str) -> Reply:
    now = ctx.relay.clock()
    words = args.split()
    services: tuple[str, ...] = ()
    if words:
        moment, rest = take_when(words, now)
        if moment is None or rest:
            raise UserError(
                "Usage : deadline [JJ/MM/AAAA] [HH:MM] — l'heure de fin d'alerte (heure de Paris).",
                "Usage: deadline [DD/MM/YYYY] [HH:MM] — the end-of-alert time (Paris time).",
            )
        lead: list[str | Span] = [
            ctx.t(f"Fin d'alerte indiquée : {paris(moment)}.", f"End of alert given: {paris(moment)}.")
        ]
    else:
        end = queries.last_end(ctx.relay.store, ctx.subscriber.services if ctx.subscriber else ())
        if end is None:
            raise UserError(
                "Aucune fin d'alerte n'est enregistrée. Indiquez l'heure : deadline 14:30 ou "
                "deadline 03/12/2026 14:30.",
                "No end of alert is recorded. Give the time: deadline 14:30 or deadline 03/12/2026 14:30.",
            )
        moment = end.published_at or end.detected_at
        services = end.services
        what = ", ".join(end.services) + (f" ({'/'.join(end.modes)})" if end.modes else "")
        lead = [
            ctx.t(
                f"Dernière fin d'alerte : {what}, le {paris(moment)}",
                f"Last end of alert: {what}, on {paris(moment)}",
            ),
            ctx.t(" (fin déduite)", " (inferred end)") if end.inferred else "",
            ".",
        ]
    due = reintegration_deadline(moment)
    fiche = next(d for d in load_documents() if d.id == "fiche-4")
    delay, conditions = fiche.section("etape-4-delai"), fiche.section("etape-4-conditions")
    remaining = (
        ctx.t(
            f"Il reste {ago(due, now, 'fr').removeprefix('dans ')}.",
            f"{ago(due, now, 'en').removeprefix('in ').capitalize()} left.",
        )
        if due > now
        else ctx.t(f"Délai dépassé ({ago(due, now, 'fr')}).", f"Deadline passed ({ago(due, now, 'en')}).")
    )
    parts: list[str | Span] = [
        "⏰ ",
        b(
            ctx.t(
                f"Réintégration avant le {paris(due)} (heure de Paris)",
                f"Reintegrate before {paris(due)} (Paris time)",
            )
        ),
        "\n",
        *lead,
        " ",
        remaining,
        "\n",
    ]
    if services and not deadline_applies(services):
        parts += [
            "\n",
            ctx.t(
                f"Attention : la fiche 4 fixe ce délai pour Delta X (importation) ; elle ne vise pas "
                f"{', '.join(services)}.",
                f"Note: fiche 4 sets this deadline for Delta X (import); it does not cover "
                f"{', '.join(services)}.",
            ),
            "\n",
        ]
    parts += [
        "\n",
        b(ctx.t("Ce que couvre le délai", "What the deadline covers")),
        ctx.t(" (texte officiel) :", " (official French text):"),
        "\n",
        "• ",
        i(delay.summary),
        "\n",
        "• ",
        i(conditions.summary),
        "\n\n",
        ctx.t("Sources : ", "Sources: "),
        fiche.cite(delay).ref,
        " ; ",
        fiche.cite(conditions).ref,
    ]
    return reply(*parts)
