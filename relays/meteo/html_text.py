"""Text out of lxml elements: the few helpers every part of the HTML reader shares."""

from __future__ import annotations

import re

from lxml.etree import _Element as HtmlElement  # lxml ships no type stubs: this is Any to mypy


def clean(text: str) -> str:
    """Whitespace (non-breaking spaces included) collapsed to single spaces."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def text_of(el: HtmlElement) -> str:
    return clean(" ".join(el.itertext()))


def tag_of(el: HtmlElement) -> str:
    """The lower-case tag name; "" for comments and processing instructions."""
    return el.tag.lower() if isinstance(el.tag, str) else ""


def describe(el: HtmlElement) -> str:
    """A short locator for explanations: ``tag#id.class`` of the element and its parent."""

    def one(node: HtmlElement) -> str:
        out = tag_of(node) or "?"
        if node.get("id"):
            out += f"#{node.get('id')}"
        classes = str(node.get("class") or "").split()
        if classes:
            out += "." + ".".join(classes[:2])
        return out

    parent = el.getparent()
    return f"{one(parent)} > {one(el)}" if parent is not None and tag_of(parent) else one(el)


# fmt: off
_BLOCKS = frozenset((
    "p", "div", "li", "ul", "ol", "section", "article", "br", "tr", "td", "th", "table", "dd", "dt",
    "header", "main", "aside", "blockquote", "pre", "details", "summary", "figure", "figcaption", "h1",
    "h2", "h3", "h4", "h5", "h6",
))
# fmt: on


def block_text(el: HtmlElement) -> str:
    """The element's text with a line break at each block boundary (paragraphs, list items, <br>)."""
    parts: list[str] = []

    def walk(node: HtmlElement) -> None:
        tag = tag_of(node)
        if tag in ("script", "style"):
            return
        if tag in _BLOCKS:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in _BLOCKS:
            parts.append("\n")

    walk(el)
    lines = (clean(line) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def short_text_of(el: HtmlElement, limit: int) -> str | None:
    """The element's text if it is at most ``limit`` characters (roughly, before cleaning), else
    None — without reading all of a large element: titles and badges are short."""
    parts: list[str] = []
    size = 0
    for piece in el.itertext():
        size += len(piece)
        if size > 2 * limit + 40:
            return None
        parts.append(piece)
    text = clean(" ".join(parts))
    return text if len(text) <= limit else None
