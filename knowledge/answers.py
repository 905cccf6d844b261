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

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from knowledge.documents import Document, Section, Source
from knowledge.intents import Intent, gives_contact, read_intent
from knowledge.passages import key_sentence, trim
from knowledge.search import THIN_TOPIC, KnowledgeBase, Retrieval
from knowledge.services import CANONICAL, find_services, order
from knowledge.text import Query, analyse_fr, analyse_question, detect_lang, fold, words

__all__ = ["Answer", "Source", "answer", "SAU_PHONE", "SAU_EMAIL"]

SAU_PHONE = "09 702 80 100"
SAU_EMAIL = "cid-sau@douane.finances.gouv.fr"

# The logistic model of :func:`_confidence`, over :func:`evidence` (fitted on the dev sets).
WEIGHTS = (4.45, 0.05, 0.56, 1.19, 1.57)
BIAS = -5.08
DECLINE_AT = 0.5  # below this confidence the engine declines
OBJECT_IN_HEADING = 0.5  # "how do I obtain X": share of X the answering section's heading must name
OBJECT_CANDIDATES = 3  # ...looked for among this many best sections
OBJECT_MIN_RATIO = 0.5  # ...scoring at least this share of the best
MAX_CHARS = 1300  # the whole answer text: a passage, not a document
MAX_PASSAGE = 1000  # the quoted passage of the best section
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


def answer(
    question: str, live: Sequence[Mapping[str, Any]] | None = None, previous: str | None = None
) -> Answer:
    """Answer ``question`` (French or English) from the fiches, or abstain.

    ``live`` is the current open alerts: mappings with ``services`` (canonical names), ``modes``
    ("EDI"/"DTI"), ``level`` ("red"/"black"/None), ``published_at`` (ISO text or datetime) and
    ``title``. ``previous`` is the question asked just before in the same conversation: a
    fragment ("et pour GAMMA ?", "combien de temps ?") is read with that question's subject.
    """
    kb = KnowledgeBase.load()
    lang = detect_lang(question)
    asked = read(kb, question, lang)
    if previous and is_fragment(kb, asked):
        asked = asked.after(read(kb, previous, lang))
    services = asked.services
    alerting = _alerting(live or (), services)
    alert = _alert_line(alerting, lang)
    covered = kb.covered_services()
    if services and not set(services) & covered:
        return _other_service(lang, alert, services, sorted(covered, key=CANONICAL.index))
    intent = asked.intent
    search_services = services
    if alerting and not services:
        # An alert is open and the question names no téléservice: it is about the one in alert,
        # and a question saying little more than "it's down" is answered by following the alert.
        search_services = [s for a in alerting for s in a.get("services") or () if s in covered]
        if len([g for g in asked.query.topic if kb.knows(g)]) <= THIN_TOPIC:
            intent = replace(intent, roles=(*intent.roles, "alert-check"))
    found = _about_the_object(kb, kb.search(asked.query, search_services, intent=intent), intent)
    confidence = _confidence(found)
    if not found.hits or confidence < DECLINE_AT:
        return _abstain(lang, alert, confidence)

    top = found.hits[0]
    doc, section = top.document, top.section
    query = found.query
    weigh = _block_scorer(kb, query, intent)
    key = key_sentence(section.body, weigh)
    lines = [alert] if alert else []
    lines.append(_short_answer(key, question, lang))
    lines.append(_lead(doc, section, services, lang))
    if services and not set(services) & set(doc.services) | set(doc.related):
        lines.append(_not_specific(services, lang))
    contrasts = [] if services else _contrasts(kb, doc, section)
    tail = [c.contrast.en if lang == "en" else c.contrast.fr for c in contrasts if c.contrast]
    room = MAX_CHARS - sum(len(x) + 1 for x in (*lines, *tail)) - 2
    passage = trim(section.body, weigh, min(room, MAX_PASSAGE))
    lines.append(passage)
    sources = [doc.cite(section)]

    second = _runner_up(found, top.score)
    room -= len(passage) + 1
    if second is not None and room >= MIN_SECOND_CHARS:
        header = f"{'See also' if lang == 'en' else 'Voir aussi'} {second.heading}"
        extra = trim(second.body, weigh, room - len(header) - 2)
        if _adds(kb, query, passage, extra) and weigh(extra) >= SECOND_MIN_MATCH * weigh(passage):
            lines += ["", header, extra]
            sources.append(doc.cite(second))
    if tail:
        lines += ["", *tail]
        sources += [kb.by_doc[c.doc].cite(c) for c in contrasts]
    return Answer("\n".join(lines), sources, confidence, False, lang)


@dataclass(frozen=True, slots=True)
class Reading:
    """A question as the engine reads it: its words, the téléservices it names, what it asks for."""

    text: str
    query: Query
    services: list[str]
    intent: Intent

    def after(self, previous: Reading) -> Reading:
        """This fragment read with the subject of ``previous`` ("et pour GAMMA ?" after a question).

        The fragment's words are what is asked (they weigh double); the previous question's words
        give the subject. A téléservice the fragment names replaces the previous one.
        """
        own = tuple(replace(g, asked=True) for g in self.query.groups)
        service_words = {w for s in previous.services for w in fold(s).split()}
        keep = tuple(
            replace(g, asked=False)
            for g in previous.query.groups
            if not (self.services and set(fold(g.word).split()) <= service_words | {"import", "export"})
        )
        intent = self.intent if self.intent != Intent() else previous.intent
        query = Query(self.query.lang, keep + own)
        return Reading(f"{previous.text} {self.text}", query, self.services or previous.services, intent)


def read(kb: KnowledgeBase, question: str, lang: str) -> Reading:
    intent = read_intent(question, kb.documents)
    query = intent.demote(analyse_question(question, lang, vocabulary=kb.surface_words, correct=kb.correct))
    return Reading(question, query, find_services(question), intent)


FRAGMENT_WORDS = 6  # a message of at most this many words...
FRAGMENT_TOPIC = 2  # ...with at most this many words the fiches know is a fragment
_CONTINUATIONS = ("et ", "and ", "what about", "same ", "pareil", "idem", "ou ", "or ", "mais ", "but ")


def is_fragment(kb: KnowledgeBase, asked: Reading) -> bool:
    """Whether a message only makes sense with the question before it ("et pour GAMMA ?")."""
    opening = " ".join(words(fold(asked.text))) + " "
    if any(opening.startswith(c) for c in _CONTINUATIONS):
        return True
    known = [g for g in asked.query.topic if kb.knows(g)]
    return len(words(asked.text)) <= FRAGMENT_WORDS and len(known) <= FRAGMENT_TOPIC


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


def evidence(found: Retrieval) -> tuple[float, ...]:
    """The measured signals that the best section answers (see :data:`WEIGHTS`)."""
    if not found.hits:
        return (0.0,) * len(WEIGHTS)
    return (
        found.section_coverage,  # weighted share of the question's topic in the section
        found.domain_coverage,  # ...of the words the fiches know
        math.log1p(found.hits[0].score),  # strength of the match
        found.margin,  # how far it stands above the next section
        min(found.known_groups, 6) / 6,  # how much of the question is domain vocabulary
    )


def _confidence(found: Retrieval) -> float:
    """The probability that the best section answers, from :func:`evidence` (a logistic model).

    The weights were fitted on the dev question sets (``tests/data/dev``) and the decline threshold
    chosen there; the locked sets only measure them (``bench/answers.py``).
    """
    if not found.hits or not found.query.topic:
        return 0.0
    z = BIAS + sum(w * x for w, x in zip(WEIGHTS, evidence(found), strict=True))
    return round(1.0 / (1.0 + math.exp(-z)), 3)


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


def _other_service(lang: str, alert: str, services: Sequence[str], covered: Sequence[str]) -> Answer:
    """A téléservice no fiche covers: say which ones they cover and who to call (an abstention)."""
    names, known = ", ".join(services), ", ".join(covered)
    if lang == "en":
        text = (
            f"The DGDDI fiches in this knowledge base do not cover {names}: they cover {known}. "
            f"For {names}, contact the SAU du CID: {SAU_PHONE}, {SAU_EMAIL}."
        )
    else:
        text = (
            f"Les fiches de la DGDDI de cette base ne traitent pas de {names} : elles couvrent {known}. "
            f"Pour {names}, contactez le SAU du CID : {SAU_PHONE}, {SAU_EMAIL}."
        )
    return Answer("\n".join(x for x in (alert, text) if x), [], 0.0, True, lang)


# A sentence that says no: the short answer to a yes/no question starts with "Non" / "No".
_NEGATIVE = re.compile(
    r"\b(?:en aucun cas|n'est pas nécessaire|ne doi(?:t|vent) pas|aucune? [a-zé]+ ne|ne peut pas|"
    r"ne peuvent pas|n'ont pas à|ne sont pas)\b",
    re.IGNORECASE,
)
_YES_NO = re.compile(
    r"\b(?:est-ce que|[a-zé]+-(?:t-)?(?:je|il|elle|on|ils|elles|nous|vous)\b)|"
    r"^\s*(?:can|may|must|should|do|does|did|is|are|am|will|would|have|has|shall)\b",
    re.IGNORECASE,
)


def _short_answer(sentence: str, question: str, lang: str) -> str:
    """The first line: the official sentence that answers, with "Non" when it says no to a yes/no
    question (never a "yes" guessed from the absence of a negation)."""
    last = re.split(r"(?<=[.:;!?])\s+", question.strip())[-1]
    no = bool(_YES_NO.search(last) or _YES_NO.search(question)) and bool(_NEGATIVE.search(sentence))
    if lang == "en":
        return f"{'No' if no else 'In short'}: « {sentence} »"
    return f"{'Non' if no else 'En bref'} : « {sentence} »"


def _adds(kb: KnowledgeBase, query: Query, passage: str, extra: str) -> bool:
    """Whether ``extra`` holds a question word the passage lacks ("see also" only when it adds)."""
    have = set(analyse_fr(passage))
    more = set(analyse_fr(extra)) - have
    return any(set(g.terms) & more for g in query.topic if kb.knows(g))


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


def _alerting(live: Sequence[Mapping[str, Any]], services: Sequence[str]) -> list[Mapping[str, Any]]:
    """The open alerts that bear on the question: those for a service it names, or all of them
    when it names none ("tout est planté depuis 10h" during a Delta G alert is about Delta G)."""
    if not services:
        return list(live)
    return [a for a in live if set(a.get("services") or ()) & set(services)]


def _alert_line(alerts: Sequence[Mapping[str, Any]], lang: str) -> str:
    """One line per open alert that bears on the question, then what to do (empty if none)."""
    parts = []
    for alert in alerts:
        concerned = order(alert.get("services") or ())
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
