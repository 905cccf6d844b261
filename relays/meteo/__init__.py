"""Everything we know about the météo des services en ligne page and its feed, in one package.

The page's markup is not guaranteed and changes over time, so it is read by meaning rather than
CSS classes, in four steps with one job each:

* ``html.py`` / ``feed.py`` — markup to :class:`~relays.meteo.message.Message` (title, own text,
  badges, dates near the title, nesting);
* ``table.py`` — the status table, found by its content;
* ``words.py`` — the SAU's vocabulary: kinds, téléservices, modes, levels, negations;
* ``items.py`` — the one item builder: messages to typed snapshot items, each reading explained.

A page that is empty, truncated, a maintenance or captcha page, or unrecognisable — and a feed
that is not well-formed XML — raises :class:`PageError`; it never becomes a snapshot, so it can
never add or close anything.
"""

from __future__ import annotations

import re
from datetime import date

from bs4.dammit import UnicodeDammit
from lxml import etree
from lxml.etree import _Element as HtmlElement

from knowledge.services import fold

from ..dates import PARIS, around, find_datetimes
from ..snapshot import ItemKind, Snapshot
from . import feed, html, items, table
from .errors import PageError
from .html_text import tag_of
from .message import Message
from .words import ALL_CLEAR, CAPTCHA_PAGE, MAINTENANCE_PAGE, classify, find_modes

__all__ = ["PageError", "classify", "explain_lines", "find_modes", "parse_page"]

_HTML_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def parse_page(body: bytes | str, *, location: str = "", content_type: str | None = None) -> Snapshot:
    """Read one météo page (HTML, or an RSS/Atom feed of its messages) into a snapshot.

    Raises :class:`PageError` for anything that must not be taken as the state of the services.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if not raw.strip():
        raise PageError("empty", "the page has no content")
    if feed.looks_like_feed(raw, content_type):
        found = feed.messages(raw)
        dated = [d for m in found if (d := m.feed_published or m.feed_updated) is not None]
        with around(lambda: max(dated).astimezone(PARIS).date() if dated else None):
            built = items.build(found, [], ())
        if not built and found:
            raise PageError("unrecognised", "the feed has no recognisable message")
        return _snapshot(location, built, [], raw, all_clear=False)
    lowered = raw[-4096:].lower()
    if b"<html" in raw[:4096].lower() and b"</html" not in lowered and b"</body" not in lowered:
        raise PageError("truncated", "the page ends before </html>")
    root = _html_tree(raw, _charset(content_type))
    html.inline_dialogs(root)
    forms = root.find(".//form") is not None
    page_chars = sum(len(t.strip()) for t in root.itertext()) if forms else 0
    for el in list(root.iter(*html.DROPPED_TAGS, "button")):
        if tag_of(el) == "button" and html.keep_button(el):
            continue
        if tag_of(el) == "form" and html.keep_form(el, page_chars):
            continue
        _drop(el)
    body_el = root.find("body")
    page = body_el if body_el is not None else root
    for el in list(page):
        if tag_of(el) in html.PAGE_CHROME or el.get("role") in ("banner", "contentinfo", "navigation"):
            _drop(el)
    html.promote_first_lines(page)
    statuses, tables = table.status_tables(root)
    listed, lists = table.status_lists(page)
    statuses, tables = statuses + listed, tables | lists
    found = html.messages(page, tables)
    with around(lambda: _reference_day(found)):
        built = items.build(found, statuses, table.vocabulary(statuses))
    page_text = (
        fold(" ".join(page.itertext())) if not any(i.kind is not ItemKind.INFORMATION for i in built) else ""
    )
    if not built and not statuses:
        if CAPTCHA_PAGE.search(page_text):
            raise PageError("captcha", "an anti-bot or access-denied page")
        if MAINTENANCE_PAGE.search(page_text):
            raise PageError("maintenance", "the portal shows a maintenance page")
        if not ALL_CLEAR.search(page_text):
            raise PageError("unrecognised", "no status table and no message found")
    return _snapshot(location, built, statuses, raw, all_clear=bool(ALL_CLEAR.search(page_text)))


def _reference_day(found: list[Message]) -> date | None:
    """The newest full date the page's messages write: yearless dates are read around that day."""
    moments = [m.time_attr or m.date_before for m in found if m.time_attr or m.date_before]
    for message in found:
        moments += [f.at for f in find_datetimes(f"{message.title}\n{message.body[:2000]}")]
    return max(m for m in moments if m is not None).astimezone(PARIS).date() if moments else None


def _snapshot(location: str, built: list, statuses: list, raw: bytes, *, all_clear: bool) -> Snapshot:  # type: ignore[type-arg]
    moments = [m for i in built for m in (i.published_at, i.updated_at) if m is not None]
    return Snapshot(
        location=location,
        items=tuple(built),
        statuses=tuple(statuses),
        size=len(raw),
        all_clear=all_clear,
        newest=max(moments) if moments else None,
    )


def explain_lines(snapshot: Snapshot) -> list[str]:
    """For each item, where its title, kind, date, services, modes and level were read from."""
    lines: list[str] = []
    for n, item in enumerate(snapshot.items, start=1):
        held = not item.services and item.kind is not ItemKind.INFORMATION and item.parent is None
        head = f"item {n}: {item.kind.value}" + (
            "  [HELD: names no téléservice; admins only]" if held else ""
        )
        lines.append(head)
        lines.extend(f"  {what:<9} {reading}" for what, reading in item.why)
    if snapshot.statuses:
        down = sorted(
            {
                f"{s.service} {s.mode}: {s.label or s.state.value}"
                for s in snapshot.statuses
                if s.state.value != "ok"
            }
        )
        count = len({s.service for s in snapshot.statuses})
        lines.append(f"status table: {count} téléservices; not ok: {', '.join(down) or 'none'}")
    if snapshot.all_clear and not snapshot.alerts():
        lines.append("the page says no alert is in progress")
    return lines


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


def _html_tree(raw: bytes, charset: str | None) -> HtmlElement:
    """Decode with Beautiful Soup's encoding detection (HTTP charset, BOM, <meta>, then guesses) and
    build the tree with lxml. Beautiful Soup's own tree is ~20× slower on a 1 MB page (see
    bench/parse.py), and the tree walk is where a busy page spends its time.
    """
    # When the declared charset is wrong (windows-1252 bytes served as utf-8), UTF-8 then windows-1252
    # are tried before statistical guesses, which take French text for a Baltic code page.
    dammit = UnicodeDammit(
        raw,
        known_definite_encodings=[charset] if charset else [],
        user_encodings=["utf-8", "windows-1252"],
        is_html=True,
    )
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


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset=([\w-]+)", content_type, re.IGNORECASE)
    return m.group(1) if m else None
