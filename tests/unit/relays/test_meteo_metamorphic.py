"""Metamorphic tests: the same messages, in another markup or a mutated copy, give the same events.

Two families:

* every page of every fixture scenario, mutated in ways that keep its structure and its words —
  extra wrapper elements, other class names, whitespace and line breaks, characters written as
  entities, the messages' order reversed — must replay into the same events;
* one story (an interruption, an alert, two bulletins, a requalification, a fin) rendered through
  several layouts (flat headings, DSFR accordions, cards with badges, ``<details>``, a history
  table, RSS, Atom) must replay into the same events, and the calm page of each layout into none.

The events are compared on what a subscriber is told: kind, téléservices, modes, level, times and
bulletin number (ids and sources differ by construction).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from relays.events import Event, to_record
from relays.lifecycle import Failure, Prior, SourceState, observe
from relays.meteo import PageError, parse_page

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "meteo"
T0 = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


# -- replaying pages through the pure lifecycle ----------------------------------------------------
def replay(pages: list[bytes]) -> list[tuple[object, ...]]:
    """The events of polling ``pages`` in order, as what a subscriber reads (no ids, no sources)."""
    alerts: dict[str, object] = {}
    event_ids: set[str] = set()
    source = SourceState(name="meteo")
    told: list[tuple[object, ...]] = []
    for n, body in enumerate(pages):
        try:
            observation: object = parse_page(body, location=f"p{n}")
        except PageError as exc:
            observation = Failure(exc.reason)
        states = tuple(alerts.values())
        prior = Prior(
            source=source,
            open_alerts=tuple(a for a in states if a.status == "open"),  # type: ignore[attr-defined]
            known_alerts=states,  # type: ignore[arg-type]
            recent_closed=tuple(a for a in states if a.status == "closed"),  # type: ignore[attr-defined]
            known_event_ids=frozenset(event_ids),
        )
        outcome = observe(prior, observation, location=f"p{n}", now=T0 + timedelta(minutes=n))  # type: ignore[arg-type]
        alerts.update({a.id: a for a in outcome.alerts})
        event_ids |= {e.id for e in outcome.events}
        source = outcome.source
        told += [_told(n, e) for e in outcome.events]
    return told


def _told(page: int, event: Event) -> tuple[object, ...]:
    r = to_record(event)
    return (page, r["kind"], tuple(sorted(r["services"])), tuple(sorted(r["modes"])), r["level"],
            r["published_at"], r["starts_at"], r["ends_at"], r["number"], r["inferred"])  # fmt: skip


# -- mutations that keep the structure and the words -----------------------------------------------
def _tree(body: bytes) -> etree._Element:
    root = etree.fromstring(body, etree.HTMLParser(remove_comments=True))
    assert root is not None
    return root


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, method="html", encoding="utf-8")


def wrap_elements(body: bytes) -> bytes:
    """Every block in the page's main content wrapped in one more <div>."""
    root = _tree(body)
    for el in list(root.iter("p", "ul", "table", "section", "article")):
        parent = el.getparent()
        if parent is None:
            continue
        wrapper = etree.Element("div", {"class": "wrapper"})
        parent.replace(el, wrapper)
        wrapper.append(el)
        wrapper.tail, el.tail = el.tail, None
    return _serialise(root)


def rename_classes(body: bytes) -> bytes:
    """Class names of another framework: every class token becomes an opaque one (``c1a2b3``), the
    same token for the same name, so nothing can be read from what the classes say."""
    import hashlib

    root = _tree(body)
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("class"):
            tokens = (hashlib.sha1(c.encode()).hexdigest()[:6] for c in str(el.get("class")).split())
            el.set("class", " ".join(f"c{t}" for t in tokens))
    return _serialise(root)


def respace(body: bytes) -> bytes:
    """Line breaks and indentation between and around elements."""
    text = body.decode("utf-8")
    return re.sub(r">\s*<", ">\n   \n  <", text).encode("utf-8")


def entities(body: bytes) -> bytes:
    """Every non-ASCII character of the text written as a numeric character reference."""
    text = body.decode("utf-8")
    return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in text).encode("ascii")


MUTATIONS: dict[str, Callable[[bytes], bytes]] = {
    "wrapped": wrap_elements,
    "classes-renamed": rename_classes,
    "respaced": respace,
    "entities": entities,
}


def _utf8_html_scenarios() -> list[Path]:
    out = []
    for folder in sorted(p for p in FIXTURES.iterdir() if (p / "expected.json").exists()):
        pages = [p for p in folder.iterdir() if p.suffix == ".html"]
        if not pages or len(pages) != len([p for p in folder.iterdir() if p.name != "expected.json"]):
            continue  # feeds are XML: these mutations are for HTML
        try:
            for page in pages:
                page.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # 8-bit pages are covered by their own scenarios
        out.append(folder)
    return out


def _pages(folder: Path) -> list[bytes]:
    import json

    order = json.loads((folder / "expected.json").read_text(encoding="utf-8"))["order"]
    return [(folder / name).read_bytes() for name in order]


def _whole(body: bytes) -> bool:
    lowered = body[-4096:].lower()
    return bool(body.strip()) and (b"</html" in lowered or b"</body" in lowered)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("folder", _utf8_html_scenarios(), ids=lambda p: p.name)
def test_a_structure_preserving_mutation_changes_no_event(folder: Path, mutation: str) -> None:
    pages = _pages(folder)
    mutate = MUTATIONS[mutation]
    mutated = [mutate(p) if _whole(p) else p for p in pages]  # a truncated page stays truncated
    assert replay(mutated) == replay(pages)


# -- one story, many layouts ------------------------------------------------------------------------
@dataclass(frozen=True)
class Msg:
    kind: str  # "alert" | "bip" | "fin" | "planned"
    title: str  # without the level
    level: str  # "" | "rouge" | "noire"
    at: datetime  # Paris wall-clock time
    text: str
    number: int = 0


def _story() -> list[list[Msg]]:
    """Pages in polling order: calm, alert + planned interruption, BIP 1, BIP 2 (requalified), fin."""
    alert = Msg(
        "alert",
        "ALERTE – DELTA X Import – EDI",
        "rouge",
        datetime(2027, 3, 9, 10, 32),
        "Le CID constate que les déclarations DELTA X Import transmises en EDI ne sont pas validées. "
        "Le mode DTI n'est pas impacté.",
    )
    planned = Msg(
        "planned",
        "Interruption programmée – DELTA T",
        "",
        datetime(2027, 3, 8, 16, 0),
        "Le téléservice DELTA T sera interrompu le samedi 13 mars 2027 de 20h00 à 23h30, en EDI comme en DTI.",
    )
    bip1 = Msg("bip", "BIP n°1 – DELTA X Import – EDI", "", datetime(2027, 3, 9, 11, 45),
               "Les équipes du CID poursuivent leurs analyses.", 1)  # fmt: skip
    bip2 = Msg("bip", "BIP n°2 – DELTA X Import – EDI", "", datetime(2027, 3, 9, 13, 15),
               "L'alerte rouge est requalifiée en alerte noire : aucune déclaration n'est traitée.", 2)  # fmt: skip
    fin = Msg("fin", "FIN D'ALERTE – DELTA X Import – EDI", "", datetime(2027, 3, 9, 16, 5),
              "Les déclarations transmises en EDI sont de nouveau validées.")  # fmt: skip
    return [
        [],
        [alert, planned],
        [alert, bip1, planned],
        [alert, bip1, bip2, planned],
        [fin, alert, bip1, bip2],
    ]


def _fr(at: datetime) -> str:
    return at.strftime("%d/%m/%Y à %Hh%M")


def _page(body: str) -> bytes:
    chrome = '<header><nav><a href="/">Accueil</a> <a href="/meteo">Météo</a></nav></header>'
    calm = "" if body else "<p>Aucune alerte en cours. Tous les services en ligne sont disponibles.</p>"
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Météo</title></head><body>{chrome}'
        f"<main><h1>Météo des services en ligne</h1><h2>Messages en cours</h2>{calm}{body}</main>"
        "<footer><p>DGDDI</p></footer></body></html>"
    ).encode()


def _titled(m: Msg) -> str:
    return m.title.replace("ALERTE –", f"ALERTE {m.level.upper()} –") if m.level else m.title


def flat(messages: list[Msg]) -> bytes:
    """Headings and paragraphs; bulletins as lower headings under their alert."""
    out = []
    for m in messages:
        if m.kind == "bip":
            continue
        out.append(
            f"<h3>{html.escape(_titled(m))}</h3><p>Publié le {_fr(m.at)}</p><p>{html.escape(m.text)}</p>"
        )
        if m.kind == "alert":
            for b in (b for b in messages if b.kind == "bip"):
                out.append(
                    f"<h4>{html.escape(b.title)}</h4><p>Publié le {_fr(b.at)}</p><p>{html.escape(b.text)}</p>"
                )
    return _page("".join(out))


def accordion(messages: list[Msg]) -> bytes:
    """DSFR accordions: the title in a button, the level as a badge, bulletins as callouts, and the
    publication date written after the bulletins."""
    out = []
    for n, m in enumerate(m for m in messages if m.kind != "bip"):
        badge = f'<p class="fr-badge fr-badge--error">Alerte {m.level}</p>' if m.level else ""
        bips = "".join(
            f'<div class="fr-callout"><h4 class="fr-callout__title">{html.escape(b.title)}</h4>'
            f'<p class="fr-callout__text">{html.escape(b.text)}</p><p>Publié le {_fr(b.at)}</p></div>'
            for b in messages
            if b.kind == "bip" and m.kind == "alert"
        )
        out.append(
            f'<section class="fr-accordion"><h3 class="fr-accordion__title"><button class="fr-accordion__btn" '
            f'aria-expanded="true" aria-controls="a{n}">{html.escape(m.title)}</button></h3>'
            f'<div class="fr-collapse" id="a{n}">{badge}<p>{html.escape(m.text)}</p>{bips}'
            f"<p>Date de publication : {_fr(m.at)}</p></div></section>"
        )
    return _page('<div class="fr-accordions-group">' + "".join(out) + "</div>")


def cards(messages: list[Msg]) -> bytes:
    """Cards with the level badge above the title and the date in the footer; bulletins as cards."""
    out = []
    for m in messages:
        badge = f'<p class="fr-badge">Alerte {m.level}</p>' if m.level else ""
        out.append(
            f'<div class="fr-card"><div class="fr-card__body"><div class="fr-card__content">{badge}'
            f'<h3 class="fr-card__title">{html.escape(m.title)}</h3><p class="fr-card__desc">'
            f'{html.escape(m.text)}</p><p class="fr-card__detail">{m.at.strftime("%d/%m/%y - %H:%M")}</p>'
            "</div></div></div>"
        )
    return _page('<div class="fr-grid-row">' + "".join(out) + "</div>")


def details(messages: list[Msg]) -> bytes:
    """<details>/<summary>, bulletins nested in their alert, long French dates."""
    months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ]

    def when(at: datetime) -> str:
        return f"{at.day} {months[at.month - 1]} {at.year} à {at.hour} h {at.minute:02d}"

    out = []
    for m in messages:
        if m.kind == "bip":
            continue
        inner = "".join(
            f"<details><summary>{html.escape(b.title)}</summary><p>Publié le {when(b.at)}</p>"
            f"<p>{html.escape(b.text)}</p></details>"
            for b in messages
            if b.kind == "bip" and m.kind == "alert"
        )
        out.append(
            f"<details open><summary>{html.escape(_titled(m))}</summary><p>Publié le {when(m.at)}</p>"
            f"<p>{html.escape(m.text)}</p>{inner}</details>"
        )
    return _page("".join(out))


def history_table(messages: list[Msg]) -> bytes:
    """One table row per message: the date in its own cell, a bold title opening the message cell."""
    rows = "".join(
        f"<tr><td>{m.at.strftime('%d/%m/%Y %H:%M')}</td><td><b>{html.escape(_titled(m))}</b> : "
        f"{html.escape(m.text)}</td></tr>"
        for m in messages
    )
    table = f"<table><tr><th>Date</th><th>Message</th></tr>{rows}</table>" if rows else ""
    return _page(table)


def rss(messages: list[Msg]) -> bytes:
    """The feed: newest first, one item per message, bulletins standalone."""
    from email.utils import format_datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    items = "".join(
        f"<item><title>{html.escape(_titled(m))}</title><guid>{hash(m.title) & 0xFFFF}-{m.number}</guid>"
        f"<pubDate>{format_datetime(m.at.replace(tzinfo=paris))}</pubDate>"
        f"<description>{html.escape('<p>' + html.escape(m.text) + '</p>')}</description></item>"
        for m in sorted(messages, key=lambda m: m.at, reverse=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Météo des services en ligne'
        f"</title><link>https://www.douane.gouv.fr/meteo</link><description>SAU</description>{items}</channel></rss>"
    ).encode()


def timeline(messages: list[Msg]) -> bytes:
    """Alerts in the main column; their bulletins in a side timeline under a section heading, each
    entry's date line written before its bold title."""
    main = "".join(
        f"<article><h3>{html.escape(_titled(m))}</h3><p>Publié le {_fr(m.at)}</p><p>{html.escape(m.text)}</p>"
        "</article>"
        for m in messages
        if m.kind != "bip"
    )
    entries = "".join(
        f'<li><p class="date">{m.at.strftime("%d/%m/%Y à %Hh%M")}</p><p class="fr-text--bold">{html.escape(m.title)}'
        f"</p><p>{html.escape(m.text)}</p></li>"
        for m in sorted((m for m in messages if m.kind == "bip"), key=lambda m: m.at, reverse=True)
    )
    side = f"<aside><h3>Chronologie des bulletins</h3><ol>{entries}</ol></aside>" if entries else ""
    return _page(f"<div>{main}</div>{side}")


_REPRODUCED = (
    "Ce message est reproduit à l'identique de la publication du service d'assistance aux utilisateurs, "
    "pour l'information des déclarants et de leurs prestataires habilités."
)


def quotes(messages: list[Msg]) -> bytes:
    """Each message quoted in a DSFR fr-quote: its title and text inside the quote, its dates in the
    figure's caption beside it."""
    out = []
    for m in sorted(messages, key=lambda m: m.at, reverse=True):
        out.append(
            f'<figure class="fr-quote"><blockquote><p><strong>{html.escape(_titled(m))}</strong></p>'
            f"<p>{html.escape(m.text)}</p><p>{_REPRODUCED}</p></blockquote>"
            '<figcaption><p class="fr-quote__author">SAU du CID</p><ul class="fr-quote__source">'
            f"<li><cite>Météo des services en ligne</cite></li><li>Publié le {_fr(m.at)}</li></ul>"
            "</figcaption></figure>"
        )
    return _page("".join(out))


def text_version(messages: list[Msg]) -> bytes:
    """The accessible "version texte": plain paragraphs, one message after another, separated by
    horizontal rules; titles are ordinary paragraphs."""
    out = "".join(
        f"<p>{html.escape(_titled(m))}</p><p>Publié le {_fr(m.at)}</p><p>{html.escape(m.text)}</p><hr>"
        for m in sorted(messages, key=lambda m: m.at, reverse=True)
    )
    return _page(f"<hr><div id='messages'>{out}</div>" if out else "")


def posts(messages: list[Msg]) -> bytes:
    """A provider's social-media relay: each post opens with the title as its first line, a line
    break, then who published it and when, the SAU's text quoted, and hashtags."""
    out = "".join(
        f'<article class="status"><div class="status__content"><p>📢 {html.escape(_titled(m))}<br>'
        f"Message publié par le SAU du CID le {_fr(m.at)} :</p><p>« {html.escape(m.text)} »</p>"
        '<p><a href="/tags/douane">#douane</a></p></div></article>'
        for m in sorted(messages, key=lambda m: m.at, reverse=True)
    )
    return _page(out)


def indexed(messages: list[Msg]) -> bytes:
    """Undated messages with anchors; their dates only in a side "Chronologie" table linking to them."""
    ordered = sorted(messages, key=lambda m: m.at, reverse=True)
    main = "".join(
        f'<div class="meteo-message" id="m{i}"><h3>{html.escape(_titled(m))}</h3><p>{html.escape(m.text)}</p></div>'
        for i, m in enumerate(ordered)
    )
    rows = "".join(
        f'<tr><td>{_fr(m.at)}</td><td><a href="#m{i}">{html.escape(_titled(m))}</a></td></tr>'
        for i, m in enumerate(ordered)
    )
    side = f"<aside><table><caption>Chronologie</caption>{rows}</table></aside>" if rows else ""
    return _page(f"<div>{main}</div>{side}")


LAYOUTS: dict[str, Callable[[list[Msg]], bytes]] = {
    "text-version": text_version,
    "posts": posts,
    "indexed": indexed,
    "quotes": quotes,
    "timeline": timeline,
    "flat": flat,
    "dsfr-accordion": accordion,
    "cards": cards,
    "details": details,
    "history-table": history_table,
    "rss": rss,
}


def test_the_same_story_in_every_layout_gives_the_same_events() -> None:
    told = {name: replay([render(page) for page in _story()]) for name, render in LAYOUTS.items()}
    reference = told["flat"]
    kinds = [event[1] for event in reference]
    assert kinds == [
        "alert_opened", "interruption_planned", "bulletin", "alert_updated", "bulletin", "alert_closed"
    ], reference  # fmt: skip
    for name, events in told.items():
        assert events == reference, f"{name} differs from the flat layout"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_calm_page_in_every_layout_says_nothing(layout: str) -> None:
    assert replay([LAYOUTS[layout]([]), LAYOUTS[layout]([])]) == []


_HELP = [
    ("Que signifie une alerte rouge ?", "Par exemple, DELTA G fonctionne en EDI avec des délais importants."),
    ("Que signifie une alerte noire ?", "Par exemple, ECS est indisponible en EDI et en DTI."),
    ("Qu'est-ce qu'un BIP ?", "Un bulletin d'information périodique fait le point sur l'incident en cours."),
    ("What does an end of alert mean for DELTA IE?", "The service is available again in EDI and DTI."),
]
_ARCHIVE = [
    "ALERTE – DELTA G – EDI (22/09/2026)",
    "BIP n°1 – DELTA G – EDI (22/09/2026)",
    "FIN D'ALERTE – DELTA G – EDI (22/09/2026)",
    "ALERTE NOIRE – ECS – EDI et DTI (29/09/2026)",
]


@pytest.mark.parametrize("wrap", ["accordion", "details", "headings"])
def test_help_questions_and_archive_links_open_nothing(wrap: str) -> None:
    """A calm page explaining the levels with examples, and listing links to past messages, is
    calm: a question is not a message and a link to an old message is not a status."""

    def question(title: str, text: str) -> str:
        if wrap == "accordion":
            return (
                f'<section class="fr-accordion"><h3 class="fr-accordion__title"><button class="fr-accordion__btn">'
                f'{html.escape(title)}</button></h3><div class="fr-collapse"><p>{html.escape(text)}</p></div></section>'
            )
        if wrap == "details":
            return f"<details><summary>{html.escape(title)}</summary><p>{html.escape(text)}</p></details>"
        return f"<h3>{html.escape(title)}</h3><p>{html.escape(text)}</p>"

    links = "".join(f'<li><a href="/meteo/message/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(_ARCHIVE))
    body = (
        f"<h2>Archives des messages</h2><ul>{links}</ul>"
        f"<h2>Questions fréquentes</h2>{''.join(question(t, x) for t, x in _HELP)}"
    )
    page = _page(f"<p>Aucune alerte en cours.</p>{body}")
    assert replay([page, page]) == []
