"""Ready-made guidance for the relay and the bots: what to do when a téléservice fails, and after.

The relay knows which téléservices an alert concerns; it does not search. These helpers pick
sections by role (``fallback``, ``resumption``) among the documents covering those services
(ICS/ICS2 → fiche 9, GAMMA → the GAMMA presentation, Delta G/X → fiche 1 + fiche 4) and condense
each into its one-line ``summary`` from the knowledge base, which keeps the official French
wording. A service no document covers gets the general rule of fiche 1, said as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from knowledge.documents import Document, Section, Source, load_documents
from knowledge.services import order

__all__ = ["Guidance", "fallback_for", "resumption_for", "reintegration_deadline", "REINTEGRATION_DELAY"]

#: Fiche 4, étape 4: declarations are reintegrated within 24 hours of the end of alert.
REINTEGRATION_DELAY = timedelta(hours=24)

# The general rule when no document covers the services asked about: fiche 1.
_GENERAL = {"fallback": ("fiche-1", "etape-1"), "resumption": ("fiche-1", "etape-6")}


@dataclass(frozen=True, slots=True)
class Guidance:
    summary: str
    sources: list[Source]


def fallback_for(services: Sequence[str], lang: str = "fr") -> Guidance:
    """How to apply the procédure de secours for these téléservices (canonical names)."""
    return _guidance("fallback", services, lang)


def resumption_for(services: Sequence[str], lang: str = "fr") -> Guidance:
    """What to do at the fin d'alerte / reprise for these téléservices."""
    return _guidance("resumption", services, lang)


def reintegration_deadline(end_of_alert: datetime) -> datetime:
    """When fallback declarations must be back in Delta X: 24 hours after the end of alert (fiche 4)."""
    return end_of_alert + REINTEGRATION_DELAY


def _documents(services: Sequence[str]) -> list[tuple[Document, bool]]:
    """Documents covering the services (related=False) then those written for a neighbour (True)."""
    wanted = set(services)
    docs = load_documents()
    covering = [(d, False) for d in docs if wanted & set(d.services)]
    related = [(d, True) for d in docs if wanted & set(d.related) and not wanted & set(d.services)]
    return covering + related


def _lines(doc: Document, role: str, related: bool, services: Sequence[str]) -> list[tuple[str, Source]]:
    out = []
    for section in doc.with_role(role):
        if not section.summary:
            continue
        note = f" – {', '.join(doc.services)}" if related else ""
        out.append((f"• {section.summary} ({doc.short}, {section.label}{note})", doc.cite(section)))
    return out


def _guidance(role: str, services: Sequence[str], lang: str) -> Guidance:
    names = order(services)
    shown = ", ".join(names) or ("all téléservices" if lang == "en" else "tous téléservices")
    lines: list[str] = []
    sources: list[Source] = []
    for doc, related in _documents(names):
        for text, source in _lines(doc, role, related, names):
            lines.append(text)
            sources.append(source)
    if not lines:
        doc_id, section_id = _GENERAL[role]
        doc = next(d for d in load_documents() if d.id == doc_id)
        section: Section = doc.section(section_id)
        lines.append(
            f"Les fiches ne décrivent pas de consigne propre à {shown} ; règle générale :"
            if names
            else "Règle générale :"
        )
        lines.append(f"• {section.summary} ({doc.short}, {section.label})")
        sources.append(doc.cite(section))
    if lang == "en":
        what = "Fallback procedure" if role == "fallback" else "End of alert and resumption"
        lead = f"{what} for {shown} (official French wording, DGDDI):"
    else:
        what = "Procédure de secours" if role == "fallback" else "Fin d'alerte et reprise"
        lead = f"{what} – {shown} (DGDDI) :"
    return Guidance("\n".join([lead, *lines]), sources)
