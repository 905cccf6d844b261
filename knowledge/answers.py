"""Answering an operator's question from the fiches: a quoted passage, its citation, or a plain "no".

``answer()`` finds the best section (:mod:`knowledge.search`), decides whether the documents
answer the question at all, then quotes the part of the section that does (:mod:`knowledge.passages`)
under a one-line lead in the question's language. The official French wording is never
paraphrased.

Abstention is decided from two measured signals, not from a list of forbidden topics: the share
of the question's topic (each word weighted by its rarity in the corpus; a word the fiches never
use weighs most) that the corpus knows, and the share the chosen section itself contains. A
question about a passport or a restaurant is mostly words the fiches never use, so both shares are
low and the engine says so and gives the SAU du CID contact instead of a confident wrong passage.

Context: when the question names a téléservice, documents covering it are preferred; when it does
not, a section's ``contrast`` note from another document says in one line where that other
téléservice differs (GAMMA: the customs service decides). When open alerts are passed in ``live``
and one concerns a téléservice the question names, the answer starts by saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from knowledge.documents import Document, Section, Source
from knowledge.intents import Intent, gives_contact, read_intent
from knowledge.passages import trim
from knowledge.search import KnowledgeBase, Retrieval
from knowledge.services import find_services, order
from knowledge.text import Query, analyse_fr, analyse_question, detect_lang, fold

__all__ = ["Answer", "Source", "answer", "SAU_PHONE", "SAU_EMAIL"]

SAU_PHONE = "09 702 80 100"
SAU_EMAIL = "cid-sau@douane.finances.gouv.fr"

MIN_VOCAB_COVERAGE = 0.6  # weighted share of the question's topic the corpus knows
MIN_SECTION_COVERAGE = 0.5  # weighted share the chosen section contains
MIN_SCORE = 1.0  # BM25 score under which nothing really matched
FULL_SCORE = 6.0  # a BM25 score at which the match itself is no longer in doubt
# ...and then a long question's filler words ("seems", "lasted") may leave the section a little less:
MIN_SECTION_COVERAGE_FULL = 0.4
OBJECT_IN_HEADING = 0.5  # "how do I obtain X": share of X the answering section's heading must name
OBJECT_CANDIDATES = 3  # ...looked for among this many best sections
OBJECT_MIN_RATIO = 0.5  # ...scoring at least this share of the best
MAX_CHARS = 1500  # the whole answer text: a passage, not a document
SECOND_RATIO = 0.7  # a runner-up section of the same document this close is quoted too
MIN_SECOND_CHARS = 200  # ...if at least this much room is left for it
SECOND_MIN_MATCH = 0.35  # ...and its quoted part matches the question a third as well as the first


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    sources: list[Source]
    confidence: float
    abstained: bool
    lang: str


def answer(question: str, live: Sequence[Mapping[str, Any]] | None = None) -> Answer:
    """Answer ``question`` (French or English) from the fiches, or abstain.

    ``live`` is the current open alerts: mappings with ``services`` (canonical names), ``modes``
    ("EDI"/"DTI"), ``level`` ("red"/"black"/None), ``published_at`` (ISO text or datetime) and
    ``title``.
    """
    kb = KnowledgeBase.load()
    lang = detect_lang(question)
    services = find_services(question)
    intent = read_intent(question, kb.documents)
    query = intent.demote(analyse_question(question, lang, vocabulary=kb.surface_words))
    found = _about_the_object(kb, kb.search(query, services, intent=intent), intent)
    alert = _alert_line(live or (), services, lang)
    confidence = _confidence(found)
    if not _answerable(found):
        return _abstain(lang, alert, confidence)

    top = found.hits[0]
    doc, section = top.document, top.section
    lines = [alert] if alert else []
    lines.append(_lead(doc, section, services, lang))
    if services and not set(services) & set(doc.services) | set(doc.related):
        lines.append(_not_specific(services, lang))
    contrasts = [] if services else _contrasts(kb, doc, section)
    tail = [c.contrast.en if lang == "en" else c.contrast.fr for c in contrasts if c.contrast]
    weigh = _block_scorer(kb, query, intent)
    room = MAX_CHARS - sum(len(x) + 1 for x in (*lines, *tail)) - 2
    passage = trim(section.body, weigh, min(room, 1100))
    lines.append(passage)
    sources = [doc.cite(section)]

    second = _runner_up(found, top.score)
    room -= len(passage) + 1
    if second is not None and room >= MIN_SECOND_CHARS:
        header = f"{'See also' if lang == 'en' else 'Voir aussi'} {second.heading}"
        extra = trim(second.body, weigh, room - len(header) - 2)
        if weigh(extra) >= SECOND_MIN_MATCH * weigh(passage):
            lines += ["", header, extra]
            sources.append(doc.cite(second))
    if tail:
        lines += ["", *tail]
        sources += [kb.by_doc[c.doc].cite(c) for c in contrasts]
    return Answer("\n".join(lines), sources, confidence, False, lang)


def _answerable(found: Retrieval) -> bool:
    if not found.hits or not found.query.topic:
        return False
    score = found.hits[0].score
    floor = MIN_SECTION_COVERAGE_FULL if score >= FULL_SCORE else MIN_SECTION_COVERAGE
    return (
        score >= MIN_SCORE and found.vocab_coverage >= MIN_VOCAB_COVERAGE and found.section_coverage >= floor
    )


def _about_the_object(kb: KnowledgeBase, found: Retrieval, intent: Intent) -> Retrieval:
    """For "how do I obtain / become / create X": the best section headed by X, or none.

    A section that only mentions X in passing (a field of a form, a requirement among others)
    does not say how to obtain it: "comment obtenir un numéro EORI ?" must not be answered with
    the list of references a demande d'assistance carries. X's words (glossary synonyms included)
    must all be in the section and, by weight, mostly in its heading; without such a section the
    engine abstains.
    """
    if not intent.obtain or not found.hits:
        return found
    wanted = set(intent.obtain)
    groups = [
        g
        for g in found.query.topic
        if set(fold(g.word).split()) & wanted and fold(g.word) not in kb.service_words
    ]
    if not groups:
        return found
    context = set(intent.obtain_context)
    asked = [g for g in found.query.topic if set(fold(g.word).split()) & context]
    if not all(kb.knows(g) for g in asked):  # X ("un compte en banque") is something the fiches never name
        return replace(found, hits=(), section_coverage=0.0)
    best = found.hits[0].score
    for hit in found.hits[:OBJECT_CANDIDATES]:
        if hit.score < OBJECT_MIN_RATIO * best:
            break
        inside = all(set(g.terms) & kb.section_terms[hit.index] for g in groups)
        if inside and kb.heading_share(groups, hit) >= OBJECT_IN_HEADING:
            rest = tuple(h for h in found.hits if h is not hit)
            return replace(found, hits=(hit, *rest), section_coverage=kb.section_coverage(found.query, hit))
    return replace(found, hits=(), section_coverage=0.0)


def _confidence(found: Retrieval) -> float:
    """How sure the engine is that the chosen section answers: coverage times match strength."""
    if not found.hits:
        return 0.0
    strength = min(1.0, found.hits[0].score / FULL_SCORE)
    value = found.section_coverage * (0.5 + 0.5 * found.vocab_coverage) * (0.6 + 0.4 * strength)
    return round(max(0.0, min(1.0, value)), 3)


def _block_scorer(kb: KnowledgeBase, query: Query, intent: Intent) -> Callable[[str], float]:
    """How well one block of a section answers: its question words, and a contact if one is asked."""
    groups = [(g, kb.weight(g) * (0.5 if g.weak else 1.0)) for g in query.groups]
    contact_bonus = max((w for _, w in groups), default=1.0) if intent.contact else 0.0

    def score(block: str) -> float:
        terms = set(analyse_fr(block))
        value = sum(w for g, w in groups if terms.intersection(g.terms))
        return value + (contact_bonus if contact_bonus and gives_contact(block) else 0.0)

    return score


def _runner_up(found: Retrieval, best: float) -> Section | None:
    top = found.hits[0]
    for hit in found.hits[1:]:
        if hit.document.id == top.document.id and hit.score >= SECOND_RATIO * best:
            return hit.section
    return None


def _contrasts(kb: KnowledgeBase, doc: Document, section: Section) -> list[Section]:
    """Sections of other documents that say how they differ on one of this section's roles."""
    return [
        s
        for d in kb.documents
        if d.id != doc.id
        for s in d.sections
        if s.contrast is not None and s.contrast.role in section.roles
    ]


def _lead(doc: Document, section: Section, services: Sequence[str], lang: str) -> str:
    names = ", ".join(s for s in order(services) if s in doc.services or s in doc.related)
    if lang == "en":
        who = f"For {names}, according" if names else "According"
        return f"{who} to DGDDI ({doc.short}, {section.heading}), official French text:"
    who = f"Pour {names}, d'après" if names else "D'après"
    return f"{who} la DGDDI ({doc.short}, {section.heading}) :"


def _not_specific(services: Sequence[str], lang: str) -> str:
    names = ", ".join(services)
    if lang == "en":
        return f"The fiches do not deal with {names} specifically; this is the closest case they cover."
    return (
        f"Les fiches ne traitent pas spécifiquement de {names} ; "
        "voici le cas le plus proche qu'elles décrivent."
    )


def _abstain(lang: str, alert: str, confidence: float) -> Answer:
    if lang == "en":
        text = (
            "The DGDDI fiches in this knowledge base do not cover this question. "
            f"For help, contact the SAU du CID: {SAU_PHONE}, {SAU_EMAIL}."
        )
    else:
        text = (
            "Les fiches de la DGDDI de cette base ne traitent pas de cette question. "
            f"Pour toute aide, contactez le SAU du CID : {SAU_PHONE}, {SAU_EMAIL}."
        )
    return Answer("\n".join(x for x in (alert, text) if x), [], confidence, True, lang)


_LEVELS = {"red": ("rouge", "red"), "black": ("noire", "black")}


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return ""


def _alert_line(live: Sequence[Mapping[str, Any]], services: Sequence[str], lang: str) -> str:
    """One line saying an alert is open for a téléservice the question names (empty if none)."""
    if not services:
        return ""
    parts = []
    for alert in live:
        concerned = [s for s in order(alert.get("services") or ()) if s in services]
        if not concerned:
            continue
        details = [", ".join(alert.get("modes") or ())]
        level = _LEVELS.get(str(alert.get("level") or ""))
        if level:
            details.append(f"level {level[1]}" if lang == "en" else f"niveau {level[0]}")
        detail = " ; ".join(d for d in details if d)
        when = _when(alert.get("published_at"))
        title = str(alert.get("title") or "").strip()
        names = ", ".join(concerned)
        if lang == "en":
            parts.append(
                f"An alert is open for {names}"
                + (f" ({detail})" if detail else "")
                + (f", published {when}" if when else "")
                + (f": “{title}”" if title else "")
                + "."
            )
        else:
            parts.append(
                f"Une alerte est en cours pour {names}"
                + (f" ({detail})" if detail else "")
                + (f", publiée le {when}" if when else "")
                + (f" : « {title} »" if title else "")
                + "."
            )
    if not parts:
        return ""
    if lang == "en":
        parts.append(
            "An alert published by the CID applies: follow it and the BIP bulletins rather than "
            "self-triggering the fallback procedure."
        )
    else:
        parts.append(
            "Une alerte publiée par le CID s'applique : suivez-la ainsi que les BIP plutôt que "
            "d'auto-déclencher la procédure de secours."
        )
    return " ".join(parts)
