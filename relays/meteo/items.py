"""The one item builder: messages (from the page or the feed) become typed snapshot items.

Whatever the markup, a message's kind, téléservices, modes, level, dates and bulletin number are
read here, by the same rules, and each reading says where it came from (``Item.why``) so that
``poll --once --explain`` can show an operator why a redesign confuses the relay.

Precedence, everywhere: the message's title first; its badges; its body only to narrow (negations,
"uniquement") or, when the title names nothing, from the clauses that state facts (not
instructions); the status table last, and only for what the message does not say.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

from knowledge.services import find_services

from ..dates import PARIS, find_datetimes, find_published, parse_updated, parse_window
from ..snapshot import MODES, Item, ItemKind, ServiceState, ServiceStatus
from .html import DATELINE
from .message import Message
from .words import bulletin_number as _number
from .words import (
    classify,
    clauses,
    find_level,
    find_modes,
    is_cancellation,
    is_label_only,
    mode_mentions,
    named_as_service,
    only_modes,
    ordered,
    reports_done,
    requalified_level,
    service_mentions,
    shown_as_example,
    title_services,
)


def _is_question(title: str) -> bool:
    """A title asked as a question ("Que signifie une alerte rouge ?") is help or FAQ text: the SAU
    words its messages as statements, so a question never opens, updates or closes anything."""
    return title.rstrip(" \u00a0.»\"").endswith("?")


def _is_example(message: Message) -> bool:
    """A model message on a help page: its text is introduced as an example, or its labels say so."""
    return any(shown_as_example(label) for label in message.labels) or shown_as_example(message.body[:400])


def _kind(message: Message) -> tuple[ItemKind, str]:
    if _is_question(message.title):
        return ItemKind.INFORMATION, "the title is a question (help or FAQ text, not a message)"
    if _is_example(message):
        return ItemKind.INFORMATION, "shown as an example or a model, not a message"
    kind = classify(message.title, message.body)
    if kind is ItemKind.PLANNED and reports_done(message.title):
        return ItemKind.INFORMATION, "the title reports interruptions already carried out"
    if kind is not ItemKind.INFORMATION:
        return kind, f"title words ({message.title[:60]!r})"
    kinds = [
        label for label in message.labels if is_label_only(label)
    ]  # not a status chip "X : indisponible"
    if len(kinds) >= 3:  # "Alerte noire", "Alerte rouge", "Alerte rouge"…: a report or list of several
        return ItemKind.INFORMATION, f"{len(kinds)} kind badges: a list or report of several messages"
    if kinds:
        kind = classify(" ".join([*kinds, message.title]), message.body)
        if kind is not ItemKind.INFORMATION:
            return kind, f"badge {' / '.join(kinds)!r}"
    return kind, "no kind word in the title, badges or opening words"


def _services(message: Message, kind: ItemKind, vocabulary: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    titled = title_services(message.title, vocabulary)
    if not titled and message.labels:
        titled = title_services(" – ".join(message.labels), vocabulary)
    body = service_mentions(message.body, vocabulary)
    if kind is ItemKind.PLANNED:  # a notice lists the téléservices in its text, the title abridges
        named = ordered({*titled, *body.positive, *named_as_service(message.body)}, vocabulary)
        return named, "title and text of the notice" if named else "no téléservice named"
    if titled:
        kept = tuple(s for s in titled if s not in body.negative) or titled
        why = "title"
        if kept != titled:
            why += f", narrowed by the text ({', '.join(s for s in titled if s not in kept)} not concerned)"
        if not any(s in find_services(message.title) or s in vocabulary for s in kept):
            why += " (a name the alias table does not know, kept as written)"
        return kept, why
    named = ordered({*body.positive, *named_as_service(message.body)}, vocabulary)
    if named:
        return named, "text (the title names no téléservice)"
    return (), "no téléservice named in the title or text"


def _modes(
    message: Message, kind: ItemKind, services: tuple[str, ...], statuses: list[ServiceStatus]
) -> tuple[tuple[str, ...], str]:
    titled = find_modes(message.title) or find_modes(" ".join(message.labels))
    body = mode_mentions(message.body)
    only = only_modes(message.body)
    if titled:
        kept = tuple(m for m in titled if m not in body.negative) or titled
        if only and set(only) < set(kept):
            kept = tuple(m for m in kept if m in only)
        return kept, "title" if kept == titled else "title, narrowed by the text"
    if only:
        return only, 'text ("uniquement")'
    if body.positive:
        return body.positive, "text"
    if kind is ItemKind.ALERT:
        table = _modes_from_table(services, statuses)
        table = tuple(m for m in table if m not in body.negative)
        if table:
            return table, "status table"
    if kind is ItemKind.PLANNED:
        rest = tuple(m for m in MODES if m not in body.negative)
        return rest, "none stated: every mode" if rest == MODES else "every mode but those the text excludes"
    if body.negative:
        rest = tuple(m for m in MODES if m not in body.negative)
        return rest, "the mode the text does not exclude"
    return (), "none stated"


def _modes_from_table(services: tuple[str, ...], statuses: list[ServiceStatus]) -> tuple[str, ...]:
    bad = {
        s.mode
        for s in statuses
        if s.service in services and s.state in (ServiceState.ALERT, ServiceState.DOWN)
    }
    return tuple(m for m in MODES if m in bad)


def _level_from_table(
    services: tuple[str, ...], modes: tuple[str, ...], statuses: list[ServiceStatus]
) -> str | None:
    states = {s.state for s in statuses if s.service in services and (not modes or s.mode in modes)}
    if ServiceState.DOWN in states:
        return "black"
    if ServiceState.ALERT in states:
        return "red"
    return None


def _alert_level(
    message: Message, services: tuple[str, ...], modes: tuple[str, ...], statuses: list[ServiceStatus]
) -> tuple[str | None, str]:
    if level := find_level(message.title):
        return level, "title"
    for label in message.labels:
        if level := find_level(label):
            return level, f"badge {label!r}"
    # the opening statements ("Le CID déclenche une alerte rouge", "Niveau : alerte rouge."), past
    # the message's own metadata (dates, the type, the téléservice and mode cells of a row)
    statements = [c for c in clauses(message.body) if len(c.split()) > 1 and not _date_only(c)]
    for clause in statements[:3]:
        if _CONDITIONAL_LEVEL.search(clause):
            continue
        if level := requalified_level(clause) or (
            find_level(clause) if _LEVEL_STATED.search(clause) else None
        ):
            return level, "opening words of the text"
    if level := _level_from_table(services, modes, statuses):
        return None, f"not stated by the message (the status table shows {level}: used if it opens an alert)"
    return None, "not stated"


def _bulletin_level(message: Message) -> tuple[str | None, str]:
    if level := requalified_level(f"{message.title}\n{message.body}"):
        return level, "a requalification in the bulletin"
    if level := find_level(message.title):
        return level, "title"
    return None, "not stated (the alert's level)"


def _dates(message: Message, kind: ItemKind) -> tuple[datetime | None, datetime | None, str]:
    """(published, updated, why): the first of these that gives a time — a publication label, the
    feed's date, a bulletin's title, a <time datetime>, a date opening the message, a line holding
    only a date, a date just before the title — else the first that gives a day."""
    text = f"{message.title}\n{message.body}\n" + "\n".join(message.labels)
    updated = parse_updated(text) or message.feed_updated
    day_only: tuple[datetime, str] | None = None
    for found, why in _date_sources(message, kind, text):
        if found is None:
            continue
        moment, timed = found
        if timed:
            return moment, updated, why
        day_only = day_only or (moment, why)
    if day_only is not None:
        moment, why = day_only
        clock = _TIME_LINE.search(text)
        if clock is not None:  # "Publié le : 09/03/2026" … "Heure : 14h15" in another cell
            local = moment.astimezone(PARIS).replace(
                hour=int(clock.group(1)), minute=int(clock.group(2) or 0)
            )
            return local.astimezone(UTC), updated, why + " with the time written apart"
        return moment, updated, why + " (a day, no time)"
    if updated is not None:
        return updated, updated, "update date"
    return None, None, "none found"


def _date_sources(
    message: Message, kind: ItemKind, text: str
) -> Iterator[tuple[tuple[datetime, bool] | None, str]]:
    """Where a message's date may be read, most telling first; each read only when asked."""
    labelled = find_published(text)
    yield ((labelled.at, labelled.has_time) if labelled else None), "publication label in the text"
    if message.feed_published is not None:
        yield (message.feed_published, True), "feed date"
    if kind is ItemKind.BULLETIN:
        titled = find_datetimes(message.title)
        yield ((titled[0].at, any(f.has_time for f in titled)) if titled else None), "bulletin title"
    if message.time_attr is not None:
        yield (message.time_attr, True), "<time datetime>"
    if kind is not ItemKind.PLANNED:  # a bare date at the very start ("03/12/26 - 10:32 ...")
        opening = next(iter(find_datetimes(message.title) or find_datetimes(message.body[:40])), None)
        yield ((opening.at, opening.has_time) if opening else None), "date at the start of the message"
    line = _date_line(message.body)
    yield ((line, True) if line else None), "a line of the message holding only its date"
    if message.date_before is not None:
        yield (message.date_before, True), "date before the title (or beside its link in the page's index)"


def _date_line(body: str) -> datetime | None:
    """A short line that is a date and time, perhaps with a relative one ("08/09/26 - 10:12",
    "17.02.2026 – 08h47 · il y a 5 minutes"): a card's detail line dates the card."""
    for line in body.split("\n"):
        line = line.strip(" ·•|–-")
        if len(line) > 60:
            continue
        found = find_datetimes(line)
        if not found or not found[0].has_time:
            continue
        covers = (found[0].end - found[0].start) >= 0.6 * len(line)
        if covers or (found[0].start <= 3 and _RELATIVE.fullmatch(line[found[0].end :].strip(" ·•|–-,"))):
            return found[0].at
    return None


_LEVEL_STATED = re.compile(r"\b(?:ALERTE|NIVEAU|ALERT|LEVEL)\b")
_CONDITIONAL_LEVEL = re.compile(r"\b(?:EN\s+CAS\s+D|SI|S\s?IL|IF|IN\s+CASE)\b")
_DATE_LABEL = re.compile(
    r"(?:DATE\s+DE\s+(?:PUBLICATION|MISE\s+A\s+JOUR)|PUBLIE\s+LE|MIS\s+A\s+JOUR\s+LE|DATE)\W*"
)


def _date_only(clause: str) -> bool:
    found = find_datetimes(clause.lower())
    return bool(found) and (found[0].end - found[0].start) >= 0.6 * len(clause)


_TIME_LINE = re.compile(
    r"(?im)^\W*(?:heure|horaire|time)\s*(?:de\s+publication)?\s*:?\s*(\d{1,2})\s*[h:]\s*(\d{2})?\b"
)
_RELATIVE = re.compile(
    r"(?:il\s+y\s+a\s+\d+\s*\w+|\d+\s*\w+\s+ago|\(heure\s+de\s+paris\)|heure\s+de\s+paris)?", re.I
)


def _without_dateline(body: str) -> str:
    """The message text without its "Publié le …" phrase (the date is kept as published_at)."""
    kept: list[str] = []
    for line in body.split("\n"):
        if DATELINE.match(line):
            found = find_datetimes(line)
            if found and found[0].start < 40:
                line = line[found[0].end :].lstrip(" .,:;–-/")
                if DATELINE.match(line):  # "Publié le … / Mis à jour le …" on one line
                    found = find_datetimes(line)
                    if found and found[0].start < 40:
                        line = line[found[0].end :].lstrip(" .,:;–-/")
        if line:
            kept.append(line)
    return "\n".join(kept).strip()


def _bulletin_parent(index: int, items: list[Item], nested: int | None) -> int | None:
    """The alert a bulletin belongs to: the alert it is nested in; else the alert naming the same
    téléservices (and modes, when it names some) — the latest published before it when the dates
    tell, else the nearest above it (or below, in a newest-first feed)."""
    if nested is not None and items[nested].kind is ItemKind.ALERT:
        return nested
    bulletin = items[index]
    alerts = [i for i, item in enumerate(items) if item.kind is ItemKind.ALERT]
    if bulletin.services:
        alerts = [i for i in alerts if set(items[i].services) & set(bulletin.services)]
        same_mode = [
            i for i in alerts if bulletin.modes and set(items[i].modes or MODES) & set(bulletin.modes)
        ]
        alerts = same_mode or alerts
    elif len(alerts) != 1:
        return None
    if not alerts:
        return None
    published = bulletin.published_at
    if published is not None:
        before = [i for i in alerts if (p := items[i].published_at) is not None and p <= published]
        if before:
            return max(before, key=lambda i: (items[i].published_at or published, -abs(i - index)))
    above = [i for i in alerts if i < index]
    return above[-1] if above else min(alerts, key=lambda i: abs(i - index))


def build(messages: list[Message], statuses: list[ServiceStatus], vocabulary: tuple[str, ...]) -> list[Item]:
    """The snapshot items of a page or feed, in its order (information without a date left out)."""
    items: list[Item] = []
    item_of: dict[int, int] = {}
    nested_in: dict[int, int | None] = {}
    for index, message in enumerate(messages):
        kind, kind_why = _kind(message)
        published, updated, date_why = _dates(message, kind)
        if kind is ItemKind.INFORMATION and published is None:
            continue  # a section heading, not a message
        services, services_why = _services(message, kind, vocabulary)
        # "Alerte rouge : le service est perturbé…" (a legend) or "Interventions programmées" over
        # a list (a section heading): no date, no téléservice, a bare title or no text of its own
        legend = (
            not services and published is None and (is_label_only(message.title) or not message.body.strip())
        )
        if kind is not ItemKind.INFORMATION and legend:
            continue  # "Alerte rouge : le service est perturbé…", no date, no service: a legend
        modes, modes_why = _modes(message, kind, services, statuses)
        level: str | None = None
        level_why = ""
        number = None
        if kind is ItemKind.ALERT:
            level, level_why = _alert_level(message, services, modes, statuses)
        elif kind is ItemKind.BULLETIN:
            number = _number(f"{message.title}\n{message.body}")
            level, level_why = _bulletin_level(message)
            parent = message.parent
            while parent is not None and parent not in item_of:
                parent = messages[parent].parent
            nested_in[len(items)] = item_of.get(parent) if parent is not None else None
        starts_at = ends_at = None
        cancelled = False
        if kind is ItemKind.PLANNED:
            window = parse_window(message.body) or parse_window(message.title)
            if window is not None:
                starts_at, ends_at = window.starts_at, window.ends_at
            cancelled = is_cancellation(message.title, message.body)
        item_of[index] = len(items)
        why = {
            "title": f"{message.title[:80]!r} from {message.where}",
            "kind": f"{kind.value}: {kind_why}",
            "date": f"{published.isoformat() if published else '–'}: {date_why}",
            "services": f"{', '.join(services) or '–'}: {services_why}",
            "modes": f"{', '.join(modes) or '–'}: {modes_why}",
        }
        if kind in (ItemKind.ALERT, ItemKind.BULLETIN):
            why["level"] = f"{level or '–'}: {level_why}"
        if kind is ItemKind.PLANNED:
            span = f"{starts_at.isoformat()} → {ends_at.isoformat()}" if starts_at and ends_at else "–"
            why["window"] = span + (" (withdrawn: the notice cancels it)" if cancelled else "")
        items.append(
            Item(
                kind=kind,
                services=services,
                modes=modes,
                title=message.title,
                text=_without_dateline(message.body),
                published_at=published,
                updated_at=updated,
                level=level,
                number=number,
                starts_at=starts_at,
                ends_at=ends_at,
                cancelled=cancelled,
                why=tuple(why.items()),
            )
        )
    for index, nested in nested_in.items():
        parent = _bulletin_parent(index, items, nested)
        if parent is None:
            continue
        bulletin, alert = items[index], items[parent]
        why = dict(bulletin.why)
        why["alert"] = f"item {parent + 1} ({alert.title[:60]!r})" + (
            " it is nested in" if parent == nested else ""
        )
        services, modes = bulletin.services, bulletin.modes
        if not services:
            services = alert.services
            why["services"] = f"{', '.join(services) or '–'}: the alert it belongs to"
        widens = (
            bool(modes)
            and set(modes) > set(alert.modes)
            and bool(alert.modes)
            and dict(bulletin.why).get("modes", "").endswith("title")
        )
        if widens:  # "BIP n°1 – NCTS-P5 – EDI et DTI" on an EDI alert: the BIP widens it
            why["modes"] += f" (wider than the alert's {', '.join(alert.modes)}: it widens it)"
        elif not modes or set(modes) - set(alert.modes):
            modes = alert.modes
            why["modes"] = f"{', '.join(modes) or '–'}: the alert it belongs to"
        items[index] = replace(
            bulletin, parent=parent, services=services, modes=modes, why=tuple(why.items())
        )
    return items
