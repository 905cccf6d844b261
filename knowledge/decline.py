"""Whether the chosen section answers: a calibrated probability from measured evidence, and the threshold.

Nothing here looks at a word list of forbidden topics. For the section the ranking chose, the
engine measures (:data:`FEATURES`) how clearly it won (its softmax probability and its margin over
the next section), how close it is in meaning to the question (embedding cosines of the section
and of its best sentence, and of the best section and sentence anywhere), how strongly and how
fully its words match (BM25, the weighted share of the question's topic it contains, the share of
the question's domain words — those the fiches use — it contains, how much of the question's
weight is domain vocabulary at all), whether the lexical and the semantic sides agree on it, and
how close the question is to one of the questions the section is known to answer (its probes,
the best probe anywhere, whether the closest probe is the chosen section's and by how much, and
— for a fragment read with the question before it — how close the message alone is to them and
to the questions no section answers: "et comment on devient OEA ?" after a question on the OEA
facility borrows that subject, but alone it is a question no fiche answers), and,
for a question asking for a phone number or an e-mail address, how much of the ranking goes to
other sections that give the same one (the SAU's number is in three steps of fiche 1).

Boosted trees over these signals (:mod:`knowledge.forest`), fitted on the dev question sets by
:mod:`knowledge.fitting` (an answer is "right" when it cites the right document and quotes the
phrase the question needs), give the probability that the answer is right: that is the
``confidence`` an answer reports, and below :attr:`Weights.threshold` the engine declines and
gives the SAU du CID contact.
A word the fiches never use does not decline a question by itself: it only weighs in the
coverage, by its rarity in everyday language (:meth:`KnowledgeBase.weight`).
"""

from __future__ import annotations

import math

import numpy as np

from knowledge.intents import Intent, boxes_named, gives_amount, gives_contact, gives_time
from knowledge.ranking import Ranking, Signals
from knowledge.search import KnowledgeBase
from knowledge.text import Query
from knowledge.weights import Weights

CLEAR_LEAD = 5.0  # a score margin no real tie comes near (scores span about 10)

FEATURES: tuple[str, ...] = (
    "top_probability",
    "margin",
    "dense_top",
    "dense_best",
    "sentence_top",
    "sentence_best",
    "lexical_log",
    "coverage",
    "domain_coverage",
    "vocabulary",
    "lexical_agrees",
    "dense_agrees",
    "probe_top",
    "probe_best",
    "probe_agrees",
    "probe_margin",
    "asked_coverage",
    "probe_over_negative",
    "value_given",
    "part_probability",
    "part_margin",
    "value_agreement",
    "same_period",
    "own_over_negative",
)


def features(
    kb: KnowledgeBase,
    query: Query,
    found: Signals,
    ranking: Ranking,
    chosen: int,
    intent: Intent | None = None,
) -> np.ndarray:
    """The evidence that section ``chosen`` answers the question (see :data:`FEATURES`); ``intent``
    is what the question asks for (an amount, a contact)."""
    order = ranking.order
    runner = int(order[1]) if int(order[0]) == chosen else int(order[0])
    topic = query.topic
    weights = [kb.weight(g, query.lang) for g in topic]
    known = [kb.knows(g) for g in topic]
    total = sum(weights) or 1.0
    vocabulary = sum(w for w, k in zip(weights, known, strict=True) if k) / total
    terms = kb.section_terms[chosen]
    domain = [(g, w) for g, w, k in zip(topic, weights, known, strict=True) if k]
    domain_total = sum(w for _, w in domain)
    domain_coverage = (
        sum(w for g, w in domain if set(g.terms) & terms) / domain_total if domain_total else 0.0
    )
    # what the message itself asks (a fragment's own words, read after the previous question's
    # subject; all the words of a whole question): "and the duty rate on spirits?" after a GAMMA
    # question brings words no GAMMA section holds
    pairs = list(zip(topic, weights, strict=True))
    asked = [(g, w) for g, w in pairs if g.asked] or pairs
    asked_total = sum(w for _, w in asked)
    asked_coverage = sum(w for g, w in asked if set(g.terms) & terms) / asked_total if asked_total else 0.0
    sentence_top = float(found.dense_sentence[chosen])
    same = kb.part == kb.part[chosen]
    # the best section of another step (a knowledge base of one step has none: a clear lead)
    other_step = float(ranking.scores[~same].max(initial=ranking.scores[chosen] - CLEAR_LEAD))
    probes = found.dense_probe if found.dense_probe is not None else np.zeros(len(found.lexical))
    own = found.own_probe if found.own_probe is not None else probes
    return np.array(
        [
            float(ranking.probabilities[chosen]),
            float(ranking.scores[chosen] - ranking.scores[runner]),
            float(found.dense_section[chosen]),
            float(found.dense_section.max()),
            sentence_top,
            float(found.dense_sentence.max()),
            math.log1p(max(float(found.lexical[chosen]), 0.0)),
            float(found.coverage[chosen]),
            domain_coverage,
            vocabulary,
            float(int(np.argmax(found.lexical)) == chosen and found.lexical.max() > 0),
            float(int(np.argmax(found.dense_section)) == chosen),
            max(float(probes[chosen]), 0.0),
            max(float(probes.max()), 0.0),
            float(int(np.argmax(probes)) == chosen and probes.max() > 0),
            # how far the chosen section's probes lead those of every other section (clipped: a
            # section well behind is as bad as one far behind)
            max(-0.05, float(probes[chosen]) - float(np.delete(probes, chosen).max(initial=-1.0))),
            asked_coverage,
            # closer to the questions this section answers than to questions no section answers
            float(probes[chosen]) - found.negative if found.negative > -1.0 else 0.0,
            1.0 - value_missing(intent, kb.entries[chosen][1].body),
            # the step the chosen section belongs to, as a whole: when a step is split into
            # sections (fiche 4's Étape 4: delay, conditions, BAE declarations…), its sections
            # share the question's words and meaning, and the chosen one's own probability and
            # margin read their closeness as doubt about the subject
            float(ranking.probabilities[same].sum()),
            float(ranking.scores[chosen] - other_step),
            _agreement(kb, ranking, chosen, intent),
            0.0 if other_period(kb, chosen, intent) else 1.0,
            # the message alone, closer to this section's questions than to questions no section
            # answers: a fragment read with the previous subject may ask something new about it
            # that no fiche says ("et comment on devient OEA ?" after the OEA facility)
            float(own[chosen]) - found.own_negative if found.own_negative > -1.0 else 0.0,
        ],
        dtype=np.float64,
    )


def _agreement(kb: KnowledgeBase, ranking: Ranking, chosen: int, intent: Intent | None) -> float:
    """For a question asking for a phone number or an e-mail address, the probability of the other
    sections that give one the chosen section gives (0 otherwise).

    The SAU's number is in several steps of fiche 1, and the ranking splits "quel est le numéro du
    SAU ?" between them: a low probability for each, though each gives the number asked.
    """
    if intent is None or not intent.contact or not kb.contacts[chosen]:
        return 0.0
    mine = kb.contacts[chosen]
    same = np.array([bool(mine & theirs) for theirs in kb.contacts])
    same[chosen] = False
    return float(ranking.probabilities[same].sum())


def other_period(kb: KnowledgeBase, chosen: int, intent: Intent | None) -> bool:
    """Whether the question is about another period than the dated event the chosen section's
    document describes: "et celle de décembre 2023 ?", "any other planned cut in 2024?", "la
    prochaine coupure c'est quand ?" after the note on the interruption of 8 August 2023. A fiche
    dates no event and is never "another period"."""
    if intent is None:
        return False
    dated = kb.event_periods.get(kb.entries[chosen][0].id)
    if dated is None:
        return False
    return intent.future or bool(intent.periods - dated)


def amount_missing(intent: Intent | None, body: str) -> bool:
    """Whether the question asks for an amount of money ("combien coûte l'adhésion ?", "what
    fine?") that the section never names: the documents name one, the EVN's 22 euros. The engine
    declines such a question outright (:func:`knowledge.answers.decide`)."""
    return intent is not None and intent.amount and not gives_amount(body)


def never_given(kb: KnowledgeBase, intent: Intent) -> bool:
    """Whether the question asks only for a value no section gives, whichever is chosen: a box of a
    form the fiches do not describe ("case 8 du DAU en secours ?", "and box 47?": they describe the
    SAD's boxes 31 and 44 and the GAMMA form's rubrics) or a fax number ("num de fax du bureau ?":
    they say a declaration may be sent "par fax", and the SAU's phone number is not what is asked),
    or a maximum or minimum number of things ("maximum number of parcels per fallback manifest?",
    "combien de DA maximum par jour ?": no fiche states one; such questions were answered from the
    section on their subject at 0.13-0.92).
    The engine declines such a question before weighing any section."""
    other_box = bool(intent.boxes) and not intent.boxes & kb.boxes
    return other_box or (intent.fax and not kb.gives_fax) or (intent.count_limit and not kb.gives_count_limit)


def value_missing(intent: Intent | None, body: str) -> float:
    """1 when the question asks for a value of a kind the section never gives: an amount of money
    (see :func:`amount_missing`), a phone number or an e-mail address, or a delay or a time
    ("combien de temps met le bureau ?", "valid how long?": near-domain questions the fiches do
    not answer, asked of a section on the right subject), or a box of a form it does not describe
    ("case 8 du DAU en secours ?", "and box 47?" of the section on boxes 31 and 44). (The decline
    model reads its complement, ``value_given``: every signal there counts for answering.)
    """
    if intent is None:
        return 0.0
    asked_contact = intent.contact and not gives_contact(body)
    asked_time = intent.time_value and not gives_time(body)
    asked_box = bool(intent.boxes) and not intent.boxes & boxes_named(body)
    return 1.0 if amount_missing(intent, body) or asked_contact or asked_time or asked_box else 0.0


def probability(evidence: np.ndarray, weights: Weights) -> float:
    """The fitted probability that the answer built on this evidence is right: the boosted trees'
    (:mod:`knowledge.forest`), or a logistic model's in weights written before them."""
    if weights.forest is not None:
        return float(weights.forest.predict(evidence[None, :])[0])
    z = weights.decline_bias + float(
        np.dot(
            (evidence - np.asarray(weights.decline_mean)) / np.asarray(weights.decline_scale),
            np.asarray(weights.decline_coef),
        )
    )
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
