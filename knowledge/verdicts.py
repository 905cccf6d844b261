"""What a sentence says to a yes/no question: "yes", "no" or nothing.

A "may I" question is answered no by a sentence that withholds the possibility ("ne peut être
effectuée que par le CID") and yes by one that grants it in so many words ("vous pouvez", "est de
droit"); a "must I / is it needed" question is answered no by a sentence that lifts the obligation
("n'est pas nécessaire", "aucune autorisation ne soit requise", "ne peut en aucun cas être
conditionnée à"). Anything else gets no "oui" or "non": a yes is never guessed from the mere
absence of a negation.

Two readers use it: the answer's first line ("Non : « … »") and the ranker, for which a section
holding a sentence that says yes or no on the question's topic is one more signal.
"""

from __future__ import annotations

import re

from knowledge.text import analyse_fr, analyse_question, detect_lang

__all__ = ["asks_yes_no", "verdict"]

_MAY_NOT = re.compile(
    r"\b(?:ne peu(?:t|vent) pas|ne pouvez pas|ne peu(?:t|vent) être [a-zé]+ que|n'est pas possible)\b",
    re.IGNORECASE,
)
_NEED_NOT = re.compile(
    r"\b(?:n'est pas nécessaire|aucune? [a-zé]+ ne soi(?:t|ent) requis|en aucun cas être conditionnée|"
    r"ne doi(?:t|vent) pas|n'ont pas à|n'avez pas à|aucune? [^.;]{0,40}\bne doi(?:t|vent)\b)",
    re.IGNORECASE,
)
#: a positive obligation ("le bureau doit en outre être informé"), not "ne doit pas"
_OBLIGES = re.compile(
    r"(?<!\bne )\b(?:doi(?:t|vent)|devez|devons|est tenue?|sont tenus?|obligatoirement)\b", re.IGNORECASE
)
_CLAUSE = re.compile(r",|;|\bmais\b|\btoutefois\b|\bcependant\b", re.IGNORECASE)
_PERMITS = re.compile(
    r"\b(?:vous pouvez|peut être|peuvent être|sont autorisés|êtes autorisé|est de droit)\b|"
    r"\b(?:ont|avez)\b[^.]{0,20}\bla possibilité\b",
    re.IGNORECASE,
)
_YES_NO = re.compile(
    r"\b(?:est-ce que|[a-zé]+-(?:t-)?(?:je|il|elle|on|ils|elles|nous|vous)\b)|"
    r"\b(?:je|j'|on|nous|vous)\s*(?:peux|peut|pouvons|pouvez|dois|doit|devons|devez)\b|\bou pas\b|"
    r"^\s*(?:can|may|must|should|do|does|did|is|are|am|will|would|have|has|shall)\b",
    re.IGNORECASE,
)
_WH = re.compile(
    r"\b(?:qui|que|qu'est|qu'a|quoi|quel|quelle|quels|quelles|quand(?! m[eê]me)|comment|où|combien|pourquoi|"
    r"lequel|laquelle|what|which|who|whom|when|where|how|why|koi|kel|kelle)\b",
    re.IGNORECASE,
)
_MAY = re.compile(
    r"\b(?:puis-je|peux|peut|pouvons|pouvez|peut-on|ai-je le droit|a-t-on le droit|can|may|allowed|"
    r"entitled)\b",
    re.IGNORECASE,
)
_MUST = re.compile(
    r"\b(?:dois|doit|doivent|devons|devez|faut|obligatoire|nécessaire|besoin|requise?|must|have to|has to|"
    r"need|needs|required|mandatory|necessary)\b",
    re.IGNORECASE,
)


def _last_sentence(question: str) -> str:
    return re.split(r"(?<=[.:;!?])\s+", question.strip())[-1]


def asks_yes_no(question: str) -> bool:
    """Whether the question (its last sentence) expects a yes or a no."""
    last = _last_sentence(question)
    # "Quand puis-je…", "When can I…" ask for a time, not for a yes or a no
    return not _WH.search(last) and (
        bool(_YES_NO.search(last) or _YES_NO.search(question))
        or last.rstrip().endswith("?")  # "Notre transitaire peut publier … ?"
    )


def verdict(sentence: str, question: str) -> str | None:
    """ "yes", "no", or None: what ``sentence`` says to ``question`` if it is a yes/no question."""
    if not asks_yes_no(question):
        return None
    last = _last_sentence(question)
    must = bool(_MUST.search(last))
    if _MAY.search(last) and not must:
        if _MAY_NOT.search(sentence):
            return "no"
        return "yes" if _PERMITS.search(sentence) else None
    lifted = _NEED_NOT.search(sentence)
    if lifted is None:
        return None
    # "Bien qu'aucune autorisation ne soit requise…, le bureau doit en outre être informé": the
    # sentence lifts one obligation and imposes another; "must we inform the office?" asks about
    # the one it imposes, and gets no "no" (the question's words said more of what it imposes)
    rest = _NEED_NOT.sub(" ", sentence)
    imposed = _OBLIGES.search(rest)
    if imposed is not None and _shared(last, _clause(rest, imposed.start())) > _shared(
        last, _clause(sentence, lifted.start())
    ):
        return None
    return "no"


def _clause(sentence: str, at: int) -> str:
    """From position ``at`` to the end of its clause (a comma, "mais", "toutefois"…): the
    obligation and what it is about ("ne doivent pas faire l'objet d'une réintégration")."""
    end = min((m.start() for m in _CLAUSE.finditer(sentence) if m.start() > at), default=len(sentence))
    return sentence[at:end]


def _shared(question: str, clause: str) -> int:
    """How many of the question's topic stems (English through the glossary) the clause holds."""
    asked = set(analyse_question(question, detect_lang(question)).terms())
    return len(asked & set(analyse_fr(clause)))
