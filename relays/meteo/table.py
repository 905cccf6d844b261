"""The status table: which téléservice is up or down, per transmission mode.

It is found by its content, never by its classes: a table with téléservice names down its first
column (or across its header, when transposed) and EDI/DTI across its header (or down its first
column), whose cells say "Disponible", "Perturbé", "Indisponible" — in words, in a title or
aria-label, or as a pictogram's alt text. The names in its first column are also the page's own
vocabulary of téléservices: a service the alias table does not know ("SOPRANO") is recognised in
the messages once the table lists it.
"""

from __future__ import annotations

import re

from lxml.etree import _Element as HtmlElement

from knowledge.services import find_services, fold

from ..snapshot import MODES, ServiceState, ServiceStatus
from .html_text import tag_of, text_of
from .words import find_modes, name_as_written

_STATE_WORDS: tuple[tuple[re.Pattern[str], ServiceState], ...] = (
    (
        re.compile(
            r"\bINDISPONIBLE\b|\bINTERROMPU|\bHORS\s+SERVICE\b|\bPANNE\b|\bARRET\b|\bNOIR|\bUNAVAILABLE\b|\bDOWN\b"
        ),
        ServiceState.DOWN,
    ),
    (re.compile(r"\bMAINTENANCE\b|\bPROGRAMME|\bPLANNED\b"), ServiceState.PLANNED),
    (
        re.compile(
            r"\bALERTE\b|\bPERTURB|\bDEGRADE|\bRALENTI|\bINCIDENT|\bPARTIEL|\bROUGE\b|\bORANGE\b|\bDISRUPTED\b"
            r"|\bDEGRADED\b"
        ),
        ServiceState.ALERT,
    ),
    (
        re.compile(
            r"\bDISPONIBLE\b|\bOPERATIONNEL|\bNORMAL|\bOK\b|\bFONCTIONNE|\bVERT\b|\bGREEN\b|\bAVAILABLE\b"
        ),
        ServiceState.OK,
    ),
)
_STATE_CLASSES: tuple[tuple[str, ServiceState], ...] = (
    ("noir", ServiceState.DOWN),
    ("black", ServiceState.DOWN),
    ("down", ServiceState.DOWN),
    ("error", ServiceState.DOWN),
    ("rouge", ServiceState.ALERT),
    ("red", ServiceState.ALERT),
    ("orange", ServiceState.ALERT),
    ("warn", ServiceState.ALERT),
    ("vert", ServiceState.OK),
    ("green", ServiceState.OK),
    ("success", ServiceState.OK),
    ("ok", ServiceState.OK),
)


def cell_state(cell: HtmlElement) -> tuple[ServiceState, str]:
    """A cell's state from its words, else its own or its pictograms' title/aria-label/alt text,
    else its classes."""
    labels = [text_of(cell), str(cell.get("title") or ""), str(cell.get("aria-label") or "")]
    for el in cell.iterdescendants():
        for attr in ("alt", "title", "aria-label"):
            value = el.get(attr)
            if value:
                labels.append(str(value))
    for label in labels:
        folded = fold(label)
        if not folded.strip():
            continue
        for rx, state in _STATE_WORDS:
            if rx.search(folded):
                return state, label
    classes = " ".join(str(el.get("class") or "") for el in cell.iter()).lower()
    for word, state in _STATE_CLASSES:
        if re.search(rf"(?<![a-z]){word}(?![a-z])", classes):
            return state, next((label for label in labels if label.strip()), "")
    return ServiceState.UNKNOWN, ""


def _names(text: str) -> tuple[str, ...]:
    """The téléservices a header or first cell names: known ones, else the name as written."""
    known = find_services(text)
    if known:
        return tuple(known)
    text = text.strip()
    if not text or len(text) > 40 or find_modes(text) or re.search(r"\d{2}[/:h]\d{2}", text):
        return ()
    name = name_as_written(text)
    return (name,) if name else ()


def _rows(table: HtmlElement) -> list[list[HtmlElement]]:
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")  # not the rows of nested tables
    return [[c for c in row if tag_of(c) in ("th", "td")] for row in rows]


def _read(rows: list[list[HtmlElement]], transposed: bool) -> list[ServiceStatus]:
    if transposed:  # modes down the first column, services across the header
        width = max(len(r) for r in rows)
        rows = [[r[i] for r in rows if i < len(r)] for i in range(width)]
    header_modes = [find_modes(text_of(h)) for h in rows[0]]
    found: list[ServiceStatus] = []
    for cells in rows[1:]:
        if len(cells) < 2:
            continue
        services = _names(text_of(cells[0]))
        for index, cell in enumerate(cells[1:], start=1):
            state, label = cell_state(cell)
            if state is ServiceState.UNKNOWN:
                continue
            modes = header_modes[index] if index < len(header_modes) and header_modes[index] else MODES
            found.extend(ServiceStatus(service, mode, state, label) for service in services for mode in modes)
    return found


def status_tables(root: HtmlElement) -> tuple[list[ServiceStatus], set[HtmlElement]]:
    """Every status table's cells, and the tables themselves (their text is not a message)."""
    statuses: list[ServiceStatus] = []
    tables: set[HtmlElement] = set()
    for table in root.iter("table"):
        rows = [r for r in _rows(table) if r]
        if len(rows) < 2:
            continue
        best: list[ServiceStatus] = []
        for transposed in (False, True):
            found = _read(rows, transposed)
            known = {s.service for s in found if find_services(s.service)}
            if len({s.service for s in found}) >= 2 and known and len(found) > len(best):
                best = found
        if best:
            tables.add(table)
            statuses.extend(best)
    return statuses, tables


def _state_of_text(text: str) -> ServiceState:
    folded = fold(text.rsplit(":", 1)[-1] if ":" in text else text)
    for rx, state in _STATE_WORDS:
        if rx.search(folded):
            return state
    return ServiceState.UNKNOWN


_DATED = re.compile(r"\b\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b")


def _names_a_message(entry: HtmlElement, text: str) -> bool:
    """A list entry that is a link, or carries a date, points to a message (an archive or "latest
    messages" list: "FIN D'ALERTE – ECS – EDI (29/09/2026)"); a status line states a present state."""
    links = [a for a in entry.iter("a") if text_of(a)]
    if links and sum(len(text_of(a)) for a in links) >= 0.8 * len(text):
        return True
    return bool(_DATED.search(text))


def status_lists(root: HtmlElement) -> tuple[list[ServiceStatus], set[HtmlElement]]:
    """Statuses written as a list rather than a table ("DELTA IE · EDI et DTI : disponible", one
    badge or item per téléservice): read like a table, and not taken for messages."""
    statuses: list[ServiceStatus] = []
    lists: set[HtmlElement] = set()
    for container in root.iter("ul", "ol", "dl"):
        found: list[ServiceStatus] = []
        for entry in container:
            text = text_of(entry)
            if not text or len(text) > 80 or _names_a_message(entry, text):
                continue
            services = find_services(text)
            state = _state_of_text(text)
            if services and state is not ServiceState.UNKNOWN:
                modes = find_modes(text) or MODES
                found.extend(ServiceStatus(s, m, state, text) for s in services for m in modes)
        if len({s.service for s in found}) >= 2 and len(found) >= 0.5 * len(container):
            lists.add(container)
            statuses.extend(found)
    return statuses, lists


def vocabulary(statuses: list[ServiceStatus]) -> tuple[str, ...]:
    """The names the table uses that the alias table does not know, in table order."""
    out: list[str] = []
    for status in statuses:
        if not find_services(status.service) and status.service not in out:
            out.append(status.service)
    return tuple(out)


__all__ = ["MODES", "cell_state", "status_tables", "vocabulary"]
