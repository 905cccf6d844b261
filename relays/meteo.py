"""Everything we know about the météo des téléservices page, in one module.

The page's markup is not guaranteed and changes over time, so the parser leans on the meaning of
the text rather than on CSS classes: a message is a heading (or a bold title) followed by its
text; what it is comes from its words ("fin d'alerte", "BIP n°", "interruption programmée",
"alerte"); the téléservices from the alias table in ``knowledge.services``; the dates from
French date formats (``dates.py``). The status table is found by its content (service names in
rows, EDI/DTI in the header, words like "Disponible"/"Indisponible" in cells).

A page that is empty, truncated, a maintenance or captcha page, or simply unrecognisable raises
:class:`PageError`; it never becomes a snapshot, so it can never close an alert.
RSS/Atom feeds of the same messages are read with feedparser into the same snapshot.
"""

from __future__ import annotations

import re
from calendar import timegm
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import islice

import feedparser
from bs4 import BeautifulSoup
from bs4.dammit import UnicodeDammit
from lxml import etree
from lxml.etree import _Element as HtmlElement  # lxml ships no type stubs: this is Any to mypy

from knowledge.services import find_services, fold

from .dates import DATE_RE, PARIS, find_datetimes, parse_datetime, parse_published, parse_window
from .snapshot import MODES, Item, ItemKind, ServiceState, ServiceStatus, Snapshot


class PageError(Exception):
    """The page cannot be trusted as a picture of the services. ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --- words -----------------------------------------------------------------------------------
# All patterns run on folded text (upper case, no accents, punctuation between letters as spaces).
_END = re.compile(
    r"\bFIN\s+D\s?ALERTE\b|\bFIN\s+DE\s+L\s?ALERTE\b|\bCLOTURE\s+DE\s+L\s?ALERTE\b|\bLEVEE\s+DE\s+L\s?ALERTE\b"
    r"|\bRETOUR\s+A\s+LA\s+NORMALE\b|\bEND\s+OF\s+ALERT\b|\bLEVEE\s+D\s?ALERTE\b"
    r"|\bALERTE\s+(?:LEVEE|CLOTUREE|TERMINEE)\b|\bFIN\s+DE\s+L\s?INCIDENT\b|\bINCIDENT\s+(?:CLOS|RESOLU|TERMINE)\b"
    r"|\bSERVICES?\s+(?:EN\s+LIGNE\s+)?RETABLIS?\b"
)
_BULLETIN = re.compile(r"\bBIP\b|\bBULLETIN\b")
_PLANNED = re.compile(
    r"\b(?:INTERRUPTION|INDISPONIBILITE|ARRET|COUPURE|INTERVENTION|MAINTENANCE|OPERATION)S?\s+"
    r"(?:\w+\s+){0,3}?(?:PROGRAMMEE?S?|PREVUES?|PLANIFIEES?)\b"
    r"|\bMAINTENANCE\s+PROGRAMMEE\b|\bOPERATION\s+(?:TECHNIQUE\s+)?DE\s+MAINTENANCE\b"
)
_FUTURE = re.compile(r"\bSERA\b|\bSERONT\b|\bPREVUE?S?\b|\bPROGRAMMEE?S?\b|\bPLANIFIEE?S?\b|\bAURA\s+LIEU\b")
_ALERT = re.compile(
    r"\bALERTE\b|\bINCIDENT\b|\bDYSFONCTIONNEMENTS?\b|\bINDISPONIB\w*|\bPANNE\b|\bPERTURBATIONS?\b"
    r"|\bINTERRUPTION\b"
)
_NUMBER = re.compile(
    r"(?:\bBIP\b|\bBULLETIN\b)[^\n]{0,80}?(?:\bN\s*[°º]|\bNO\b|\bNUMERO\b|#)\s*(\d{1,4})\b"
    r"|\bBIP\s*#?\s*(\d{1,4})\b"
)
_BLACK = re.compile(r"\bNOIRE?\b|\bBLACK\b")
_RED = re.compile(r"\bROUGE\b|\bRED\b")
_EDI = re.compile(r"\bEDI\b")
_DTI = re.compile(r"\bDTI\+?|\bPORTAIL\b|\bWEB\b")
_ALL_MODES = re.compile(
    r"\bTOUS\s+(?:LES\s+)?MODES\b|\bEDI\s+COMME\s+EN\s+DTI\b|\bEDI\s+ET\s+(?:EN\s+)?DTI\b"
)
_ALL_CLEAR = re.compile(
    r"\bAUCUNE\s+ALERTE\b|\bAUCUN\s+INCIDENT\b|\bTOUS\s+LES\s+SERVICES\s+(?:EN\s+LIGNE\s+)?SONT\s+DISPONIBLES\b"
)
_MAINTENANCE_PAGE = re.compile(
    r"\bSITE\s+(?:EN|SOUS)\s+MAINTENANCE\b|\bEN\s+COURS\s+DE\s+MAINTENANCE\b|\bSERVICE\s+UNAVAILABLE\b"
    r"|\bUNDER\s+MAINTENANCE\b|\bTEMPORAIREMENT\s+INDISPONIBLE\b|\bMAINTENANCE\s+EN\s+COURS\b"
)
_CAPTCHA_PAGE = re.compile(
    r"CAPTCHA|\bROBOT\b|\bACCESS\s+DENIED\b|\bACCES\s+REFUSE\b|\bCLOUDFLARE\b|\bVERIFY\s+YOU\s+ARE\s+HUMAN\b"
    r"|\bVERIFIER\s+QUE\s+VOUS\s+ETES\b|\bJAVASCRIPT\s+(?:IS\s+)?REQUIRED\b|\bINCAPSULA\b|\bREQUEST\s+BLOCKED\b"
)

_STATE_WORDS: tuple[tuple[re.Pattern[str], ServiceState], ...] = (
    (
        re.compile(r"\bINDISPONIBLE\b|\bINTERROMPU|\bHORS\s+SERVICE\b|\bPANNE\b|\bARRET\b|\bNOIR"),
        ServiceState.DOWN,
    ),
    (re.compile(r"\bMAINTENANCE\b|\bPROGRAMME"), ServiceState.PLANNED),
    (
        re.compile(r"\bALERTE\b|\bPERTURB|\bDEGRADE|\bRALENTI|\bINCIDENT|\bPARTIEL|\bROUGE\b|\bORANGE\b"),
        ServiceState.ALERT,
    ),
    (
        re.compile(r"\bDISPONIBLE\b|\bOPERATIONNEL|\bNORMAL|\bOK\b|\bFONCTIONNE|\bVERT\b|\bGREEN\b"),
        ServiceState.OK,
    ),
)
_STATE_CLASSES: tuple[tuple[str, ServiceState], ...] = (
    ("noir", ServiceState.DOWN),
    ("black", ServiceState.DOWN),
    ("down", ServiceState.DOWN),
    ("rouge", ServiceState.ALERT),
    ("red", ServiceState.ALERT),
    ("orange", ServiceState.ALERT),
    ("warn", ServiceState.ALERT),
    ("vert", ServiceState.OK),
    ("green", ServiceState.OK),
    ("ok", ServiceState.OK),
)

_TITLE_CLASS = re.compile(r"title|titre|heading|header|entete|en-tete|intitule", re.IGNORECASE)
_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_PSEUDO_HEADING_TAGS = {"strong", "b", "summary", "dt", "legend", "caption"}
_DROPPED_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "svg",
    "form",
    "button",
    "select",
    "iframe",
)
_PAGE_CHROME = ("header", "footer")  # dropped only at page level: inside a message they hold its date
_BLOCK_TAGS = {
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "section",
    "article",
    "br",
    "tr",
    "td",
    "th",
    "table",
    "dd",
    "dt",
    "header",
    "main",
    "aside",
    "blockquote",
    "pre",
    "details",
    "summary",
    "figure",
    "figcaption",
} | set(_HEADING_TAGS)


def classify(title: str, body: str = "") -> ItemKind:
    """What a message is, from its title first and, if the title says nothing, its opening words."""
    t = fold(title)
    if _NUMBER.search(t):  # "BIP n°3 – Rétablissement en cours" is a bulletin, whatever it announces
        return ItemKind.BULLETIN
    if _END.search(t):
        return ItemKind.END
    if _BULLETIN.search(t):
        return ItemKind.BULLETIN
    if _PLANNED.search(t):
        return ItemKind.PLANNED
    b = fold(body)
    if _ALERT.search(t):
        # "Interruption des téléservices le 8 août" with a body in the future tense is a notice.
        if not re.search(r"\bALERTE\b", t) and _FUTURE.search(b) and parse_window(body) is not None:
            return ItemKind.PLANNED
        return ItemKind.ALERT
    if _END.search(b[:60]):
        return ItemKind.END
    if _PLANNED.search(b) and parse_window(body) is not None:
        return ItemKind.PLANNED
    if _NUMBER.search(b[:200]):
        return ItemKind.BULLETIN
    if re.search(r"\bALERTE\b", b[:200]):
        return ItemKind.ALERT
    return ItemKind.INFORMATION


def find_modes(text: str) -> tuple[str, ...]:
    """EDI and/or DTI as named in the text (empty when it names neither)."""
    f = fold(text)
    if _ALL_MODES.search(f):
        return MODES
    return tuple(m for m, rx in (("EDI", _EDI), ("DTI", _DTI)) if rx.search(f))


def find_level(text: str) -> str | None:
    f = fold(text)
    if _BLACK.search(f):
        return "black"
    if _RED.search(f):
        return "red"
    return None


def bulletin_number(text: str) -> int | None:
    m = _NUMBER.search(fold(text))
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def _text(el: HtmlElement) -> str:
    return _clean(" ".join(el.itertext()))


def _drop(el: HtmlElement) -> None:
    """Remove an element but keep the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _tag(el: HtmlElement) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


# --- tokens ----------------------------------------------------------------------------------
# The page is flattened into a stream of headings and texts in reading order; each text knows the
# element that holds it, so a heading's message can stop at the end of the element it titles.
@dataclass(slots=True)
class _Heading:
    level: int
    text: str
    node: HtmlElement
    container: HtmlElement | None


@dataclass(slots=True)
class _Text:
    text: str
    owner: HtmlElement | None  # None for a line break


@dataclass(slots=True)
class _Time:
    value: str
    owner: HtmlElement


_BREAK = _Text("\n", None)


def _is_pseudo_heading(el: HtmlElement) -> bool:
    """A bold title that reads like a message title and starts its block (CMS pages without <hN>)."""
    tag = _tag(el)
    if el.get("role") != "heading":
        if tag in ("div", "span", "p"):
            # A generic box is a title only when it says so: CMS title/header classes
            # ("card-header", "fr-notice__title", "titre") — never a body paragraph that starts
            # with "Alerte …". Checked first: it is cheap, and most boxes are not titles.
            if not _TITLE_CLASS.search(str(el.get("class") or "")):
                return False
        elif tag not in _PSEUDO_HEADING_TAGS:
            return False
    text = _text(el)
    if not text or len(text) > 160:
        return False
    if el.get("role") == "heading":
        return True
    if classify(text) is ItemKind.INFORMATION:
        return False
    if tag in ("div", "span", "p"):
        return True
    if tag in ("dt", "summary", "legend", "caption"):  # title elements by nature
        return True
    # It must start its block, or at least a line: nothing but a <br> between it and earlier text.
    parent = el.getparent()
    if parent is None:
        return False
    for sibling in el.itersiblings(preceding=True):
        if (sibling.tail or "").strip():
            return False
        if _tag(sibling) == "br":
            return True
        if isinstance(sibling.tag, str) and _text(sibling):
            return False
    return not (parent.text or "").strip()


def _container(el: HtmlElement) -> HtmlElement | None:
    """The element a heading titles: the first ancestor holding more than the heading itself.

    ``<article><h3>…</h3><p>…</p></article>`` gives the article; a CMS title wrapped in
    ``<div><span><strong>…</strong></span></div>`` climbs the wrappers to the message's row.
    """
    child = el
    parent = el.getparent()
    while parent is not None:
        if _tag(parent) in ("body", "main", "html"):
            return None  # flat page: the heading's text runs until the next heading
        wraps_only = len(parent) == 1 and not (parent.text or "").strip() and not (child.tail or "").strip()
        if not wraps_only:
            return parent
        child, parent = parent, parent.getparent()
    return None


def _tokens(root: HtmlElement, skip: set[HtmlElement]) -> list[_Heading | _Text | _Time]:
    out: list[_Heading | _Text | _Time] = []

    def walk(el: HtmlElement) -> None:
        for child in el:
            tag = _tag(child)
            if tag and child not in skip:
                level = _HEADING_TAGS.get(tag)
                if (
                    level is None
                    and tag in _PSEUDO_HEADING_TAGS | {"div", "span", "p"}
                    and _is_pseudo_heading(child)
                ):
                    level = 7
                if level is not None:
                    out.append(_Heading(level, _text(child), child, _container(child)))
                else:
                    if tag in _BLOCK_TAGS:
                        out.append(_BREAK)
                    if tag == "time" and child.get("datetime"):
                        out.append(_Time(str(child.get("datetime")), child))
                    if child.text and child.text.strip():
                        out.append(_Text(child.text, child))
                    walk(child)
                    if tag in _BLOCK_TAGS:
                        out.append(_BREAK)
            if child.tail and child.tail.strip():
                out.append(_Text(child.tail, el))

    if root.text and root.text.strip():
        out.append(_Text(root.text, root))
    walk(root)
    return out


# --- status table ----------------------------------------------------------------------------
def _cell_state(cell: HtmlElement) -> tuple[ServiceState, str]:
    label = _text(cell) or str(cell.get("title") or cell.get("aria-label") or "")
    if not label:
        for img in cell.iter("img"):
            label = str(img.get("alt") or img.get("title") or "")
            if label:
                break
    folded = fold(label)
    for rx, state in _STATE_WORDS:
        if rx.search(folded):
            return state, label
    classes = str(cell.get("class") or "").lower()
    for word, state in _STATE_CLASSES:
        if word in classes:
            return state, label
    return ServiceState.UNKNOWN, label


def _status_tables(root: HtmlElement) -> tuple[list[ServiceStatus], set[HtmlElement]]:
    statuses: list[ServiceStatus] = []
    tables: set[HtmlElement] = set()
    for table in root.iter("table"):
        rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")  # not the rows of nested tables
        if len(rows) < 2:
            continue
        header_modes = [find_modes(_text(h)) for h in rows[0] if _tag(h) in ("th", "td")]
        found: list[ServiceStatus] = []
        for row in rows[1:]:
            cells = [c for c in row if _tag(c) in ("th", "td")]
            if len(cells) < 2:
                continue
            services = find_services(_text(cells[0]))
            if not services:
                continue
            for index, cell in enumerate(cells[1:], start=1):
                state, label = _cell_state(cell)
                if state is ServiceState.UNKNOWN:
                    continue
                modes = header_modes[index] if index < len(header_modes) and header_modes[index] else MODES
                found.extend(
                    ServiceStatus(service, mode, state, label) for service in services for mode in modes
                )
        if len({s.service for s in found}) >= 2:
            tables.add(table)
            statuses.extend(found)
    return statuses, tables


# --- messages --------------------------------------------------------------------------------
@dataclass(slots=True)
class _Block:
    heading: _Heading
    kind: ItemKind
    texts: list[str]
    body: str = ""
    time: str | None = None
    ancestors: frozenset[int] = frozenset()  # ids of the heading's ancestors


def _inside(owner: HtmlElement, container: HtmlElement) -> bool:
    if owner is container:
        return True
    return any(a is container for a in owner.iterancestors())


def _blocks(tokens: list[_Heading | _Text | _Time]) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for token in tokens:
        if isinstance(token, _Heading):
            current = _Block(
                token,
                ItemKind.INFORMATION,
                [],
                ancestors=frozenset(id(a) for a in token.node.iterancestors()),
            )
            blocks.append(current)
        elif current is not None:
            container = current.heading.container
            if token.owner is None or container is None or _inside(token.owner, container):
                if isinstance(token, _Time):
                    current.time = current.time or token.value
                else:
                    current.texts.append(token.text)
    expanded: list[_Block] = []
    for block in blocks:
        block.body = _body(block)
        block.kind = classify(block.heading.text, block.body)
        for part in _dated_paragraphs(block) or [block]:
            expanded.extend(_bulletin_lines(part) if part.kind is ItemKind.ALERT else [part])
    return expanded


_BULLETIN_LINE = re.compile(
    r"^\W*(?:BIP\b|BULLETIN\b[^\n]{0,60}?(?:\bN\s*[°º]|#)\s*\d|BULLETIN\s+D\s?INFORMATION)"
)


def _bulletin_lines(block: _Block) -> list[_Block]:
    """An alert whose text lists its BIPs as lines ("BIP n°1 publié le …") holds one message each."""
    lines = block.body.split("\n")
    starts = [i for i, line in enumerate(lines) if i > 0 and _BULLETIN_LINE.match(fold(line))]
    if not starts:
        return [block]
    own = _Block(
        block.heading,
        block.kind,
        [],
        body="\n".join(lines[: starts[0]]),
        time=block.time,
        ancestors=block.ancestors,
    )
    parts = [own]
    container = block.heading.container
    inside = block.ancestors | ({id(container)} if container is not None else set())
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        heading = _Heading(block.heading.level + 1, lines[start], block.heading.node, container)
        parts.append(
            _Block(
                heading,
                ItemKind.BULLETIN,
                [],
                body="\n".join(lines[start + 1 : end]),
                ancestors=frozenset(inside),
            )
        )
    return parts


_DATE_LED = re.compile(rf"^\s*(?:le\s+|du\s+)?(?:{DATE_RE})", re.IGNORECASE)


def _dated_paragraphs(block: _Block) -> list[_Block]:
    """Messages written as lines under one section heading ("Messages du SAU").

    A section heading that is not itself a message holds one message per line that starts with a
    date ("03/12/2026 10h32 : ALERTE …"), or per short title line followed by its date line
    ("ALERTE – GAMMA – DTI<br>Publié le …<br>…"), each with the lines after it.
    """
    title = block.heading.text
    if classify(title) is not ItemKind.INFORMATION or parse_datetime(title) is not None:
        return []
    groups: list[list[str]] = []
    lines = block.body.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        dated_next = bool(_DATELINE.match(following) or _DATE_LED.match(following))
        if len(line) <= 100 and dated_next and classify(line) is not ItemKind.INFORMATION:
            groups.append([line, following])  # a title, then its date line
            index += 2
            continue
        if _DATE_LED.match(line):
            groups.append([line])
        elif groups:
            groups[-1].append(line)
        index += 1
    messages = []
    for lines in groups:
        head, rest = lines[0], "\n".join(lines[1:])
        kind = classify(head, rest)
        if kind is ItemKind.INFORMATION:
            continue
        heading = _Heading(block.heading.level, head, block.heading.node, block.heading.container)
        messages.append(_Block(heading, kind, [], body=rest, ancestors=block.ancestors))
    return messages


def _body(block: _Block) -> str:
    lines = [_clean(line) for line in "".join(block.texts).split("\n")]
    return "\n".join(line for line in lines if line)


def _time_attr(block: _Block) -> datetime | None:
    if block.time is None:
        return None
    try:
        moment = datetime.fromisoformat(block.time.replace("Z", "+00:00"))
    except ValueError:
        return parse_datetime(block.time)
    return _as_utc(moment)


def _as_utc(moment: datetime) -> datetime:
    """A <time datetime> value: with an offset, that instant; without one, Paris wall-clock time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=PARIS).astimezone(UTC)
    return moment.astimezone(UTC)


def _published(kind: ItemKind, title: str, body: str, block: _Block) -> datetime | None:
    published = parse_published(f"{title}\n{body}")
    if published is not None:
        return published
    if kind is ItemKind.BULLETIN and (moment := parse_datetime(title)) is not None:
        return moment
    if (moment := _time_attr(block)) is not None:
        return moment
    if kind is not ItemKind.PLANNED:
        # A bare date at the very start of the message is its date ("03/12/26 - 10:32 ...").
        moment = parse_datetime(title) or parse_datetime(body[:40])
        if moment is not None:
            return moment
    return _date_before(block)


def _date_before(block: _Block) -> datetime | None:
    """A date written just before the title (timelines: "<div>12/02 14h20</div><h4>Alerte…</h4>"),
    or in another cell of the title's table row (history tables: Date | Service | Message)."""
    near = islice(block.heading.node.iterancestors(), 5)
    row = next((a for a in near if _tag(a) == "tr"), None)
    if row is not None:
        for cell in row:
            if _tag(cell) not in ("td", "th") or block.heading.node in cell.iterdescendants():
                continue
            text = _text(cell)
            found = find_datetimes(text) if len(text) <= 60 else []
            if found and found[0].has_time:
                return found[0].at
    container = block.heading.container
    for node in (block.heading.node, container):
        if node is None:
            continue
        prev = node.getprevious()
        if prev is None or not isinstance(prev.tag, str):
            continue
        if sum(1 for _ in islice(prev.iter(), 12)) >= 12:
            continue  # a whole section, not a date label: not worth reading
        for tag in prev.iter("time"):
            value = tag.get("datetime")
            if value:
                try:
                    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                except ValueError:
                    continue
                return _as_utc(moment)
        text = _text(prev)
        found = find_datetimes(text)
        if text and len(text) <= 80 and found and (found[0].end - found[0].start) >= 0.4 * len(text):
            return found[0].at if found[0].has_time else None
    return None


def _items(blocks: list[_Block], statuses: list[ServiceStatus]) -> list[Item]:
    items: list[Item] = []
    block_item: dict[int, int] = {}
    for index, block in enumerate(blocks):
        title = block.heading.text
        body = block.body
        kind = block.kind
        published = _published(kind, title, body, block)
        if kind is ItemKind.INFORMATION and published is None:
            continue  # a section heading, not a message
        services = tuple(find_services(title)) or tuple(find_services(body))
        if kind is ItemKind.PLANNED:
            services = tuple(s for s in find_services(f"{title}\n{body}"))
        modes = find_modes(title) or find_modes(body)
        level = find_level(title) or (find_level(body) if kind is ItemKind.ALERT else None)
        number = bulletin_number(f"{title}\n{body}") if kind is ItemKind.BULLETIN else None
        parent: int | None = None
        if kind is ItemKind.BULLETIN:
            parent = _parent_alert(blocks, index, block_item, items)
            if parent is not None:
                alert = items[parent]
                services = services or alert.services
                modes = alert.modes if not modes or set(modes) - set(alert.modes) else modes
        if kind is ItemKind.ALERT:
            modes = modes or _modes_from_table(services, statuses)
            level = level or _level_from_table(services, modes, statuses)
        starts_at = ends_at = None
        if kind is ItemKind.PLANNED:
            window = parse_window(body) or parse_window(title)
            if window is not None:
                starts_at, ends_at = window.starts_at, window.ends_at
            modes = modes or MODES
        block_item[index] = len(items)
        items.append(
            Item(
                kind=kind,
                services=services,
                modes=modes,
                title=title,
                text=_without_dateline(body),
                published_at=published,
                level=level if kind is ItemKind.ALERT else None,
                number=number,
                starts_at=starts_at,
                ends_at=ends_at,
                parent=parent,
            )
        )
    return items


_DATELINE = re.compile(r"^(?:publi|mis\s+[àa]\s+jour|mise\s+[àa]\s+jour|date)", re.IGNORECASE)


def _without_dateline(body: str) -> str:
    """The message text without its "Publié le …" phrase (the date is kept as published_at)."""
    kept: list[str] = []
    for line in body.split("\n"):
        if _DATELINE.match(line):
            found = find_datetimes(line)
            if found and found[0].start < 40:
                line = line[found[0].end :].lstrip(" .,:;–-")
        if line:
            kept.append(line)
    return "\n".join(kept).strip()


def _parent_alert(
    blocks: list[_Block], index: int, block_item: dict[int, int], items: list[Item]
) -> int | None:
    """The alert a BIP belongs to: the enclosing (higher) heading, else the nearest alert above it."""
    level = blocks[index].heading.level
    ancestors = blocks[index].ancestors
    for j in range(index - 1, -1, -1):
        other = blocks[j]
        if other.kind is ItemKind.ALERT and j in block_item:
            container = other.heading.container
            if other.heading.level < level or (container is not None and id(container) in ancestors):
                return block_item[j]
            break  # only the nearest alert above can enclose it
    own_services = set(find_services(blocks[index].heading.text))
    for j in range(index - 1, -1, -1):
        if blocks[j].kind is ItemKind.ALERT and j in block_item:
            candidate = items[block_item[j]]
            if not own_services or own_services & set(candidate.services):
                return block_item[j]
    return None


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


# --- entry points ----------------------------------------------------------------------------
def _looks_like_feed(body: bytes, content_type: str | None) -> bool:
    head = body[:500].lstrip().lower()
    if content_type and any(k in content_type.lower() for k in ("rss", "atom")):
        return True
    return head.startswith(b"<?xml") and (b"<rss" in body[:2000].lower() or b"<feed" in body[:2000].lower())


def parse_page(body: bytes | str, *, location: str = "", content_type: str | None = None) -> Snapshot:
    """Read one météo page (HTML, or an RSS/Atom feed of its messages) into a snapshot.

    Raises :class:`PageError` for anything that must not be taken as the state of the services.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        raise PageError("empty", "the page has no content")
    if _looks_like_feed(raw, content_type):
        return _parse_feed(raw, location)
    lowered = raw[-4096:].lower()
    if b"<html" in raw[:4096].lower() and b"</html" not in lowered and b"</body" not in lowered:
        raise PageError("truncated", "the page ends before </html>")
    root = _html_tree(raw, _charset(content_type))
    for el in list(root.iter(*_DROPPED_TAGS)):
        _drop(el)
    body_el = root.find("body")
    page = body_el if body_el is not None else root
    for el in list(page):
        if _tag(el) in _PAGE_CHROME or el.get("role") in ("banner", "contentinfo", "navigation"):
            _drop(el)
    statuses, tables = _status_tables(root)
    items = _items(_blocks(_tokens(page, tables)), statuses)
    page_text = fold(" ".join(root.itertext()))
    if not items and not statuses:
        if _CAPTCHA_PAGE.search(page_text):
            raise PageError("captcha", "an anti-bot or access-denied page")
        if _MAINTENANCE_PAGE.search(page_text):
            raise PageError("maintenance", "the portal shows a maintenance page")
        raise PageError("unrecognised", "no status table and no message found")
    return Snapshot(
        location=location,
        items=tuple(items),
        statuses=tuple(statuses),
        size=len(raw),
        all_clear=bool(_ALL_CLEAR.search(page_text)),
    )


def _html_tree(raw: bytes, charset: str | None) -> HtmlElement:
    """Decode with Beautiful Soup's encoding detection (HTTP charset, BOM, <meta>, then guesses) and
    build the tree with lxml. Beautiful Soup's own tree is ~20× slower on a 1 MB page (see
    bench/parse.py), and the tree walk is where a busy page spends its time.
    """
    dammit = UnicodeDammit(raw, known_definite_encodings=[charset] if charset else [], is_html=True)
    text = dammit.unicode_markup
    if text is None:
        raise PageError("unparseable", "the page's character encoding cannot be read")
    text = _XML_DECLARATION.sub("", text, count=1)
    try:
        root = etree.fromstring(text, _HTML_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise PageError("unparseable", str(exc)) from exc
    if root is None:
        raise PageError("empty", "the page has no markup")
    return root


_HTML_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset=([\w-]+)", content_type, re.IGNORECASE)
    return m.group(1) if m else None


def _parse_feed(raw: bytes, location: str) -> Snapshot:
    feed = feedparser.parse(raw)
    if feed.bozo and not feed.entries:
        raise PageError("unparseable", f"feed: {feed.get('bozo_exception')}")
    items: list[Item] = []
    for entry in feed.entries:
        title = _clean(str(entry.get("title", "")))
        summary_html = str(entry.get("summary", "") or entry.get("description", ""))
        body = _clean(BeautifulSoup(summary_html, "lxml").get_text(" ")) if summary_html else ""
        kind = classify(title, body)
        published = parse_published(f"{title}\n{body}")
        if published is None and entry.get("published_parsed"):
            published = datetime.fromtimestamp(timegm(entry["published_parsed"]), tz=UTC)
        services = tuple(find_services(title)) or tuple(find_services(body))
        modes = find_modes(title) or find_modes(body)
        window = parse_window(body) if kind is ItemKind.PLANNED else None
        if kind is ItemKind.PLANNED:
            services = tuple(find_services(f"{title}\n{body}"))
            modes = modes or MODES
        if kind is ItemKind.INFORMATION and published is None:
            continue
        items.append(
            Item(
                kind=kind,
                services=services,
                modes=modes,
                title=title,
                text=_without_dateline(body),
                published_at=published,
                level=(find_level(title) or find_level(body)) if kind is ItemKind.ALERT else None,
                number=bulletin_number(f"{title}\n{body}") if kind is ItemKind.BULLETIN else None,
                starts_at=window.starts_at if window else None,
                ends_at=window.ends_at if window else None,
            )
        )
    if not items:
        raise PageError("unrecognised", "the feed has no recognisable message")
    # A standalone BIP in a feed belongs to the most recent alert naming the same services.
    linked: list[Item] = []
    for item in items:
        if item.kind is ItemKind.BULLETIN:
            for j, other in enumerate(items):
                if other.kind is ItemKind.ALERT and (
                    not item.services or set(item.services) & set(other.services)
                ):
                    item = replace(
                        item,
                        parent=j,
                        services=item.services or other.services,
                        modes=item.modes or other.modes,
                    )
                    break
        linked.append(item)
    return Snapshot(location=location, items=tuple(linked), size=len(raw))
