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
)

# Patterns run on folded text (upper case, accents removed, "@" read as "A", dashes and
# underscores as spaces). Order matters: the longest spellings first, so "DELTA X IMPORT ET EXPORT"
# is read before "DELTA X IMPORT", and "ICS2" before "ICS".
_D = r"DELT\s?A"  # "DELTA", "DELT@" (folded to DELTA) and "DELT A"
_ALIASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (rf"\b{_D}\s*X\s*(?:IMPORT|IMP)\s*(?:ET|/|&|,)\s*(?:EXPORT|EXP)\b", ("DELTA X Import", "DELTA X Export")),
    (rf"\b{_D}\s*X\s*(?:EXPORT|EXP)\s*(?:ET|/|&|,)\s*(?:IMPORT|IMP)\b", ("DELTA X Import", "DELTA X Export")),
    (rf"\b{_D}\s*X\s*(?:IMPORT|IMP|I)\b", ("DELTA X Import",)),
    (rf"\b{_D}\s*X\s*(?:EXPORT|EXP|E)\b", ("DELTA X Export",)),
    (rf"\b{_D}\s*X\b", ("DELTA X Import", "DELTA X Export")),
    (rf"\b{_D}\s*G\b", ("DELTA G",)),
    (rf"\b{_D}\s*T\b", ("DELTA T",)),
    (rf"\b{_D}\s*H\s*7\b", ("DELTA H7",)),
    (rf"\b{_D}\s*C\b", ("DELTA C",)),
    (rf"\b{_D}\s*D\b", ("DELTA D",)),
    (rf"\b{_D}\s*P\b", ("ICS",)),  # "ICS-Delta P" is ICS
    (r"\bICS\s*2\b", ("ICS2",)),
    (r"\bICS\b", ("ICS",)),
    (r"\bECS\b", ("ECS",)),
    (r"\bNCTS\b", ("NCTS",)),
    (r"\bNSTI\b", ("NCTS",)),  # the old name of the transit service
    (r"\bGAMMA\b", ("GAMMA",)),
    (r"\bEMCS\b", ("EMCS",)),
    (r"\bAUBETTE\b", ("AUBETTE",)),
)
_COMPILED = tuple((re.compile(p), names) for p, names in _ALIASES)


def fold(text: str) -> str:
    """Upper-case, accent-free, '@' read as 'A', punctuation between letters read as a space."""
    text = unicodedata.normalize("NFKD", text.replace("@", "a"))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    return re.sub(r"[-_./'’]+", " ", text)


def find_services(text: str) -> list[str]:
    """Every canonical service named in ``text``, in canonical order, without duplicates.

    ICS and ICS2 are told apart; "ICS-Delta P" counts as ICS only (not as a Delta service).
    """
    folded = fold(text)
    found: set[str] = set()
    for pattern, names in _COMPILED:
        if pattern.search(folded):
            found.update(names)
            folded = pattern.sub(" ", folded)  # a matched spelling is not read again by a shorter one
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
