"""Reading an HTML météo page into messages, by its structure rather than its class names.

A message is a title — a heading, a bold line opening a block, a ``<summary>``, an accordion's
``<button>``, a CMS title box — with the text of the element it titles (its *container*). The page
is flattened into a stream of titles, texts, labels (badges) and ``<time>`` values in reading
order; each text goes to the innermost open message whose container holds it, so a date written
after the nested bulletins still belongs to the alert, and a bulletin's text never leaks into
its alert. A badge written just above a title ("Alerte rouge" over a card's title) goes to that
title, and a title that is only such a word is a label of the title that follows.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

from lxml.etree import _Element as HtmlElement

from knowledge.services import find_services, fold

from ..dates import DATE_RE, PARIS, find_datetimes, parse_datetime
from ..snapshot import ItemKind
from .html_text import block_text, clean, describe, short_text_of, tag_of, text_of
from .message import Message
from .words import classify, is_label_only

_TITLE_CLASS = re.compile(r"title|titre|heading|header|entete|en-tete|intitule", re.IGNORECASE)
_BADGE_CLASS = re.compile(
    r"(?<![a-z])(?:badge|tag|label|pill|chip|etiquette|statut|status|niveau|level|flag)(?![a-z])",
    re.IGNORECASE,
)
_TOGGLE_CLASS = re.compile(r"accordion|collapse|toggle|disclosure|expand", re.IGNORECASE)
HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_PSEUDO_HEADING_TAGS = {"strong", "b", "summary", "dt", "legend", "caption", "button"}
_LABEL_TAGS = {"span", "p", "div", "strong", "em", "small", "mark", "abbr", "b", "i", "li"}
DROPPED_TAGS = ("script", "style", "noscript", "template", "nav", "svg", "form", "select", "iframe", "dialog")
PAGE_CHROME = ("header", "footer")  # dropped only at page level: inside a message they hold its date
_BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "section", "article", "br", "tr", "td", "th", "table", "dd", "dt",
    "header", "main", "aside", "blockquote", "pre", "details", "summary", "figure", "figcaption",
} | set(HEADING_TAGS)  # fmt: skip


# --- tokens -------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Heading:
    level: int
    text: str
    node: HtmlElement
    container: HtmlElement | None
    box: bool = False  # a generic box (div/span/p) read as a title, not a title element


@dataclass(slots=True)
class _Text:
    text: str
    owner: HtmlElement | None  # None for a line break


@dataclass(slots=True)
class _Time:
    value: str
    owner: HtmlElement


@dataclass(slots=True)
class _Label:
    text: str
    owner: HtmlElement


_BREAK = _Text("\n", None)
_Token = _Heading | _Text | _Time | _Label


def promote_first_lines(page: HtmlElement) -> None:
    """A title written as the first line of a paragraph, ended by a line break ("🔴 ALERTE – DELTA G
    – EDI<br>Message publié le …" in a social post or an e-mail) is made a bold line of its own, so
    it is read as titles are everywhere else. Only a short line that names a message kind, with
    more text after the break."""
    for el in list(page.iter("p", "div", "td", "li", "blockquote")):
        text = (el.text or "").strip()
        if not text or len(text) > 120 or not len(el) or tag_of(el[0]) != "br":
            continue
        br = el[0]
        if not ((br.tail or "").strip() or br.getnext() is not None):
            continue
        if classify(text) is ItemKind.INFORMATION:
            continue
        line = el.makeelement("strong", {})
        line.text, el.text = el.text, None
        el.insert(0, line)


def inline_dialogs(root: HtmlElement) -> None:
    """A message listed by its title and date whose text opens in a modal window (a DSFR
    ``fr-modal`` ``<dialog>`` opened by a "Lire le message" button ``aria-controls`` names): the
    modal's text is the entry's, so it is copied into the entry before dialogs are dropped."""
    dialogs = {str(d.get("id")): d for d in root.iter("dialog") if d.get("id")}
    if not dialogs:
        return
    for opener in list(root.xpath("//*[@aria-controls or @href]")):
        target = str(opener.get("aria-controls") or opener.get("href") or "").lstrip("#")
        dialog = dialogs.get(target)
        if dialog is None or any(a is dialog for a in opener.iterancestors()):
            continue
        entry = next((a for a in opener.iterancestors() if tag_of(a) in _ENTRY_TAGS), None)
        if entry is None:
            continue
        for node in dialog.iter(*_TEXT_BLOCKS):
            inside = [a for a in node.iterancestors() if a is not dialog and _inside(a, dialog)]
            if any(tag_of(a) in _TEXT_BLOCKS for a in inside):
                continue  # copied with its enclosing block
            entry.append(deepcopy(node))


_ENTRY_TAGS = ("li", "article", "section", "div", "tr", "dd")
_TEXT_BLOCKS = ("p", "ul", "ol", "table", "blockquote")


def keep_form(el: HtmlElement, page_chars: int) -> bool:
    """A form is a search box, a filter or a newsletter sign-up, dropped with its labels; but some
    sites wrap the whole page in one (ASP.NET / SharePoint): a form holding most of the page's
    text holds the content and stays."""
    return page_chars > 0 and sum(len(t.strip()) for t in el.itertext()) >= 0.5 * page_chars


def keep_button(el: HtmlElement) -> bool:
    """An accordion's or disclosure's button holds a title; other buttons are controls."""
    if el.get("aria-expanded") is not None or el.get("aria-controls"):
        return True
    if _TOGGLE_CLASS.search(str(el.get("class") or "")):
        return True
    parent = el.getparent()
    return parent is not None and tag_of(parent) in HEADING_TAGS


def _starts_its_line(el: HtmlElement) -> bool:
    parent = el.getparent()
    if parent is None:
        return False
    for sibling in el.itersiblings(preceding=True):
        if (sibling.tail or "").strip():
            return False
        if tag_of(sibling) == "br":
            return True
        if isinstance(sibling.tag, str) and text_of(sibling):
            return False
    return not (parent.text or "").strip()


def _is_pseudo_heading(el: HtmlElement) -> bool:
    """A title that is not an <hN>: role=heading, a box that reads as a title line, a bold line
    opening its block, a <summary>/<dt>/<legend>/<caption>, an accordion button — when it reads
    like a message title."""
    tag = tag_of(el)
    if el.get("role") != "heading" and tag not in _PSEUDO_HEADING_TAGS | {"div", "span", "p"}:
        return False
    text = short_text_of(el, 160)
    if not text:
        return False
    if el.get("role") == "heading":
        return True
    if classify(text) is ItemKind.INFORMATION:
        return False
    if tag in ("div", "span", "p"):
        return not _BADGE_CLASS.search(str(el.get("class") or "")) and _title_box(el, text)
    if tag in ("dt", "summary", "legend", "caption", "button"):
        return True
    return _starts_its_line(el)  # <strong>/<b>: only when it opens its line


def _title_box(el: HtmlElement, text: str) -> bool:
    """A generic box read as a title, whatever its classes: one short line (not two sentences, not
    a bare badge word) that opens the box it sits in and is followed by the message's text.
    Classes saying "title"/"header" only make a longer line acceptable."""
    if is_label_only(text) or any(tag_of(child) in _BLOCK_TAGS - {"br"} for child in el):
        return False
    if any(
        tag_of(br) == "br" and ((br.tail or "").strip() or br.getnext() is not None) for br in el.iter("br")
    ):
        return False  # a title, then a line under it: the title is the first line's element
    hinted = bool(_TITLE_CLASS.search(str(el.get("class") or "")))
    if (not hinted and len(text) > 120) or re.search(r"[.!?;]\s+\S", text.rstrip(".!? ")):
        return False  # two sentences are text; classes saying "title" only allow a longer line
    if text.rstrip().endswith(":"):
        return False  # "Bulletin publié par la douane :" introduces what follows
    box = el
    while (up := box.getparent()) is not None and len(up) == 1 and not (up.text or "").strip():
        if tag_of(up) in ("body", "main", "html") or (box.tail or "").strip():
            break
        box = up  # a wrapper around the line only: its neighbours are the line's
    parent = box.getparent()
    if parent is None or (parent.text or "").strip():
        return False
    for sibling in box.itersiblings(preceding=True):
        if (sibling.tail or "").strip():
            return False
        if tag_of(sibling) == "hr":
            break  # a thematic break: what follows it opens a new block ("version texte" pages)
        if isinstance(sibling.tag, str) and text_of(sibling):
            return False
    following = (
        (el.tail or "").strip()
        or (box.tail or "").strip()
        or any((isinstance(s.tag, str) and text_of(s)) or (s.tail or "").strip() for s in box.itersiblings())
    )
    return bool(following) or hinted


def _is_label(el: HtmlElement, text: str) -> bool:
    """A badge or tag: a short element styled as one, or standing alone with only a kind/level word."""
    if tag_of(el) not in _LABEL_TAGS or not text or len(text) > 40:
        return False
    if _BADGE_CLASS.search(str(el.get("class") or "")):
        return True
    if len(text) > 25 or not is_label_only(text):
        return False
    parent = el.getparent()
    alone = parent is not None and not (parent.text or "").strip() and not (el.tail or "").strip()
    return alone and len(el) == 0


def _container(el: HtmlElement) -> HtmlElement | None:
    """The element a heading titles: the first ancestor holding more than the heading itself.

    ``<article><h3>…</h3><p>…</p></article>`` gives the article; a CMS title wrapped in
    ``<div><span><strong>…</strong></span></div>`` climbs the wrappers to the message's row.
    """
    child = el
    parent = el.getparent()
    while parent is not None:
        if tag_of(parent) in ("body", "main", "html"):
            return None  # flat page: the heading's text runs until the next heading
        wraps_only = len(parent) == 1 and not (parent.text or "").strip() and not (child.tail or "").strip()
        if not wraps_only:
            return _beyond_header(el, parent)
        child, parent = parent, parent.getparent()
    return None


_HEADING_XPATH = "descendant::*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6]"


def _beyond_header(heading: HtmlElement, box: HtmlElement) -> HtmlElement:
    """The message a title heads can be wider than the first box around it:

    * a title box holding only the title and a line of metadata ("<header class=entry-header>
      <h2>…</h2><div>Publié le … par …</div></header>") heads its parent (the article);
    * a paragraph opened by a bold title ("<p><strong>BIP n°1</strong> : …</p><p>Publié le …</p>")
      runs on in the untitled paragraphs after it;

    provided that parent titles nothing else (it is not a list of messages)."""
    while (up := box.getparent()) is not None and len(up) == 1 and not (up.text or "").strip():
        if tag_of(up) in ("body", "main", "html"):
            break
        box = up  # a wrapper around the box only: its siblings are the box's
    parent = box.getparent()
    if parent is None or tag_of(parent) in ("body", "main", "html"):
        return box
    inline = tag_of(heading) in ("strong", "b")
    extra = len(text_of(box)) - len(text_of(heading))
    # a table row is one message: its other cells (date, type, téléservice, mode) before or after
    neighbours = (
        list(box.itersiblings(preceding=True)) + list(box.itersiblings())
        if tag_of(box) in ("td", "th")
        else list(box.itersiblings())
    )
    # a level pictogram in a column of its own, just before or after the title's column
    adjacent = [el for el in (box.getprevious(), box.getnext()) if el is not None]
    pictograms = _badge_images(adjacent) and not _badge_images([box])
    if not pictograms and not any(text_of(sibling) for sibling in neighbours):
        return box
    if extra > 160 and not inline and not pictograms:
        dated_beside = _dated_lines(neighbours[:2]) and not _dated_lines([box])  # a quote's caption
        if not dated_beside:
            return box  # a full message in its box; unless its date or level sits beside it
    rank = HEADING_TAGS.get(tag_of(heading), 7)
    for other in parent.xpath(_HEADING_XPATH):
        if other is not heading and not _inside(other, box) and HEADING_TAGS[tag_of(other)] <= rank:
            return box  # the parent holds other titles of the same rank (a list of messages)
    classes = set(str(box.get("class") or "").split())
    for sibling in parent:
        if sibling is box or tag_of(sibling) != tag_of(box) or not _titled(sibling):
            continue
        theirs = set(str(sibling.get("class") or "").split())
        if classes == theirs or classes & theirs:
            return box  # one of a list of like boxes (one per message): the box is the message
    return parent


def _image_badge(el: HtmlElement) -> str | None:
    """The alt text of a pictogram that says a kind or level ("Alerte rouge", "Alerte noire"), read
    as a badge; decorative images (empty alt) and other pictures say nothing."""
    alt = clean(str(el.get("alt") or el.get("title") or ""))
    return alt if alt and len(alt) <= 40 and is_label_only(alt) else None


def _badge_images(elements: list[HtmlElement]) -> bool:
    return any(
        _image_badge(img) for el in elements if isinstance(el.tag, str) for img in el.iter("img")
    )


def _dated_lines(elements: list[HtmlElement]) -> bool:
    """Whether one of these elements holds a publication line ("Publié le …", "Mis à jour le …")."""
    return any(
        DATELINE.match(clean(line))
        for el in elements
        if isinstance(el.tag, str) and sum(1 for _ in islice(el.iter(), 40)) < 40  # a caption, not a section
        for line in block_text(el).split("\n")
    )


def _titled(el: HtmlElement) -> bool:
    """Whether a block carries a title of its own: a heading, or a bold text opening it."""
    if el.xpath(_HEADING_XPATH) or el.xpath("descendant::summary|descendant::dt"):
        return True
    for node in el.iter("strong", "b"):
        if _starts_its_line(node) and len(text_of(node)) >= 3:
            return True
    return any(_TITLE_CLASS.search(str(node.get("class") or "")) for node in el.iter())


def tokens(root: HtmlElement, skip: set[HtmlElement]) -> list[_Token]:
    out: list[_Token] = []

    def walk(el: HtmlElement) -> None:
        for child in el:
            tag = tag_of(child)
            if tag and child not in skip:
                level = HEADING_TAGS.get(tag)
                if level is None and _is_pseudo_heading(child):
                    level = 7
                if level is not None:
                    text = text_of(child)
                else:
                    text = (short_text_of(child, 40) or "") if tag in _LABEL_TAGS else ""
                if level is not None and text:
                    out.append(
                        _Heading(level, text, child, _container(child), box=tag in ("div", "span", "p"))
                    )
                elif tag == "button":
                    pass  # a control ("Fermer", "Voir plus"), not text of the message
                elif tag == "img":
                    if badge := _image_badge(child):
                        out.append(_Label(badge, child))  # a level pictogram: alt="Alerte rouge"
                elif _is_label(child, text):
                    out.append(_Label(text, child))
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


# --- blocks ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Block:
    heading: _Heading
    parent: _Block | None
    #: (text, the element holding it, whether it is a badge) in reading order
    texts: list[tuple[str, HtmlElement | None, bool]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    time: str | None = None
    body: str = ""
    links: set[str] = field(default_factory=set)  # lines of its text that are whole links


def _inside(node: HtmlElement, container: HtmlElement) -> bool:
    return node is container or any(a is container for a in node.iterancestors())


def _encloses(block: _Block, heading: _Heading) -> bool:
    """Whether ``heading`` is nested in the message ``block`` (a bulletin inside its alert)."""
    outer = block.heading.container
    if outer is None:  # a flat page: a lower-level heading is nested in the one above it
        return heading.level > block.heading.level and (
            heading.container is None or not _inside(block.heading.node, heading.container)
        )
    if not _inside(heading.node, outer) or heading.node is block.heading.node:
        return False
    if heading.container is outer:  # siblings under one wrapper, unless the levels say otherwise
        return heading.level > block.heading.level and block.heading.level < 7
    return True


def _owns(block: _Block, owner: HtmlElement | None) -> bool:
    return owner is None or block.heading.container is None or _inside(owner, block.heading.container)


def _take_back(previous: _Block, block: _Block, container: HtmlElement) -> None:
    """Text written in a message's own box before its title (a date or a badge above a card's
    title) was given to the message open before it: it belongs to the new title."""
    moved: list[tuple[str, HtmlElement | None, bool]] = []
    while previous.texts:
        entry = previous.texts[-1]
        if entry[1] is not None and not _inside(entry[1], container):
            break
        moved.append(previous.texts.pop())
    while moved and moved[-1][1] is None:  # leading line breaks stay where they were
        previous.texts.append(moved.pop())
    if any(owner is not None for _, owner, _ in moved):
        block.texts[:0] = reversed(moved)
    else:
        previous.texts.extend(reversed(moved))


def _blocks(stream: list[_Token], page: HtmlElement | None = None) -> list[_Block]:
    """The page's titled blocks. A page with no title at all (a text version: messages as lines in
    a ``<pre>``, a bare list) is one untitled block, whose lines ``_dated_paragraphs`` reads."""
    if page is not None and not any(isinstance(token, _Heading) for token in stream):
        stream = [_Heading(0, "", page, None), *stream]
    blocks: list[_Block] = []
    stack: list[_Block] = []
    for token in stream:
        if isinstance(token, _Heading):
            open_blocks = list(stack)
            while stack and not _encloses(stack[-1], token):
                stack.pop()
            if (
                token.box
                and stack
                and _is_message(stack[-1])
                and not _same_title(stack[-1].heading.text, token.text)  # a relayed copy is the message
                and classify(token.text) is not ItemKind.BULLETIN
            ):
                # a line of a titled message that reads like a title ("Alerte sur DELTA G : …")
                # is its text, not a second message; its bulletins are messages of their own
                stack[-1].texts.append((f"\n{token.text}\n", token.node, False))
                continue
            block = _Block(token, stack[-1] if stack else None)
            if token.container is not None:
                for previous in reversed(open_blocks):
                    outer = previous.heading.container
                    if outer is None or (outer is not token.container and _inside(token.container, outer)):
                        _take_back(previous, block, token.container)
            blocks.append(block)
            stack.append(block)
            continue
        owner_block = next((b for b in reversed(stack) if _owns(b, token.owner)), None)
        if owner_block is None:
            continue
        if isinstance(token, _Time):
            owner_block.time = owner_block.time or token.value
        elif isinstance(token, _Label):  # a badge inside the text ("BIP n°1 publié le …") stays in it
            owner_block.texts.append((f" {token.text} ", token.owner, True))
        else:
            owner_block.texts.append((token.text, token.owner, False))
    for block in blocks:
        block.labels = [text.strip() for text, _, is_label in block.texts if is_label]
        block.links = {
            clean(text) for text, owner, _ in block.texts if owner is not None and tag_of(owner) == "a"
        }
        lines = [clean(line) for line in "".join(text for text, _, _ in block.texts).split("\n")]
        block.body = "\n".join(line for line in lines if line)
    return _merge_labels(blocks)


def _is_message(block: _Block) -> bool:
    return classify(block.heading.text) is not ItemKind.INFORMATION


def _merge_labels(blocks: list[_Block]) -> list[_Block]:
    """Titles that are only "Alerte" / "ALERTE ROUGE" are labels, not messages:

    * inside a message ("<summary>ALERTE – DELTA T</summary><p><strong>Alerte rouge.</strong>
      Depuis 7 h 30 …"), the label and its text belong to that message;
    * with no text of their own (a badge above a card's title), they label the next title.
    """
    out: list[_Block] = []
    carry: list[str] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        label = is_label_only(block.heading.text)
        owner = block.parent
        if label and owner is not None and owner in out and _is_message(owner):
            owner.labels.append(block.heading.text)
            owner.labels.extend(block.labels)
            opening = f"{block.heading.text} {block.body}"
            owner.body = "\n".join(part for part in (owner.body, opening) if part)
            for other in blocks[index + 1 :]:
                if other.parent is block:
                    other.parent = owner
            continue
        if following is not None and label and not block.body.strip() and following.parent is block.parent:
            carry.append(block.heading.text)
            carry.extend(block.labels)
            continue
        if carry:
            block.labels[:0] = carry
            carry = []
        out.append(block)
    return out


# --- messages written as lines -------------------------------------------------------------------
_BULLETIN_LINE = re.compile(
    r"^\W*(?:BIP\b|BULLETIN\b[^\n]{0,60}?(?:\bN\s*[°º]|#)\s*\d|BULLETIN\s+D\s?INFORMATION)"
)
_DATE_LED = re.compile(rf"^\s*(?:le\s+|du\s+)?(?:{DATE_RE})", re.IGNORECASE)
DATELINE = re.compile(
    r"^(?:publi|mis\s+[àa]\s+jour|mise\s+[àa]\s+jour|date\s+de\s+(?:publication|mise)|date\b|derni[èe]re\s+mise)",
    re.IGNORECASE,
)


def _bulletin_lines(block: _Block, message: Message) -> list[Message]:
    """An alert whose text lists its BIPs as lines ("BIP n°1 publié le …") holds one message each."""
    from knowledge.services import fold

    if classify(message.title, message.body) is not ItemKind.ALERT:
        return [message]
    lines = message.body.split("\n")
    starts = [i for i, line in enumerate(lines) if i > 0 and _BULLETIN_LINE.match(fold(line))]
    if not starts:
        return [message]
    message.body = "\n".join(lines[: starts[0]])
    parts = [message]
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        parts.append(
            Message(
                title=lines[start],
                body="\n".join(lines[start + 1 : end]),
                where=f"line {start + 1} of {message.where}",
                parent=-1,  # the alert just before it; resolved by the caller
            )
        )
    return parts


_RULE = re.compile(r"[\s\-=_*~#.·•]{3,}")


def _has_time(line: str) -> bool:
    return any(found.has_time for found in find_datetimes(line))


def _dated_paragraphs(block: _Block, message: Message) -> list[Message]:
    """Messages written as lines under one section heading ("Messages du SAU").

    A section heading that is not itself a message holds one message per line that starts with a
    date ("03/12/2026 10h32 : ALERTE …"), or per short title line followed by its date line
    ("ALERTE – GAMMA – DTI<br>Publié le …<br>…"), each with the lines after it.
    """
    title = block.heading.text
    if classify(title) is not ItemKind.INFORMATION or parse_datetime(title) is not None:
        return []
    if find_services(title) or classify(" ".join(block.labels)) is not ItemKind.INFORMATION:
        return []  # "DELTA H7 – EDI" under a badge "Alerte rouge": a message's title, not a section's
    groups: list[list[str]] = []
    lines = message.body.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        dated_next = bool(DATELINE.match(following) or _DATE_LED.match(following))
        after = lines[index + 2] if index + 2 < len(lines) else ""
        # "…traitée." / "12/03/2026 à 10h45" / "BIP n°1 – ECS": the bare date opens the next entry
        opens_next = len(after) <= 100 and classify(after) is not ItemKind.INFORMATION
        if dated_next and _bare_date(following) and opens_next:
            dated_next = False
        if len(line) <= 100 and dated_next and classify(line) is not ItemKind.INFORMATION:
            groups.append([line, following])  # a title, then its date line
            index += 2
            continue
        previous = lines[index - 1] if index else ""
        after_rule = not index or _RULE.fullmatch(previous) is not None
        titled = len(line) <= 100 and (after_rule or line.startswith("[")) and _has_time(line)
        if _DATE_LED.match(line) or (titled and classify(line) is not ItemKind.INFORMATION):
            groups.append([line])  # "[BIP N°1] DELTA H7 - 31/03/26 - 11:30" after a rule: its own date
        elif groups:
            groups[-1].append(line)
        index += 1
    out: list[Message] = []
    for group in groups:
        if len(group) > 1 and _bare_date(group[0]) and len(group[1]) <= 100:
            # "12/03/2026 à 10h45" then "BIP n°1 – ECS": a dated title
            group = [group[1], group[0], *group[2:]]
        head, rest = group[0], "\n".join(group[1:])
        if classify(head, rest) is ItemKind.INFORMATION:
            continue
        if any(link and link in head for link in block.links) and not _own_text(rest, block.links):
            continue  # "Derniers messages": a link to a message, with its date, is not the message
        out.append(Message(title=head, body=rest, where=f"a line under {message.where}"))
    return out


def _bare_date(line: str) -> bool:
    """A line that is a date and nothing else ("12/03/2026 à 10h45", "Le 3 décembre 2026, 9 h 20"): in
    a list of entries, such a line opens the entry whose title follows it."""
    found = find_datetimes(line)
    if not found:
        return False
    rest = (line[: found[0].start] + line[found[0].end :]).strip(" .,:;·•|–-()")
    return not rest or re.fullmatch(r"(?i)le|du", rest) is not None  # "Publié le …" is a title's date line


# --- dates near the title --------------------------------------------------------------------------
def as_utc(moment: datetime) -> datetime:
    """A <time datetime> value: with an offset, that instant; without one, Paris wall-clock time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=PARIS).astimezone(UTC)
    return moment.astimezone(UTC)


def _time_attr(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return parse_datetime(value)
    return as_utc(moment)


def _date_before(heading: _Heading) -> datetime | None:
    """A date written just before the title (timelines: "<div>12/02 14h20</div><h4>Alerte…</h4>"),
    or in another cell of the title's table row (history tables: Date | Service | Message)."""
    near = islice(heading.node.iterancestors(), 5)
    row = next((a for a in near if tag_of(a) == "tr"), None)
    if row is not None:
        for cell in row:
            if tag_of(cell) not in ("td", "th") or heading.node in cell.iterdescendants():
                continue
            text = text_of(cell)
            found = find_datetimes(text) if len(text) <= 60 else []
            if found and found[0].has_time:
                return found[0].at
    for node in (heading.node, heading.container):
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
                moment = _time_attr(str(value))
                if moment is not None:
                    return moment
        text = text_of(prev)
        found = find_datetimes(text)
        if text and len(text) <= 80 and found and (found[0].end - found[0].start) >= 0.4 * len(text):
            return found[0].at if found[0].has_time else None
    return None


def _index_dates(page: HtmlElement) -> dict[str, datetime]:
    """Dates an index gives to messages of the same page: a "Chronologie" table or list whose rows
    link to a message by its anchor (``<a href="#message-4901">``) beside the date it was published."""
    dates: dict[str, datetime] = {}
    for link in page.iter("a"):
        href = str(link.get("href") or "")
        if not href.startswith("#") or len(href) < 2:
            continue
        row = next((a for a in link.iterancestors() if tag_of(a) in ("tr", "li", "dd", "dt")), None)
        if row is None:
            continue
        rest = text_of(row).replace(text_of(link), " ")
        found = find_datetimes(rest)
        if found and found[0].has_time:
            dates.setdefault(href[1:], found[0].at)
    return dates


def _indexed(heading: _Heading, dates: dict[str, datetime]) -> datetime | None:
    """The date an index gives to the message this heading titles (its box, or the title, by id)."""
    if not dates:
        return None
    for node in (heading.node, *islice(heading.node.iterancestors(), 6)):
        if tag_of(node) in ("body", "main"):
            break
        anchor = node.get("id")
        if anchor and anchor in dates:
            return dates[anchor]
        if heading.container is not None and node is heading.container:
            break
    return None


# --- entry point ----------------------------------------------------------------------------------
def messages(page: HtmlElement, tables: set[HtmlElement]) -> list[Message]:
    """Every titled block of the page (messages and section headings alike) in reading order."""
    out: list[Message] = []
    index_of: dict[int, int] = {}
    indexed = _index_dates(page)
    for block in _blocks(tokens(page, tables), page):
        if _teaser(block):
            continue
        own = Message(
            title=block.heading.text,
            body=block.body,
            where=describe(block.heading.node),
            labels=list(block.labels),
            time_attr=_time_attr(block.time),
            date_before=_date_before(block.heading) or _indexed(block.heading, indexed),
        )
        parent = block.parent
        while parent is not None and id(parent) not in index_of:
            parent = parent.parent
        own.parent = index_of[id(parent)] if parent is not None else None
        lines = _dated_paragraphs(block, own)
        if lines == [] and _link_list(block):
            continue  # "Derniers messages": links to messages, each with its date
        if lines:  # a section heading holding messages written as lines: the lines are the messages
            for message in lines:
                message.parent = own.parent
            out.extend(lines)
            continue
        index_of[id(block)] = len(out)
        base = len(out)
        for message in _bulletin_lines(block, own):
            if message.parent == -1:
                message.parent = base
            out.append(message)
    return _without_wrappers(out)


def _own_text(body: str, links: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
    """Whether a text says something beyond dates ("03/12/2026", "Publié le …", "il y a 2 h") and
    links to other pages."""
    for line in body.split("\n"):
        for link in links:
            line = line.replace(link, " ") if link else line
        rest = line
        for found in reversed(find_datetimes(line)):
            rest = rest[: found.start] + rest[found.end :]
        if re.search(r"[A-Za-zÀ-ÿ]{3,}", DATELINE.sub("", rest.strip())) and len(rest.strip()) > 12:
            return True
    return False


def _link_list(block: _Block) -> bool:
    """A block whose text is only links (titles of other pages) and dates."""
    linked = any(link and link in line for line in block.body.split("\n") for link in block.links)
    return linked and not _own_text(block.body, block.links)


def _teaser(block: _Block) -> bool:
    """A title that is a link to the message's own page, with nothing but a date under it (a list of
    recent messages, a tile "À lire aussi"): a reference to a message, not the message."""
    node = block.heading.node
    linked = (
        tag_of(node) == "a"
        or any(tag_of(a) == "a" for a in node.iterancestors())
        or (len(node) >= 1 and all(tag_of(child) == "a" for child in node) and not (node.text or "").strip())
    )
    return linked and not _own_text(block.body, block.links)


def _same_title(a: str, b: str) -> bool:
    def key(title: str) -> str:
        return re.sub(r"[^A-Z0-9]", "", fold(re.sub(r"^\s*\[[^\]]{1,40}\]", "", title)))

    ka, kb = key(a), key(b)
    return bool(ka) and (ka == kb or (len(kb) >= 12 and kb in ka) or (len(ka) >= 12 and ka in kb))


def _relays(post: Message, quote: Message) -> bool:
    """Whether ``post`` relays the message ``quote`` it holds: the same title, or the same kind of
    message on the same téléservices ("Alerte DGDDI : DELTA T indisponible" quoting "ALERTE ROUGE –
    DELTA T – EDI")."""
    if _same_title(post.title, quote.title):
        return True
    kind = classify(quote.title)
    if kind in (ItemKind.INFORMATION, ItemKind.BULLETIN) or classify(post.title) is not kind:
        return False
    named = set(find_services(post.title))
    return bool(named) and named == set(find_services(quote.title))


def _without_wrappers(found: list[Message]) -> list[Message]:
    """A post that quotes the SAU's message under the same title ("[Relais DGDDI] ALERTE – …" holding
    "<blockquote><strong>ALERTE – …</strong>…") is one message: the quote, with the post's dates
    when it has none."""
    wrappers: dict[int, int] = {}
    for index, message in enumerate(found):
        parent = message.parent
        if parent is not None and parent not in wrappers and _relays(found[parent], message):
            wrappers[parent] = index
    if not wrappers:
        return found
    for outer, inner in wrappers.items():
        quote, post = found[inner], found[outer]
        quote.parent = post.parent
        quote.labels[:0] = post.labels
        if quote.time_attr is None and quote.date_before is None and not find_datetimes(quote.body):
            quote.time_attr, quote.date_before = post.time_attr, post.date_before
            quote.body = "\n".join(part for part in (quote.body, post.body) if part)
    keep = [i for i in range(len(found)) if i not in wrappers]
    new_index = {old: new for new, old in enumerate(keep)}
    out = []
    for i in keep:
        message = found[i]
        parent = message.parent
        while parent is not None and parent in wrappers:
            parent = found[parent].parent
        message.parent = new_index.get(parent) if parent is not None else None
        out.append(message)
    return out
