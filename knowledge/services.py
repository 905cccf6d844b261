"""The téléservices of the DGDDI and the many ways people and pages spell them.

The météo page, the fiches and the people asking questions write "DELTA G", "Delta-G", "DeltaG",
"Delt@ G", "ICS-Delta P" or "Delta X Import et Export". Everything downstream (lifecycle events,
subscriber filters, answers) must speak of one canonical name per service, so the alias table
lives here, in the package every other one may import, and nowhere else.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

#: Canonical names, in the order they are usually listed on the météo page.
CANONICAL: tuple[str, ...] = (
    "DELTA G",
    "DELTA X Import",
    "DELTA X Export",
    "DELTA T",
    "DELTA H7",
    "DELTA C",
    "DELTA D",
    "ICS",
    "ICS2",
    "ECS",
    "NCTS",
    "GAMMA",
    "EMCS",
    "AUBETTE",
    # Added later: chat buttons carry an index into this tuple, so new names go at the end.
    "DELTA IE",
    "GUN",
    "SOPRANO",
    "DEB",  # the déclaration d'échanges de biens: people ask about it; no fiche covers it
)

# Patterns run on folded text (upper case, accents removed, "@" read as "A", dashes, slashes, dots
# and underscores as spaces — so "Import/Export" and "Imp.-Exp." arrive as "IMPORT EXPORT").
# Order matters: the longest spellings first, so "DELTA X IMPORT ET EXPORT" is read before
# "DELTA X IMPORT", and "ICS2" before "ICS".
_BOTH = r"(?:\s*(?:ET|&|,)\s*|\s+)"  # "Import et Export", "Import, Export", "Import Export"
_D = r"DELT\s?A"  # "DELTA", "DELT@" (folded to DELTA) and "DELT A"
_ALIASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # DELTA IE (import/export declarations since 2025): "Delta IE", "Delt@ I/E", "DELTA IE volet export"
    (
        rf"\b{_D}\s*I\s*E\b(?:\s+(?:VOLETS?\s+)?(?:IMPORT|EXPORT)(?:{_BOTH}(?:IMPORT|EXPORT))?\b)?",
        ("DELTA IE",),
    ),
    (rf"\b{_D}\s*X\s*(?:IMPORT|IMP){_BOTH}(?:EXPORT|EXP)\b", ("DELTA X Import", "DELTA X Export")),
    (rf"\b{_D}\s*X\s*(?:EXPORT|EXP){_BOTH}(?:IMPORT|IMP)\b", ("DELTA X Import", "DELTA X Export")),
    (rf"\b{_D}\s*X\s*(?:IMPORT|IMP|I)\b", ("DELTA X Import",)),
    (rf"\b{_D}\s*X\s*(?:EXPORT|EXP|E)\b", ("DELTA X Export",)),
    (rf"\b{_D}\s*X\b", ("DELTA X Import", "DELTA X Export")),
    (rf"\b{_D}\s*G\b", ("DELTA G",)),
    (rf"\b{_D}\s*T\b", ("DELTA T",)),
    (rf"\b{_D}\s*H\s*7\b", ("DELTA H7",)),
    (rf"\b{_D}\s*C\b", ("DELTA C",)),
    (rf"\b{_D}\s*D\b", ("DELTA D",)),
    (rf"\b{_D}\s*P\b", ("ICS",)),  # "ICS-Delta P" is ICS
    (rf"\b{_D}\s*I\s*E\b", ("DELTA IE",)),
    (r"\bICS\s*2\b", ("ICS2",)),
    (r"\bICS\b", ("ICS",)),
    (r"\bECS\b", ("ECS",)),
    (r"\bNCTS\b", ("NCTS",)),
    (r"\bNSTI\b", ("NCTS",)),  # the old name of the transit service
    (r"\bGAMMA\b", ("GAMMA",)),
    (r"\bEMCS\b", ("EMCS",)),
    (r"\bAUBETTE\b", ("AUBETTE",)),
    (r"\bGUN\b", ("GUN",)),  # the guichet unique national
    (r"\bSOPRANO\b", ("SOPRANO",)),
    (r"\bDEB\b", ("DEB",)),
)
# One alternation, tried left to right at each position: the longest spellings win, and a matched
# spelling is consumed (so "ICS2" is not read again as "ICS", nor "X IMPORT ET EXPORT" as "X").
_ANY = re.compile("|".join(f"(?P<a{i}>{pattern})" for i, (pattern, _) in enumerate(_ALIASES)))
# Where a service name can start: a cheap scan before the full alternation is tried there.
_START = re.compile(r"\b(?:DELT|ICS|ECS|NCTS|NSTI|GAMMA|EMCS|AUBETTE|GUN|SOPRANO|DEB)")
_NAMES = {f"a{i}": names for i, (_, names) in enumerate(_ALIASES)}


def _accent_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if base != char:
            table[code] = base
    table.update({ord("œ"): "oe", ord("Œ"): "OE", ord("æ"): "ae", ord("Æ"): "AE", ord("@"): "a"})
    return table


_ACCENTS = _accent_table()
_PUNCT = re.compile(r"[-_./'’]+")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Upper-case, accent-free, '@' read as 'A', punctuation between letters read as a space."""
    text = text.translate(_ACCENTS)
    if not text.isascii():  # rarer letters: the general (slower) decomposition
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _PUNCT.sub(" ", text.upper())


def find_services(text: str) -> list[str]:
    """Every canonical service named in ``text``, in canonical order, without duplicates.

    ICS and ICS2 are told apart; "ICS-Delta P" counts as ICS only (not as a Delta service).
    """
    folded = fold(text)
    found: set[str] = set()
    position = 0
    while (start := _START.search(folded, position)) is not None:
        match = _ANY.match(folded, start.start())
        if match is None:
            position = start.start() + 1
            continue
        found.update(_NAMES[match.lastgroup or ""])
        position = match.end()
    return [name for name in CANONICAL if name in found]


def canonical(name: str) -> str | None:
    """The canonical name of one service spelling, or None when it names no known service.

    A spelling that names two services ("Delta X") returns None: use :func:`find_services`.
    """
    names = find_services(name)
    return names[0] if len(names) == 1 else None


def order(names: Iterable[str]) -> list[str]:
    """Canonical names sorted in canonical order (unknown names last, alphabetically)."""
    rank = {n: i for i, n in enumerate(CANONICAL)}
    return sorted(set(names), key=lambda n: (rank.get(n, len(rank)), n))
