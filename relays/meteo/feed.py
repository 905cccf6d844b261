"""Reading the météo's RSS or Atom feed into messages.

A feed is data, so it must be whole: one that is not well-formed XML — typically a download cut
off mid-item, from which a lenient parser would still salvage the first entries — is refused
(:class:`PageError` ``malformed``), so a partial feed can neither announce early nor, by the
entries it lacks, close anything. HTML named entities (``&eacute;``, ``&nbsp;``), which sloppy
feeds carry and XML does not define, are tolerated. Entries become :class:`Message` objects for
the one item builder; ``pubDate``/``published`` and ``updated`` travel with them.
"""

from __future__ import annotations

import re
from calendar import timegm
from datetime import UTC, datetime
from html.entities import name2codepoint
from typing import Any

from lxml import etree

from .errors import PageError
from .html_text import block_text, clean
from .message import Message

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_HTML_PARSER = etree.HTMLParser(remove_comments=True, no_network=True)


def looks_like_feed(body: bytes, content_type: str | None) -> bool:
    head = body[:2000].lstrip().lower()
    if content_type and any(k in content_type.lower() for k in ("rss", "atom")):
        return True
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head)


def _numeric_entities(raw: bytes) -> bytes:
    def repl(m: re.Match[bytes]) -> bytes:
        name = m.group(1)
        if name in _XML_ENTITIES:
            return m.group(0)
        code = name2codepoint.get(name.decode("ascii"))
        return f"&#{code};".encode() if code is not None else m.group(0)

    return _ENTITY.sub(repl, raw)


def _check_whole(raw: bytes) -> None:
    try:
        root = etree.fromstring(_numeric_entities(raw), _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise PageError("malformed", f"the feed is not well-formed XML ({exc})") from exc
    if root is None or etree.QName(root).localname.lower() not in ("rss", "feed", "rdf"):
        raise PageError("unrecognised", "an XML document that is not an RSS or Atom feed")


def _moment(entry: Any, key: str) -> datetime | None:
    parsed = entry.get(key)
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _text(fragment: str) -> str:
    if not fragment.strip():
        return ""
    if "<" not in fragment:
        return clean(fragment)
    try:
        root = etree.fromstring(f"<div>{fragment}</div>", _HTML_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return clean(re.sub(r"<[^>]+>", " ", fragment))
    return block_text(root) if root is not None else ""


def messages(raw: bytes) -> list[Message]:
    """The feed's entries as messages, in the feed's order. Raises PageError for a partial feed."""
    _check_whole(raw)
    import feedparser  # here, not at the top: a relay polling no feed never loads it (0.9 MB)

    feed = feedparser.parse(raw)
    out: list[Message] = []
    for n, entry in enumerate(feed.entries, start=1):
        content = entry.get("content") or []
        html = str(content[0].get("value", "")) if content else ""
        html = html or str(entry.get("summary", "") or entry.get("description", ""))
        guid = str(entry.get("id") or entry.get("link") or "")
        out.append(
            Message(
                title=clean(str(entry.get("title", ""))),
                body=_text(html),
                where=f"feed entry {n}" + (f" ({guid})" if guid else ""),
                feed_published=_moment(entry, "published_parsed"),
                feed_updated=_moment(entry, "updated_parsed"),
            )
        )
    return out
