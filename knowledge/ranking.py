"""Hybrid ranking of the sections: the lexical index and the embeddings, fused by a fitted linear model.

Each section gets a few measured signals (:data:`FEATURES`):

- lexical: its BM25 score from :class:`knowledge.search.KnowledgeBase` (glossary, intent cues and
  named téléservices included) as a share of the best, as a log, and as a reciprocal rank; the
  BM25 score of its best sentence (in an index of sentences) as a share of the best and a log;
- semantic: the cosine between the question's embedding and the section's, and the best cosine
  of one of its sentences, each relative to the best section (and as reciprocal ranks); the mean
  cosine with the closest of the questions the section answers (its probes, :mod:`knowledge.probes`);
- coverage: the weighted share of the question's topic words the section contains;
- services: whether its document covers a téléservice the question names, only a neighbour, or none;
- for a yes/no question, the share of its topic held by a sentence that says yes or no to it
  (:mod:`knowledge.verdicts`): "le bureau doit-il autoriser … ?" is answered by the sentence saying
  it "ne peut en aucun cas être conditionnée à l'autorisation du bureau", which the question's
  words and meaning alone place no closer than the steps that mention the bureau (one signal
  among the others: its fitted weight is small, and close phrasings can still lose it);
- for a question that says which phase of the outage it is about ("et après ?", "pendant la
  panne"), whether the section is about that phase (:func:`_phase_matches`): the note's
  announcement, its instructions for the day and its "à l'issue" share the date and the services,
  which the question names whatever it asks.

The score of a section is the dot product of its signals with :attr:`Weights.ranker` (fitted on
the dev question sets by :mod:`knowledge.fitting`: a softmax over the sections, the right ones
being those that hold a phrase the answer must quote), so neither side decides alone: the lexical
side is precise on the fiches' own words, the semantic side carries paraphrase and English.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.embeddings import DenseIndex
from knowledge.intents import Intent
from knowledge.search import KnowledgeBase
from knowledge.text import Query
from knowledge.verdicts import asks_yes_no, verdict

FEATURES: tuple[str, ...] = (
    "lexical_share",
    "lexical_log",
    "lexical_rank",
    "sentence_lexical_share",
    "sentence_lexical_log",
    "dense_section",
    "dense_sentence",
    "dense_heading",
    "dense_section_rank",
    "dense_sentence_rank",
    "dense_probe",
    "dense_probe_rank",
    "instructs_first_step",
    "coverage",
    "sentence_coverage",
    "heading_coverage",
    "covers_service",
    "related_service",
    "other_service",
    "says_yes_or_no",
    "phase_matches",
    "probe_words",
)
DENSE_SCALE = 10.0  # cosines differ by hundredths: read them in tenths of a point


#: a cosine higher than another's by this much ranks a whole step above it; by less, that share of
#: a step (:func:`reciprocal_rank`). The cosines of a question with the sections' probes differ by
#: thousandths where the ranker weighs a rank step like the gap between a right and a wrong
#: section: "Dans quels cas peut-on auto-déclencher ?" reached step 3, whose heading it is, third
#: by 0.005 of probe cosine. Dev, the ranker cross-validated on six groups of files: a right section
#: first for 5,881 of 6,126 questions with whole steps (equal within 0.002), 5,883 with 0.01,
#: 5,890 with 0.02, 5,886 with 0.025, 5,858 with 0.05 (the ranks then say little the cosines do
#: not). The shipped vectors' 8-bit rounding (up to 0.0014) moves a rank by a fifteenth of a step.
DENSE_STEP = 0.02


def reciprocal_rank(values: np.ndarray, step: float = 0.0) -> np.ndarray:
    """1 for the highest value, 1/2 for the next…; equal values share a rank; with ``step``, a value
    higher than another by less than ``step`` puts it that share of a step lower.

    A strict rank turns the smallest difference into a whole step: two sections whose probes are
    as close to the question to the ten-thousandth ("Le bureau doit-il autoriser
    l'auto-déclenchement ?": fiche 1's reminders, which answer it, and its step 5, which does not)
    got 1 and 1/2 by whichever rounding tipped them. Read with a step, the rank is continuous in
    the values.
    """
    if step <= 0:
        order = np.sort(values)
        higher = len(values) - np.searchsorted(order, values, side="right")
        return np.asarray(1.0 / (1.0 + higher), dtype=np.float64)
    above = np.clip((values[None, :] - values[:, None]) / step, 0.0, 1.0)  # [i, j]: how far j is above i
    return np.asarray(1.0 / (1.0 + above.sum(axis=1)), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Signals:
    """Everything measured about one question against every section (one row per section)."""

    lexical: np.ndarray  # BM25 with intent and service factors
    coverage: np.ndarray  # weighted share of the question's topic in the section
    dense_section: np.ndarray  # cosine of the question with the section
    dense_sentence: np.ndarray  # best cosine of the question with one of the section's sentences
    sentence_cosines: np.ndarray  # cosine with every sentence (rows of DenseIndex.sentences)
    features: np.ndarray  # (sections, len(FEATURES))
    #: mean cosine of the question with the section's closest probe questions (-1: it has none)
    dense_probe: np.ndarray | None = None
    #: cosine with every probe (rows of DenseIndex.probes)
    probe_cosines: np.ndarray | None = None
    #: the mean cosine of the question with its closest questions that no section answers
    negative: float = -1.0
    #: for a fragment read with the question before it: how close the message alone is to each
    #: section's probes (as :attr:`dense_probe`) and to the questions no section answers (as
    #: :attr:`negative`); for any other reading, the same as those two. "et comment on devient
    #: OEA ?" after a question on the OEA facility is read with that facility's subject, but alone
    #: it is a question no section answers
    own_probe: np.ndarray | None = None
    own_negative: float = -1.0


PROBES_AVERAGED = 5  # a section's closeness: the mean of its five probes closest to the question


def closest_probes(cosines: np.ndarray, owner: np.ndarray, sections: int) -> np.ndarray:
    """Per section, the mean cosine of its :data:`PROBES_AVERAGED` probes closest to the question
    (-1 for a section without probes).

    One close probe can be a fluke of wording; several agreeing are a topic. With 12 to 24 probes
    per section, on the dev sets (cross-validated), the ranker put a right section first for 429
    of 508 questions with the mean of the two closest, 430 with three, 436 with five, 435 with
    eight (with the first 322 probes alone: 412 with the single closest, 425 with three).
    """
    out = np.full(sections, -1.0)
    if not len(cosines):
        return out
    order = np.lexsort((-cosines, owner))
    grouped = owner[order]
    starts = np.r_[0, np.flatnonzero(np.diff(grouped)) + 1]
    rank_in_group = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    top = rank_in_group < PROBES_AVERAGED
    total = np.zeros(sections)
    count = np.zeros(sections)
    np.add.at(total, grouped[top], cosines[order][top])
    np.add.at(count, grouped[top], 1.0)
    has = count > 0
    out[has] = total[has] / count[has]
    return out


def signals(
    kb: KnowledgeBase,
    dense: DenseIndex,
    query: Query,
    services: Sequence[str],
    intent: Intent | None,
    vector: np.ndarray,
    question: str = "",
    withheld: str | None = None,
    own: np.ndarray | None = None,
) -> Signals:
    """Every signal of every section for the question embedded as ``vector``; ``question`` is the
    text asked, read for a yes or no it expects; the shipped dev questions asked in the file
    ``withheld`` are left out (:meth:`KnowledgeBase.withheld`: when fitting, a question is measured
    as an unseen one); ``own`` is the message alone, embedded, when ``vector`` reads it with the
    question before it (:attr:`Signals.own_probe`)."""
    lexical = np.asarray(kb.scores(query, services, intent), dtype=np.float64)
    sentence_lexical = kb.sentence_scores(query)
    best_sentence = float(sentence_lexical.max()) if len(sentence_lexical) else 0.0
    coverage = kb.coverages(query)
    dense_section = (dense.sections @ vector).astype(np.float64)
    dense_heading = (dense.headings @ vector).astype(np.float64)
    sentence_cosines = (dense.sentences @ vector).astype(np.float64)
    dense_sentence = np.full(len(dense_section), -1.0)
    np.maximum.at(dense_sentence, dense.sentence_section, sentence_cosines)
    probe_cosines = (dense.probes @ vector).astype(np.float64)
    hidden_probes = hidden_negatives = None
    if withheld is not None:
        hidden_probes, hidden_negatives = kb.withheld(withheld)
        probe_cosines[hidden_probes] = -1.0
    dense_probe = closest_probes(probe_cosines, dense.probe_section, len(dense_section))
    # a section without probes reads as the weakest one that has some (no probes at all: zeros)
    floor = float(dense_probe[dense_probe > -1.0].min()) if len(probe_cosines) else 0.0
    probe_signal = np.where(dense_probe > -1.0, dense_probe, floor)
    best = float(lexical.max()) if len(lexical) else 0.0
    wanted = set(services)
    covers = np.array([bool(wanted & set(d.services)) for d, _ in kb.entries], dtype=np.float64)
    related = np.array(
        [bool(wanted & set(d.related)) and not wanted & set(d.services) for d, _ in kb.entries],
        dtype=np.float64,
    )
    other = np.array(
        [bool(wanted) and not wanted & (set(d.services) | set(d.related)) for d, _ in kb.entries],
        dtype=np.float64,
    )
    features = np.stack(
        [
            lexical / best if best > 0 else np.zeros_like(lexical),
            np.log1p(lexical),
            reciprocal_rank(lexical) if best > 0 else np.zeros_like(lexical),
            sentence_lexical / best_sentence if best_sentence > 0 else np.zeros_like(lexical),
            np.log1p(sentence_lexical),
            DENSE_SCALE * (dense_section - dense_section.max()),
            DENSE_SCALE * (dense_sentence - dense_sentence.max()),
            DENSE_SCALE * (dense_heading - dense_heading.max()),
            reciprocal_rank(dense_section, DENSE_STEP),
            reciprocal_rank(dense_sentence, DENSE_STEP),
            DENSE_SCALE * (probe_signal - probe_signal.max()),
            reciprocal_rank(probe_signal, DENSE_STEP) if len(probe_cosines) else np.zeros_like(lexical),
            kb.instructs if intent is not None and "alert-check" in intent.roles else np.zeros_like(lexical),
            coverage,
            kb.sentence_coverages(query),
            kb.heading_coverages(query),
            covers,
            related,
            other,
            _says_yes_or_no(kb, query, question),
            _phase_matches(kb, intent),
            _probe_words(kb, query, probe_cosines, dense.probe_section, len(dense_section)),
        ],
        axis=1,
    )
    negative = _negative(dense, vector, hidden_negatives)
    own_probe, own_negative = dense_probe, negative
    if own is not None:
        own_cosines = (dense.probes @ own).astype(np.float64)
        if hidden_probes is not None:
            own_cosines[hidden_probes] = -1.0
        own_probe = closest_probes(own_cosines, dense.probe_section, len(dense_section))
        own_negative = _negative(dense, own, hidden_negatives)
    return Signals(
        lexical,
        coverage,
        dense_section,
        dense_sentence,
        sentence_cosines,
        features,
        dense_probe,
        probe_cosines,
        negative,
        own_probe,
        own_negative,
    )


def _says_yes_or_no(kb: KnowledgeBase, query: Query, question: str) -> np.ndarray:
    """Per section, for a yes/no question: the best share of the question's topic held by one of
    its sentences that says yes or no to it (0 elsewhere, and for any other question)."""
    out = np.zeros(len(kb.entries), dtype=np.float64)
    if not question or not asks_yes_no(question):
        return out
    texts = kb.units.sentence_text
    says = np.array([verdict(text, question) is not None for text in texts], dtype=np.float64)
    if not says.any():
        return out
    np.maximum.at(out, kb.sentence_section, says * kb.sentence_coverage_each(query, with_heading=False))
    return out


#: the sections about what to do once the services are back: an alert's end (``resumption``, which
#: the relay also quotes at a fin d'alerte) or the planned interruption's (``after-interruption``,
#: which it must not)
AFTER_ROLES = frozenset({"resumption", "after-interruption"})
DURING_ROLES = frozenset({"fallback", "planned-interruption"})


def _phase_matches(kb: KnowledgeBase, intent: Intent | None) -> np.ndarray:
    """Per section, 1 when it is about the phase of the outage the question asks about: once the
    services are back (:data:`AFTER_ROLES`), or while they are down (those about the fallback or
    the planned interruption that are not only about its end); 0 elsewhere and for a question that
    names no phase."""
    out = np.zeros(len(kb.entries), dtype=np.float64)
    if intent is None or intent.phase is None:
        return out
    for i, (_, section) in enumerate(kb.entries):
        roles = set(section.roles)
        if intent.phase == "after":
            out[i] = float(bool(roles & AFTER_ROLES))
        else:
            out[i] = float(bool(roles & DURING_ROLES) and (not roles & AFTER_ROLES or "fallback" in roles))
    return out


#: the probes closest in meaning whose words are compared with the question's
PROBES_READ = 40


def _probe_words(
    kb: KnowledgeBase, query: Query, cosines: np.ndarray, owner: np.ndarray, sections: int
) -> np.ndarray:
    """Per section, the largest weighted share of the question's topic words held by one of its
    probes among the :data:`PROBES_READ` closest in meaning (0 for the others).

    The embedding reads "Le bureau doit-il autoriser l'auto-déclenchement ?" mostly as "auto-
    déclencher la procédure de secours", and the probes of every step about self-triggering sit
    within a hundredth of it; the word that says what is asked ("autoriser") is in the probes of the
    step that answers it ("faut-il attendre son autorisation pour auto-déclencher ?").
    """
    out = np.zeros(sections, dtype=np.float64)
    topic = query.topic
    weights = [kb.weight(g, query.lang) * (2.0 if g.asked else 1.0) for g in topic]
    total = sum(weights)
    if not total or not len(cosines):
        return out
    for j in np.argsort(-cosines)[:PROBES_READ]:
        terms = kb.probe_terms(int(j))
        held = sum(w for g, w in zip(topic, weights, strict=True) if any(t in terms for t in g.terms))
        share = held / total
        s = int(owner[j])
        out[s] = max(out[s], share)
    return out


def _negative(dense: DenseIndex, vector: np.ndarray, hidden: np.ndarray | None = None) -> float:
    """The mean cosine with the closest questions no section answers, read as one more "section"."""
    cosines = (dense.negatives @ vector).astype(np.float64)
    if hidden is not None:
        cosines[hidden] = -1.0
    return float(
        closest_probes(
            cosines,
            np.zeros(len(dense.negatives), dtype=np.int32),
            1,
        )[0]
    )


@dataclass(frozen=True, slots=True)
class Ranking:
    """Sections in fused order, with their scores and softmax probabilities."""

    order: np.ndarray  # section indices, best first
    scores: np.ndarray  # fused score per section
    probabilities: np.ndarray  # softmax of the scores per section


def rank(features: np.ndarray, weights: Sequence[float]) -> Ranking:
    scores = features @ np.asarray(weights, dtype=np.float64)
    shifted = np.exp(scores - scores.max())
    return Ranking(np.argsort(-scores, kind="stable"), scores, shifted / shifted.sum())
