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

import re
from collections.abc import Callable
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
