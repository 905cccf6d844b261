"""Answering an operator's question from the fiches: a quoted passage, its citation, or a plain "no".

:func:`prepare` reads the question (with the previous one when it is a fragment, "et pour
GAMMA ?"), declines at once for a téléservice no fiche covers, and measures every section
(:mod:`knowledge.ranking`: the lexical index and the embeddings). :func:`decide` ranks the
sections with the fitted weights, measures the evidence that the chosen one answers
(:mod:`knowledge.decline`) — its probability is the answer's ``confidence`` — composes the answer
(:mod:`knowledge.quoting`: the sentence that answers first, then the rest of the passage, cited)
and declines, with the SAU du CID contact, when the confidence is below the fitted threshold.
The official French wording is never paraphrased.

Context: when the question names a téléservice, documents covering it are preferred; when it does
not, a section's ``contrast`` note from another document says in one line where that other
téléservice differs (GAMMA: the customs service decides). When open alerts are passed in ``live``,
an alert on a téléservice the question names — or any alert, when it names none — comes first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from knowledge.decline import amount_missing, never_given, probability
from knowledge.decline import features as decline_features
from knowledge.documents import Document, Section, Source
from knowledge.embeddings import embed_query
from knowledge.intents import Intent, as_embedded, gives_time, read_intent
from knowledge.passages import key_sentence, trim
from knowledge.quoting import relevance, scorer
from knowledge.ranking import FEATURES, Ranking, Signals, rank, signals
from knowledge.search import THIN_TOPIC, Hit, KnowledgeBase
from knowledge.services import CANONICAL, find_services, order
from knowledge.text import Query, TermGroup, analyse_fr, analyse_question, detect_lang, fold, words
from knowledge.verdicts import asks_yes_no, verdict
from knowledge.weights import Weights, shipped

__all__ = [
    "Answer",
    "Considered",
    "Prepared",
    "Source",
    "answer",
    "consider",
    "prepare",
    "decide",
    "SAU_PHONE",
    "SAU_EMAIL",
]

SAU_PHONE = "09 702 80 100"
SAU_EMAIL = "cid-sau@douane.finances.gouv.fr"

OBJECT_IN_HEADING = 0.5  # "how do I obtain X": share of X the answering section's heading must name
OBJECT_CANDIDATES = 3  # ...looked for among this many best sections
MAX_CHARS = 1200  # the whole answer text: a passage, not a document
MAX_PASSAGE = 1000  # the quoted passage of the best section
TIE = 0.8  # a section at least this probable (vs the chosen one) is a near tie...
TIE_CANDIDATES = 3  # ...looked for among this many best sections
VERDICT_SIGNAL = FEATURES.index("says_yes_or_no")
SECOND_RATIO = 0.1  # a runner-up at least this probable (vs the first) has its answering sentence quoted


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    sources: list[Source]
    confidence: float
    abstained: bool
    lang: str


@dataclass(frozen=True, slots=True)
class Considered:
    """What the engine says, the answer it would have given had it not declined, and its evidence.

    ``candidate`` and ``evidence`` are None when a rule declined before any section was weighed
    (a téléservice no fiche covers, a question with no topic, "how do I obtain X" with no section
    about X). :mod:`knowledge.fitting` labels each candidate right or wrong to fit the decline model.
    """

    answer: Answer
    candidate: Answer | None
    evidence: np.ndarray | None


def answer(
    question: str, live: Sequence[Mapping[str, Any]] | None = None, previous: str | None = None
) -> Answer:
    """Answer ``question`` (French or English) from the fiches, or abstain.

    ``live`` is the current open alerts: mappings with ``services`` (canonical names), ``modes``
    ("EDI"/"DTI"), ``level`` ("red"/"black"/None), ``published_at`` (ISO text or datetime) and
    ``title``. ``previous`` is the question asked just before in the same conversation: a
    fragment ("et pour GAMMA ?", "combien de temps ?") is read with that question's subject.
    """
    return consider(question, live, previous).answer


@dataclass(frozen=True, slots=True)
class Prepared:
    """A question read and measured against every section, before any fitted weight is applied."""

    question: str
    lang: str
    asked: Reading
    alert: str
    services: list[str]
    intent: Intent
    found: Signals | None
    #: the answer when a rule declined before any section was weighed
    declined: Answer | None
    #: whether the question was read as a fragment of the previous one ("et pour GAMMA ?")
    fragment: bool = False
    #: a complete question asked after another: the same question read with the previous subject
    in_context: Prepared | None = None


def prepare(
    question: str,
    live: Sequence[Mapping[str, Any]] | None = None,
    previous: str | None = None,
    withheld: str | None = None,
) -> Prepared:
    """Read the question and measure every section against it.

    After a previous question, a fragment ("et pour GAMMA ?") is read with that question's subject
    only. A complete question is read both ways — alone, and with the previous subject
    (:attr:`Prepared.in_context`) — and :func:`decide` keeps the reading whose answer has the
    clearer evidence: "Do we need to inform the customs office?" after a question on the AEO
    facility is about that facility; "Dans quel délai réintégrer les déclarations de secours ?"
    after it is about the reintegration, as if asked first.
    """
    kb = KnowledgeBase.load()
    before = detect_lang(previous) if previous else "fr"
    lang = detect_lang(question, default=before)
    asked = read(kb, question, lang)
    # a date that named a dated document chose it; it is not part of what is asked
    meant = as_embedded(question, kb.documents, asked.intent)
    if not previous:
        return _measure(kb, question, lang, asked, live, lambda: embed_query(meant), withheld)
    # the previous question is read in its own language ("Where do I check…?" → "et par téléphone ?")
    first = read(kb, previous, before)
    together = asked.after(first)
    said_before = as_embedded(previous, kb.documents, first.intent)

    @functools.cache
    def alone_vector() -> np.ndarray:  # embedded once, for either reading
        return embed_query(meant)

    def context_vector() -> np.ndarray:
        # read in context, the message asks something new about the same subject ("avec quelle
        # mention ?" after a question on the reintegration delay): its own meaning weighs as much
        # as the exchange's, or the section that answered the first question wins again
        mixed = (1 - FRAGMENT_SHARE) * embed_query(f"{said_before} {meant}") + FRAGMENT_SHARE * alone_vector()
        return (mixed / np.linalg.norm(mixed)).astype(np.float32)

    if is_fragment(kb, asked):
        read_together = _measure(kb, question, lang, together, live, context_vector, withheld, alone_vector)
        return replace(read_together, fragment=True)
    alone = _measure(kb, question, lang, asked, live, alone_vector, withheld)
    # a complete question's own meaning is its other reading, weighed against this one by decide()
    in_context = _measure(kb, question, lang, together, live, context_vector, withheld)
    return replace(alone, in_context=in_context)


def _measure(
    kb: KnowledgeBase,
    question: str,
    lang: str,
    asked: Reading,
    live: Sequence[Mapping[str, Any]] | None,
    meaning: Callable[[], np.ndarray],
    withheld: str | None = None,
    own: Callable[[], np.ndarray] | None = None,
) -> Prepared:
    """One reading of the question measured against every section; ``meaning`` embeds it (called
    only when a section is to be weighed: a rule may decline first), ``own`` embeds a fragment
    alone when the reading adds the previous question's subject."""
    services = asked.services
    alerting = _alerting(live or (), services)
    alert = _alert_line(alerting, lang)
    intent = asked.intent

    def declined(result: Answer) -> Prepared:
        return Prepared(question, lang, asked, alert, services, intent, None, result)

    covered = kb.covered_services()
    if services and not set(services) & kb.mentioned_services:
        return declined(_other_service(lang, alert, services, sorted(covered, key=CANONICAL.index)))
    if not asked.query.topic:
        return declined(_abstain(lang, alert, 0.0))
    if never_given(kb, intent):
        return declined(_abstain(lang, alert, 0.0))
    search_services = services
    if alerting and not services:
        # An alert is open and the question names no téléservice: it is about the one in alert,
        # and a question saying little more than "it's down" is answered by following the alert.
        search_services = [s for a in alerting for s in a.get("services") or () if s in covered]
        if len([g for g in asked.query.topic if kb.knows(g)]) <= THIN_TOPIC:
            intent = replace(intent, roles=(*intent.roles, "alert-check"))
    alone = own() if own else None
    found = signals(kb, kb.dense, asked.query, search_services, intent, meaning(), question, withheld, alone)
    return Prepared(question, lang, asked, alert, services, intent, found, None)


#: a complete question is read in the previous question's context only when that reading's answer
#: is this much more likely right than the question's own (dev follow-ups that are complete
#: questions: 32 -> 48 right of 63; dev questions asked after an unrelated one, on another document:
#: 214 -> 218 of 250, on the same document: 121 -> 129 of 150, with 7 and 8 wrong answers given
#: against 7 and 5; with no margin, 49, 222 and 126, but 9 and 13 wrong)
CONTEXT_MARGIN = 0.1


def decide(prepared: Prepared, weights: Weights | None = None) -> Considered:
    """Rank the sections, compose the answer from the chosen one, and decline if it is not likely
    right; of a complete question's two readings (alone, in context), the one whose answer is the
    more likely right by :data:`CONTEXT_MARGIN`."""
    weights = weights or shipped()
    alone = _decide(prepared, weights)
    if prepared.in_context is None:
        return alone
    together = _decide(prepared.in_context, weights)
    if together.answer.confidence > alone.answer.confidence + CONTEXT_MARGIN:
        return together
    return alone


def _decide(prepared: Prepared, weights: Weights) -> Considered:
    p = prepared
    found = p.found
    if p.declined is not None or found is None:
        return Considered(p.declined or _abstain(p.lang, p.alert, 0.0), None, None)
    kb = KnowledgeBase.load()
    ranking = rank(found.features, weights.ranker)
    chosen = _about_the_object(kb, p.asked.query, p.intent, ranking)
    if chosen is not None:
        chosen = _in_the_direction_asked(kb, p.question, ranking, chosen)
    if chosen is not None:  # (the direction asked may leave no section)
        chosen = _breaking_a_tie(kb, found, ranking, chosen)
    if chosen is None:
        return Considered(_abstain(p.lang, p.alert, 0.0), None, None)
    if amount_missing(p.intent, kb.entries[chosen][1].body):
        # a price, a fee or a fine: no sentence of a section that names no amount can give it, however
        # close its words are ("combien coûte l'adhésion à GAMMA ?" is near the membership section)
        return Considered(_abstain(p.lang, p.alert, 0.0), None, None)
    evidence = decline_features(kb, p.asked.query, found, ranking, chosen, p.intent)
    confidence = round(probability(evidence, weights), 3)
    candidate = _compose(kb, p, ranking, chosen, weights, confidence)
    if confidence < weights.threshold:
        return Considered(_abstain(p.lang, p.alert, confidence), candidate, evidence)
    return Considered(candidate, candidate, evidence)


def consider(
    question: str,
    live: Sequence[Mapping[str, Any]] | None = None,
    previous: str | None = None,
    weights: Weights | None = None,
    withheld: str | None = None,
) -> Considered:
    """:func:`answer`, with the candidate answer and its evidence; ``weights`` default to the shipped
    ones; ``withheld`` names a dev file whose shipped questions are left out (:func:`prepare`)."""
    return decide(prepare(question, live, previous, withheld), weights)


def _compose(
    kb: KnowledgeBase, p: Prepared, ranking: Ranking, chosen: int, weights: Weights, confidence: float
) -> Answer:
    """The answer quoting section ``chosen``: the sentence that answers, then the passage, cited.

    When the ranking finds another section nearly as likely, its own answering sentence follows
    ("Voir aussi …"), provided the chosen section does not already say it: when two steps of a
    fiche are close (the principle and the scenario that details it), the operator reads both
    rather than the one a near tie picked.
    """
    assert p.found is not None
    doc, section = kb.entries[chosen]
    query = p.asked.query
    quote = relevance(kb, p.found, query, chosen, weights.sentence, p.intent.time)
    weigh = scorer(quote, p.intent.contact)
    if p.intent.contact:
        key = _contact_sentence(section.body, weigh)
    elif p.intent.time:  # "how long?": the first line gives the delay when the section has one
        key = quote.key_giving(gives_time)
    elif asks_yes_no(p.question):  # "doit-il m'autoriser ?": the sentence that says yes or no, if relevant
        key = quote.key_giving(lambda text: verdict(text, p.question) is not None, by_topic=True)
    else:
        key = quote.key
    lines = [p.alert] if p.alert else []
    lines.append(_short_answer(key, p.question, p.lang))
    lead = len(lines)
    lines.append(_lead(doc, section, p.services, p.lang))
    if p.services and not set(p.services) & (set(doc.services) | set(doc.related) | _named_in(doc)):
        lines.append(_not_specific(p.services, p.lang))
    contrasts = [] if p.services else _contrasts(kb, doc, section, query)
    tail = [c.contrast.en if p.lang == "en" else c.contrast.fr for c in contrasts if c.contrast]
    sources = [doc.cite(section)]

    also = ""
    second = _runner_up(kb, ranking, chosen)
    if second is not None:
        other_doc, other = kb.entries[second]
        other_quote = relevance(kb, p.found, query, second, weights.sentence, p.intent.time)
        other_key = other_quote.key
        if other_key and _plain(other_key) not in _plain(section.body):
            where = other.heading if other_doc.id == doc.id else f"{other_doc.short}, {other.heading}"
            also = f"{'See also' if p.lang == 'en' else 'Voir aussi'} ({where}) : « {other_key} »"
            sources.append(other_doc.cite(other))
    room = MAX_CHARS - sum(len(x) + 1 for x in (*lines, *tail, also)) - 4
    passage = trim(section.body, weigh, min(room, MAX_PASSAGE), skip=_quoted_in(key))
    if passage:
        lines.append(passage)
    else:  # the first line quoted all the section says: the citation closes the answer
        lines[lead] = re.sub(r"(?:, official French text)?\s*:$", ".", lines[lead])
    if also:
        lines += ["", also]
    if tail:
        lines += ["", *tail]
        sources += [kb.by_doc[c.doc].cite(c) for c in contrasts]
    return Answer("\n".join(lines), sources, confidence, False, p.lang)


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
        services = self.services or _other_flow(previous.services, directions(self.text))
        service_words = {w for s in previous.services for w in fold(s).split()}
        keep = tuple(
            replace(g, asked=False)
            for g in previous.query.groups
            if not (services and set(fold(g.word).split()) <= service_words | {"import", "export"})
        )
        # a fragment that asks nothing of its own asks what the previous question asked, but
        # not about its boxes ("case 44 ?" then "et après un contrôle physique ?"); one that names
        # only a box asks the previous question of that box ("et en case 31 ?")
        bare = replace(self.intent, boxes=frozenset())
        intent = self.intent if bare != Intent() else replace(previous.intent, boxes=self.intent.boxes)
        # "how do I obtain X" is not asked again of a fragment that names something new ("Comment
        # créer un compte Prodouane ?" then "et ensuite pour avoir accès à GAMMA ?", "who approves
        # it?"): the answer need not be headed by X; "et pour GAMMA ?" still asks for X
        before = {t for g in previous.query.groups for t in g.terms}
        named = service_words | {w for s in self.services for w in fold(s).split()}
        new_words = [g for g in self.query.topic if not set(g.terms) & before and fold(g.word) not in named]
        if bare == Intent() and new_words:
            intent = replace(intent, obtain=(), obtain_context=(), become=False)
        query = Query(self.query.lang, keep + own)
        return Reading(f"{previous.text} {self.text}", query, services or previous.services, intent)


def _other_flow(services: Sequence[str], flows: set[str]) -> list[str]:
    """The téléservices of the flow a fragment names ("et pour l'export ?" after a question on
    DELTA X Import: DELTA X Export), when the previous question named one of the other flow."""
    if len(flows) != 1:
        return []
    (flow,) = flows
    other = "import" if flow == "export" else "export"
    switched = [re.sub(other, flow.capitalize(), s, flags=re.IGNORECASE) for s in services]
    return switched if any(s.lower().endswith(other) for s in services) else []


def read(kb: KnowledgeBase, question: str, lang: str) -> Reading:
    intent = read_intent(question, kb.documents)
    query = intent.demote(analyse_question(question, lang, vocabulary=kb.surface_words, correct=kb.correct))
    return Reading(question, query, find_services(question), intent)


#: a fragment's share of the meaning searched for (dev follow-ups, answer right: 31 of 52 with the
#: exchange's text alone, 32 at 0.35, 34 at 0.5, 32 at 0.7)
FRAGMENT_SHARE = 0.5
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


_DIRECTIONS = {
    "import": re.compile(r"\bimport(?:s|ation|er|ateurs?)?\b|\bimporting\b", re.IGNORECASE),
    "export": re.compile(r"\bexport(?:s|ation|er|ateurs?)?\b|\bexporting\b", re.IGNORECASE),
}


def directions(text: str) -> set[str]:
    """The flows a text speaks of: "import", "export", both or neither."""
    return {name for name, pattern in _DIRECTIONS.items() if pattern.search(fold(text))}


def _in_the_direction_asked(kb: KnowledgeBase, question: str, ranking: Ranking, chosen: int) -> int | None:
    """The chosen section, unless its document is written for one flow (fiche 4: "à l'importation")
    and the question asks about the other only ("case 44 du DAU export"): then the best of the next
    sections whose document fits, or none (the fiches do not describe that flow)."""
    asked = directions(question)
    if len(asked) != 1:
        return chosen
    for index in (chosen, *(int(i) for i in ranking.order[:OBJECT_CANDIDATES] if int(i) != chosen)):
        written_for = directions(kb.entries[index][0].title)
        if not written_for or written_for & asked:
            return index
    return None


def _breaking_a_tie(kb: KnowledgeBase, found: Signals, ranking: Ranking, chosen: int) -> int:
    """The chosen section, unless the question expects a yes or a no and a section of the same
    document, nearly as probable (at least :data:`TIE` of its probability), holds a sentence that
    says it while the chosen one holds none.

    The yes/no signal is in the ranking already, but it fires on few questions, so its fitted
    weight is small and a near tie goes to whichever step shares more of the question's other
    words: "le bureau doit-il autoriser l'auto-déclenchement ?" to the step that says when one may
    self-trigger, rather than the reminder that it "ne peut en aucun cas être conditionnée à
    l'autorisation du bureau de douane".
    """
    says = found.features[:, VERDICT_SIGNAL]
    if says[chosen] > 0 or not says.any():
        return chosen
    doc = kb.entries[chosen][0].id
    for index in ranking.order[:TIE_CANDIDATES]:
        i = int(index)
        near = ranking.probabilities[i] >= TIE * ranking.probabilities[chosen]
        if near and says[i] > 0 and kb.entries[i][0].id == doc:
            return i
    return chosen


def _about_the_object(kb: KnowledgeBase, query: Query, intent: Intent, ranking: Ranking) -> int | None:
    """The section to answer from: the best one, or for "how do I obtain / become / create X" the best
    section headed by X among the first few — or none.

    A section that only mentions X in passing (a field of a form, a requirement among others)
    does not say how to obtain it: "comment obtenir un numéro EORI ?" must not be answered with
    the list of references a demande d'assistance carries. X's words (glossary synonyms included)
    must all be in the section and, by weight, mostly in its heading; without such a section the
    engine declines.
    """
    best = int(ranking.order[0])
    if not intent.obtain:
        return best
    wanted = set(intent.obtain)
    groups = [
        g for g in query.topic if set(fold(g.word).split()) & wanted and fold(g.word) not in kb.service_words
    ]
    if not groups:
        return best
    context = set(intent.obtain_context)
    asked = [g for g in query.topic if set(fold(g.word).split()) & context]
    if not all(kb.knows(g) for g in asked):  # X ("un compte en banque") is something the fiches never name
        return None
    for index in ranking.order[:OBJECT_CANDIDATES]:
        i = int(index)
        hit = Hit(kb.entries[i][0], kb.entries[i][1], float(ranking.scores[i]), i)
        inside = all(set(g.terms) & kb.section_terms[i] for g in groups)
        if inside and kb.heading_share(groups, hit) >= OBJECT_IN_HEADING:
            if intent.become and not _tells_becoming(kb, i, groups):
                continue
            return i
    return None


_BECOMING = re.compile(r"\bdev(?:enir|ien[a-z]*|en[a-z]*)\b")


def _tells_becoming(kb: KnowledgeBase, section: int, groups: Sequence[TermGroup]) -> bool:
    """Whether a sentence of ``section`` says how one becomes X: a verb of becoming with X's words.

    A section that names a status does not say how to acquire it: fiche 4's facility "for OEA-C /
    OEA-F" operators is headed by the status, and "et comment on devient OEA ?" is a question no
    fiche answers (on dev, cross-validated, such questions were answered wrongly at 0.68-0.92).
    The fiches are in French: the verb is read in French, X's words through the glossary.
    """
    rows = np.flatnonzero(kb.sentence_section == section)
    return any(
        _BECOMING.search(fold(kb.units.sentence_text[j]))
        and all(set(g.terms) & kb.sentence_terms[j] for g in groups)
        for j in rows
    )


def _quoted_in(key: str) -> Callable[[str], bool]:
    """Whether a block is already quoted whole in the answer's first line."""
    quoted = _plain(key)
    return lambda block: _plain(block) in quoted


def _plain(text: str) -> str:
    """The words of ``text`` only, one space apart (list markers and separators dropped)."""
    return " ".join(re.findall(r"\w+", text))


def _contact_sentence(body: str, weigh: Callable[[str], float]) -> str:
    """For "what is the SAU's number": the best sentence that gives a phone number or an e-mail."""
    return key_sentence(body, weigh)


def _runner_up(kb: KnowledgeBase, ranking: Ranking, chosen: int) -> int | None:
    """The next section, when the ranking finds it nearly as likely as the chosen one."""
    for index in ranking.order[:2]:
        i = int(index)
        if i != chosen and ranking.probabilities[i] >= SECOND_RATIO * ranking.probabilities[chosen]:
            return i
    return None


def _named_in(doc: Document) -> set[str]:
    """The téléservices a document names in its text ("la téléprocédure « Aubette »")."""
    return {n for s in doc.sections for n in find_services(f"{s.heading} {s.body}")}


def _contrasts(kb: KnowledgeBase, doc: Document, section: Section, query: Query) -> list[Section]:
    """Sections of other documents that say how they differ on one of this section's roles, when
    the question is about what their heading names ("déclenchement": a question about triggering,
    not any question answered from a step that also concerns it)."""
    asked = {t for g in query.topic for t in g.terms}
    return [
        s
        for d in kb.documents
        if d.id != doc.id
        for s in d.sections
        if s.contrast is not None and s.contrast.role in section.roles and asked & set(analyse_fr(s.heading))
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


def _short_answer(sentence: str, question: str, lang: str) -> str:
    """The first line: the official sentence that answers, led by "Non"/"Oui" when it says no or
    yes to a yes/no question (see :func:`verdict`; never a "yes" guessed from the mere absence of
    a negation)."""
    said = verdict(sentence, question)
    lead = ("No", "Non") if said == "no" else ("Yes", "Oui") if said == "yes" else ("In short", "En bref")
    if lang == "en":
        return f"{lead[0]}: « {sentence} »"
    return f"{lead[1]} : « {sentence} »"


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
