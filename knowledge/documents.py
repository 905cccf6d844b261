"""The knowledge base on disk: the five DGDDI documents as Markdown files with front matter.

Each ``knowledge/docs/<doc-id>.md`` was converted once, by hand, from the plain-text seed: the
front matter (TOML between ``+++`` lines, read by the standard library: PyYAML held 0.9 MB of the
long-running process for five small headers) says what the document is (id, title, services,
source, date) and tags sections with
roles (``fallback``, ``resumption``, ``deadline``, ``selftrigger``, ``assistance-request``…), the
body holds the official French wording, one ``## Heading {#section-id}`` per step or case. This
module parses them into frozen dataclasses; it knows nothing about searching or answering.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from knowledge.services import CANONICAL

#: The document ids, in the order the project lists them.
DOC_IDS: tuple[str, ...] = ("fiche-1", "fiche-4", "fiche-9", "note-2023-08", "gamma")

FENCE = "+++"  # the front matter's first and last lines

_HEADING = re.compile(r"^## (?P<heading>.+?) \{#(?P<id>[a-z0-9-]+)\}\s*$", re.MULTILINE)


class DocumentError(ValueError):
    """A knowledge-base file that does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where an answer comes from: a section of a document, and a reference a person can follow."""

    doc: str
    section: str
    heading: str
    ref: str


@dataclass(frozen=True, slots=True)
class Contrast:
    """A one-line "elsewhere it differs" note a section gives about a role (e.g. self-triggering)."""

    role: str
    fr: str
    en: str


@dataclass(frozen=True, slots=True)
class Section:
    doc: str
    id: str
    heading: str
    label: str
    body: str
    roles: tuple[str, ...] = ()
    summary: str = ""
    contrast: Contrast | None = None

    def source(self, short_title: str) -> Source:
        return Source(self.doc, self.id, self.heading, f"DGDDI, {short_title}, {self.label}")

    @property
    def part(self) -> str:
        """The step or part of its document the section belongs to: its label without the
        qualifier ("Étape 4 (délai)" → "Étape 4", "II (fiche d'inscription)" → "II")."""
        return self.label.split(" (")[0]


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    title: str
    short: str
    services: tuple[str, ...]
    related: tuple[str, ...]
    source: str
    date: str | None
    sections: tuple[Section, ...] = field(default=())

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(f"{self.id} has no section {section_id!r}")

    def cite(self, section: Section) -> Source:
        return section.source(self.short)

    def with_role(self, role: str) -> list[Section]:
        return [s for s in self.sections if role in s.roles]


def _strs(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DocumentError(f"{what} must be a list of strings")
    return tuple(value)


def _label(heading: str) -> str:
    """ "Étape 3 – Dans quel cas…" → "Étape 3"; a heading without a dash is its own label."""
    return heading.split(" – ", 1)[0].strip()


def parse(text: str) -> Document:
    """Parse one knowledge-base file (TOML front matter between ``+++`` lines, then the sections)."""
    if not text.startswith(f"{FENCE}\n"):
        raise DocumentError("missing front matter")
    head, fenced, body = text[len(FENCE) + 1 :].partition(f"\n{FENCE}\n")
    if not fenced:
        raise DocumentError("front matter is not closed")
    try:
        meta: dict[str, Any] = tomllib.loads(head)
    except tomllib.TOMLDecodeError as exc:
        raise DocumentError(f"front matter is not valid TOML: {exc}") from exc
    try:
        doc_id, title, short, source = (str(meta[k]) for k in ("id", "title", "short", "source"))
    except KeyError as exc:
        raise DocumentError(f"front matter lacks {exc.args[0]!r}") from exc
    services = _strs(meta.get("services"), "services")
    related = _strs(meta.get("related"), "related")
    unknown = [s for s in (*services, *related) if s not in CANONICAL]
    if unknown:
        raise DocumentError(f"{doc_id}: unknown services {unknown}")
    section_meta: Mapping[str, Any] = meta.get("sections") or {}
    matches = list(_HEADING.finditer(body))
    if not matches:
        raise DocumentError(f"{doc_id}: no sections")
    sections = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        sid, heading = m["id"], m["heading"].strip()
        info: Mapping[str, Any] = section_meta.get(sid) or {}
        contrast = info.get("contrast")
        sections.append(
            Section(
                doc=doc_id,
                id=sid,
                heading=heading,
                label=str(info.get("label") or _label(heading)),
                body=body[m.end() : end].strip(),
                roles=_strs(info.get("roles"), f"{doc_id}#{sid} roles"),
                summary=str(info.get("summary") or ""),
                contrast=Contrast(str(contrast["role"]), str(contrast["fr"]), str(contrast["en"]))
                if contrast
                else None,
            )
        )
    stray = set(section_meta) - {s.id for s in sections}
    if stray:
        raise DocumentError(f"{doc_id}: metadata for missing sections {sorted(stray)}")
    date = meta.get("date")
    return Document(
        id=doc_id,
        title=title,
        short=short,
        services=services,
        related=related,
        source=source,
        date=None if date is None else str(date),
        sections=tuple(sections),
    )


@lru_cache(maxsize=1)
def load_documents() -> tuple[Document, ...]:
    """Every document of the knowledge base, in ``DOC_IDS`` order (read once per process)."""
    folder = resources.files("knowledge") / "docs"
    return tuple(parse((folder / f"{doc_id}.md").read_text(encoding="utf-8")) for doc_id in DOC_IDS)


def by_id(docs: Sequence[Document]) -> dict[str, Document]:
    return {d.id: d for d in docs}
