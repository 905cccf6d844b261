"""The search index over the sections of the knowledge base, and the signals an answer needs.

One BM25 index (:mod:`knowledge.bm25`) holds one entry per section, another one per sentence. A
section's heading is indexed three times and its document's title once, so "Étape 4 – Quand
pouvez-vous auto-déclencher…" outranks a body that merely mentions the words. When a question
names téléservices, sections of documents that cover them are boosted and the others damped, so
"GAMMA: can I self-trigger?" lands on the GAMMA presentation rather than on fiche 1.

Besides the ranking, a search reports how much of the question the documents speak about at all:
each word of the question is weighted by its rarity (IDF; a word the corpus never uses weighs as
much as a specific one), and ``vocab_coverage`` is the weighted share the corpus knows,
``section_coverage`` the weighted share present in the best section. These two numbers drive
abstention in :mod:`knowledge.answers`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from knowledge import probe_terms
from knowledge.bm25 import BM25
from knowledge.commonness import zipf
from knowledge.documents import Document, Section, load_documents
from knowledge.embeddings import DenseIndex, digest, load_index, units
from knowledge.intents import (
    Intent,
    boxes_named,
    contacts,
    definitions,
    event_periods,
    gives_count_limit,
    gives_fax,
    instructs,
)
from knowledge.services import find_services
from knowledge.spelling import Speller, glossary_words
from knowledge.text import Query, TermGroup, analyse_fr, analyse_question, detect_lang, fold, words

HEADING_WEIGHT = 3  # how many times a heading is indexed
BOOST_COVERED = 1.4  # a document covering a service the question names
BOOST_RELATED = 1.1  # a document written for a neighbouring service (fiche 4 for Delta G)
DAMP_OTHER = 0.5  # a document covering none of the services the question names
UNKNOWN_DF = 2  # the document frequency a word unknown to the corpus is weighed as
FILLER_ZIPF = 5.5  # an unknown word this common in everyday language weighs nothing ("encore", "still")
RARE_ZIPF = 3.5  # ...and one this rare weighs as a specific word ("lithium", "passeport")
EVERYDAY = 3.0  # Zipf: a word this common in general use is a word, not a misspelling
NAME_SHARE = 0.5  # what a name the fiches never use weighs, as a share of a specific word
SYNONYM_SHARE = 0.5  # what the other terms of one word add to its best term ("demande d'assistance")
INTENT_WEIGHT = 0.5  # "comment", "can I": a hint at the heading, weaker than the topic words
SERVICE_WORD_WEIGHT = 0.3  # a téléservice's name, once it has chosen the documents (boost above)
BOOST_NAMED = 2.0  # a document the question names ("la fiche 1", "the note of 1 August 2023")
BOOST_CONTACT = 1.6  # a section giving a phone number or an e-mail, for "numéro du SAU", "who to call"
BOOST_DEFINITION = 2.0  # the section spelling out the acronym a "what is a BIP" question asks about
BOOST_ROLE = 2.5  # a section with the role asked for: "Delta G en panne, que faire ?" → alert-check
THIN_TOPIC = 2  # ...when the question's other words say little (at most this many topic words)
ASKED_WEIGHT = 2.0  # a word of the last sentence, after a preamble: what is asked, not the context


@dataclass(frozen=True, slots=True)
class Hit:
    document: Document
    section: Section
    score: float
    index: int = -1  # the entry's position in the index


@dataclass(frozen=True, slots=True)
class Retrieval:
    query: Query
    hits: tuple[Hit, ...]
    vocab_coverage: float
    section_coverage: float
    known_groups: int
    #: the weighted share of the question's known (domain) words the best section contains
    domain_coverage: float = 0.0
    #: how far the best section stands above the next one (0: a tie, 1: alone)
    margin: float = 0.0
    #: how many topic words the fiches do not know (details such as times and names excluded)
    foreign_groups: int = 0


class KnowledgeBase:
    """The documents, their sections and the index; build it once with :meth:`load`."""

    _lock = threading.Lock()
    _shared: KnowledgeBase | None = None

    def __init__(self, documents: Sequence[Document]) -> None:
        self.documents = tuple(documents)
        self.entries: tuple[tuple[Document, Section], ...] = tuple(
            (d, s) for d in self.documents for s in d.sections
        )
        corpus: list[list[str]] = []
        section_terms: list[frozenset[str]] = []
        heading_terms: list[frozenset[str]] = []
        for doc, sec in self.entries:
            heading, title, body = analyse_fr(sec.heading), analyse_fr(doc.title), analyse_fr(sec.body)
            corpus.append(heading * HEADING_WEIGHT + title + body)
            section_terms.append(frozenset(heading + title + body))
            heading_terms.append(frozenset(heading))
        self.section_terms = tuple(section_terms)
        self.units = units(self.documents)
        sentence_corpus = [
            analyse_fr(f"{context} {text}")
            for text, context in zip(self.units.sentence_text, self.units.sentence_context, strict=True)
        ]
        #: the terms of each sentence as quoted (a list's lead-in with its first items) and of the
        #: sentence introducing its list, if any
        self.sentence_own_terms = tuple(
            frozenset(terms) | frozenset(analyse_fr(quote)) if quote != text else frozenset(terms)
            for terms, text, quote in zip(
                sentence_corpus, self.units.sentence_text, self.units.sentence_quote, strict=True
            )
        )
        #: ...with those of its section's heading
        self.sentence_terms = tuple(
            own | heading_terms[i]
            for own, i in zip(self.sentence_own_terms, self.units.sentence_section, strict=True)
        )
        self.sentence_section = np.asarray(self.units.sentence_section, dtype=np.int32)
        #: what each section is about: the terms of its own heading
        self.heading_terms = tuple(heading_terms)
        #: every word of the fiches, folded: tells a real cognate ("page") from a look-alike ("visa")
        surface = [w for doc, sec in self.entries for w in words(f"{doc.title} {sec.heading} {sec.body}")]
        self.surface_words = frozenset(fold(w) for w in surface)
        self._speller = Speller(surface, glossary_words())
        #: per section, the phone numbers and e-mail addresses it gives: the SAU's number is in
        #: three steps of fiche 1, and "quel est le numéro du SAU ?" is answered by any of them
        self.contacts = tuple(contacts(s.body) for _, s in self.entries)
        self.contact = np.array([bool(c) for c in self.contacts])
        #: the form boxes the fiches describe (the SAD's boxes 31 and 44, the GAMMA form's rubrics):
        #: "que mettre en case 8 ?" asks what no sentence of theirs says
        self.boxes = frozenset().union(*(boxes_named(s.body) for _, s in self.entries))
        #: whether any section gives a fax number ("par fax" is how to send, not where)
        self.gives_fax = any(gives_fax(s.body) for _, s in self.entries)
        #: whether any section states a maximum or minimum number of something (none does)
        self.gives_count_limit = any(gives_count_limit(s.body) for _, s in self.entries)
        #: per section, the index of its document's step or part (:attr:`Section.part`): the
        #: sections of one step ("Étape 4": the delay, the conditions, the BAE declarations…)
        #: are one subject split for precise quoting
        parts: dict[tuple[str, str], int] = {}
        self.part = np.array([parts.setdefault((d.id, s.part), len(parts)) for d, s in self.entries])
        self.defines = tuple(definitions(s) for _, s in self.entries)
        #: per document about one dated event (the note's interruption of 8 August 2023), the months
        #: and years it names: a question about another period, or the next one, is not answered there
        self.event_periods = {d.id: event_periods(d) for d in self.documents}
        self._probe_terms: dict[int, tuple[str, ...]] = {}
        self._shipped_probe_terms: probe_terms.ProbeTerms | None = None
        #: the probes' wording, unpacked once a probe must be read here (development only: the
        #: shipped words cover every shipped probe)
        self._probe_texts: list[str] | None = None
        #: per section, the share of its sentences that tell the reader what to do ("Déposez…",
        #: "vous êtes invités à…"): "que faire ?" is answered by instructions, not by a description
        told = np.zeros(len(self.entries))
        count = np.zeros(len(self.entries))
        for text, own in zip(self.units.sentence_text, self.units.sentence_section, strict=True):
            told[own] += instructs(text)
            count[own] += 1
        self.instructs = np.divide(told, count, out=np.zeros_like(told), where=count > 0)
        covered = {n for d in self.documents for n in (*d.services, *d.related)}
        self.service_words = frozenset(w for n in covered for w in fold(n).split())
        n = len(corpus)
        df: dict[str, int] = {}
        for terms in section_terms:
            for t in terms:
                df[t] = df.get(t, 0) + 1
        self.idf = {t: math.log(1 + (n - k + 0.5) / (k + 0.5)) for t, k in df.items()}
        # A word the fiches never use weighs like a specific word (one found in two sections):
        # missing it matters, but an odd verb must not outweigh the whole topic.
        self.unknown_idf = math.log(1 + (n - UNKNOWN_DF + 0.5) / (UNKNOWN_DF + 0.5))
        self._bm25 = BM25(corpus)
        # A second index over the sentences (each with the sentence introducing its list): a
        # section whose one sentence holds the question's words beats one that scatters them.
        self._bm25_sentences = BM25(sentence_corpus)
        self._term_sections: dict[str, np.ndarray] = {}
        self._heading_masks: dict[str, np.ndarray] = {}
        self._sentence_masks: dict[str, np.ndarray] = {}
        self._own_masks: dict[str, np.ndarray] = {}
        self._withheld: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def load(cls) -> KnowledgeBase:
        """The process-wide knowledge base, built on first use (thread-safe)."""
        if cls._shared is None:
            with cls._lock:
                if cls._shared is None:
                    cls._shared = cls(load_documents())
        return cls._shared

    @cached_property
    def dense(self) -> DenseIndex:
        """The embeddings of the sections and their sentences (read from the shipped file on first use)."""
        return load_index(self.documents, self.units)

    def withheld(self, origin: str) -> tuple[np.ndarray, np.ndarray]:
        """The probes and the questions no section answers that were asked in the dev file
        ``origin`` (boolean masks over their rows): withheld while that file is measured, or its
        questions would find themselves."""
        masks = self._withheld.get(origin)
        if masks is None:
            masks = (
                np.array([origin in o for o in self.units.probe_origin], dtype=bool),
                np.array([origin in o for o in self.units.negative_origin], dtype=bool),
            )
            self._withheld[origin] = masks
        return masks

    @cached_property
    def by_doc(self) -> dict[str, Document]:
        return {d.id: d for d in self.documents}

    def probe_terms(self, row: int) -> tuple[str, ...]:
        """The index terms of probe ``row``'s topic words (:mod:`knowledge.probe_terms`): shipped,
        read offline; a probe the shipped file does not hold is read on first use and kept."""
        if self._shipped_probe_terms is None:
            shipped = probe_terms.load(digest(self.units))
            self._shipped_probe_terms = shipped or probe_terms.ProbeTerms.of([])
        if row < len(self._shipped_probe_terms):
            return self._shipped_probe_terms[row]
        cached = self._probe_terms.get(row)
        if cached is None:
            cached = tuple(sorted(self.read_probe(row)))
            self._probe_terms[row] = cached
        return cached

    def read_probe(self, row: int) -> frozenset[str]:
        """Probe ``row`` read as a question is (its language detected, English words mapped to the
        fiches' French terms, misspellings corrected): the index terms of its topic words."""
        if self._probe_texts is None:
            self._probe_texts = self.units.probes.unpacked()
        text = self._probe_texts[row]
        lang = detect_lang(text)
        query = analyse_question(text, lang, vocabulary=self.surface_words, correct=self.correct)
        return frozenset(t for g in query.topic for t in g.terms)

    def weight(self, group: TermGroup, lang: str = "fr") -> float:
        """How much a question word matters: the IDF of its rarest known term, or a foreign weight.

        A detail (a time, an amount, a name) weighs nothing. A word the fiches never use weighs as a
        specific word when it is rare in everyday language ("lithium", "passeport": a topic the
        fiches do not speak of), and nothing when it is common ("restent", "still", "company"):
        everyday words say nothing about whether the fiches answer. An unknown acronym ("TVA",
        "GUN") is a topic.
        """
        if group.context:
            # a name ("Roissy", "Le Havre") is part of the situation, but when the question says little
            # else it is what the question is about: it weighs half a specific word; a number nothing
            return 0.0 if group.word.isdigit() else NAME_SHARE * self.unknown_idf
        known = [self.idf[t] for t in group.terms if t in self.idf]
        if known:
            return max(known)
        word = group.word
        if word.isupper() and len(word) > 1:
            return self.unknown_idf
        rare = (FILLER_ZIPF - zipf(fold(word) if lang == "en" else word, lang)) / (FILLER_ZIPF - RARE_ZIPF)
        return self.unknown_idf * min(1.0, max(0.0, rare))

    def covered_services(self) -> set[str]:
        """The téléservices a document is written for (or about a neighbour of)."""
        return {n for d in self.documents for n in (*d.services, *d.related)}

    @cached_property
    def mentioned_services(self) -> frozenset[str]:
        """Those, and the téléservices the fiches name in their text ("la téléprocédure « Aubette »"):
        a question naming one of them is about what the fiches say, not about another service.

        A ``catalogue`` section (the portal's list of its téléservices, one line each) names NSTI
        — NCTS — without saying anything of its procedures: "and what about NCTS?" after a
        fallback question is about a service the fiches do not cover, and is told so."""
        named = {
            n
            for _, s in self.entries
            if "catalogue" not in s.roles
            for n in find_services(f"{s.heading} {s.body}")
        }
        return frozenset(self.covered_services() | named)

    def correct(self, word: str) -> str | None:
        """The word a misspelt question word stands for ("declartion" → "déclaration"), or the
        fiches' accented spelling of a word typed without accents ("mainlevee" → "mainlevée": the
        stemmer reads them apart), or None.

        A word of everyday French or English is not a misspelling, even one edit from a word of
        the fiches: "transit" is not "transmit", "spirits" not "esprits"; read as what it is, a
        topic the fiches may not cover.
        """
        restored = self._speller.accented(word)
        if restored is not None:  # not a misspelling: the fiches' word without its accents
            return restored
        fixed = self._speller.correct(word)
        if fixed is not None and zipf(word, "fr") >= EVERYDAY:
            return None
        return fixed

    def knows(self, group: TermGroup) -> bool:
        return any(t in self.idf for t in group.terms)

    def _term_scores(self, term: str) -> np.ndarray:
        """BM25 score of every section for one term."""
        return self._bm25.scores(term)

    def _sentence_term_scores(self, term: str) -> np.ndarray:
        """BM25 score of every sentence for one term."""
        return self._bm25_sentences.scores(term)

    def sentence_scores(self, query: Query) -> np.ndarray:
        """Per section, the BM25 score of its best sentence (words weighed as in :meth:`rank`)."""
        scores = np.zeros(len(self.units.sentences), dtype=np.float32)
        seen: set[tuple[str, ...]] = set()
        for g in query.groups:
            if g.terms in seen:
                continue
            seen.add(g.terms)
            weight = (INTENT_WEIGHT if g.weak else 1.0) * (ASKED_WEIGHT if g.asked else 1.0)
            scores += weight * self._group_scores(g, self._sentence_term_scores)
        best = np.zeros(len(self.entries), dtype=np.float64)
        np.maximum.at(best, self.sentence_section, scores.astype(np.float64))
        return best

    def _group_scores(
        self, group: TermGroup, term_scores: Callable[[str], np.ndarray] | None = None
    ) -> np.ndarray:
        """A word counts once: the best of the terms it may stand for ("panne" → dysfonctionnement…)."""
        each = np.stack([(term_scores or self._term_scores)(t) for t in group.terms])
        best: np.ndarray = each.max(axis=0)
        rest: np.ndarray = each.sum(axis=0) - best
        return best + SYNONYM_SHARE * rest

    def rank(
        self, query: Query, services: Sequence[str] = (), named: frozenset[str] = frozenset()
    ) -> np.ndarray:
        """Sum over the question's words of their best term's BM25 score; intent words weigh less.

        When the question names a téléservice the documents cover, the name has already chosen the
        documents (see :meth:`search`); as a word it weighs little, or a section that repeats
        "GAMMA" would outrank the one that answers.
        """
        scores = np.zeros(len(self.entries), dtype=np.float32)
        seen: set[tuple[str, ...]] = set()
        topical = [g for g in query.topic if fold(g.word) not in self.service_words]
        for g in query.groups:
            if g.terms in seen:
                continue
            seen.add(g.terms)
            weight = INTENT_WEIGHT if g.weak else 1.0
            if g.asked:
                weight *= ASKED_WEIGHT
            if services and topical and not g.weak and fold(g.word) in self.service_words:
                weight = SERVICE_WORD_WEIGHT
            if fold(g.word) in named:  # "8 août 2023" named the note: its date is not what is asked
                weight = SERVICE_WORD_WEIGHT
            scores += weight * self._group_scores(g)
        return scores

    def _intent_factors(self, query: Query, intent: Intent) -> np.ndarray:
        factors = np.ones(len(self.entries), dtype=np.float32)
        if intent.documents:
            named = np.array([d.id in intent.documents for d, _ in self.entries])
            factors *= np.where(named, BOOST_NAMED, 1.0)
        if intent.contact:
            factors *= np.where(self.contact, BOOST_CONTACT, 1.0)
        rest = [g for g in query.topic if fold(g.word) not in self.service_words]
        if intent.roles and len(rest) <= THIN_TOPIC:
            asked = set(intent.roles)
            has_role = np.array([bool(asked & set(s.roles)) for _, s in self.entries])
            factors *= np.where(has_role, BOOST_ROLE, 1.0)
        if intent.definition and len(query.topic) <= 2:
            asked = {fold(g.word) for g in query.topic}
            defines = np.array([bool(asked & d) for d in self.defines])
            factors *= np.where(defines, BOOST_DEFINITION, 1.0)
        return factors

    def service_factors(self, services: Sequence[str]) -> np.ndarray:
        """Per section: boosted when its document covers a named service, damped when it covers none."""
        if not services:
            return np.ones(len(self.entries), dtype=np.float32)
        wanted = set(services)
        return np.array(
            [
                BOOST_COVERED
                if wanted & set(d.services)
                else BOOST_RELATED
                if wanted & set(d.related)
                else DAMP_OTHER
                for d, _ in self.entries
            ],
            dtype=np.float32,
        )

    def scores(self, query: Query, services: Sequence[str] = (), intent: Intent | None = None) -> np.ndarray:
        """The lexical score of every section: BM25 of the question's words, intent and services."""
        scores = self.rank(query, services, intent.date_words if intent is not None else frozenset())
        if intent is not None:
            scores = scores * self._intent_factors(query, intent)
        if services:
            scores = scores * self.service_factors(services)
        return scores

    def coverages(self, query: Query) -> np.ndarray:
        """Per section, the weighted share of the question's topic words it contains (see
        :meth:`section_coverage`)."""
        weights = [self.weight(g, query.lang) * (ASKED_WEIGHT if g.asked else 1.0) for g in query.topic]
        total = sum(weights) or 1.0
        out = np.zeros(len(self.entries), dtype=np.float64)
        for g, w in zip(query.topic, weights, strict=True):
            if w:
                out += w * self._containing(g.terms)
        return out / total

    def heading_coverages(self, query: Query) -> np.ndarray:
        """Per section, the weighted share of the question's topic words its heading names."""
        return self._coverage(query, self._heading_masks, self.heading_terms)

    def sentence_coverages(self, query: Query) -> np.ndarray:
        """Per section, the best weighted share of the question's topic one of its sentences (with
        the heading) contains: a section where one sentence says it all is likelier to answer."""
        per_sentence = self.sentence_coverage_each(query)
        best = np.zeros(len(self.entries), dtype=np.float64)
        np.maximum.at(best, self.sentence_section, per_sentence)
        return best

    def sentence_coverage_each(self, query: Query, with_heading: bool = True) -> np.ndarray:
        """Per sentence (rows of ``units``), the weighted share of the question's topic it contains
        (with its section's heading, or on its own: to tell the sentences of one section apart)."""
        if with_heading:
            return self._coverage(query, self._sentence_masks, self.sentence_terms)
        return self._coverage(query, self._own_masks, self.sentence_own_terms)

    def _coverage(
        self, query: Query, cache: dict[str, np.ndarray], term_sets: Sequence[frozenset[str]]
    ) -> np.ndarray:
        weights = [self.weight(g, query.lang) * (ASKED_WEIGHT if g.asked else 1.0) for g in query.topic]
        total = sum(weights) or 1.0
        out = np.zeros(len(term_sets), dtype=np.float64)
        for g, w in zip(query.topic, weights, strict=True):
            if not w:
                continue
            found = np.zeros(len(term_sets), dtype=np.float64)
            for t in g.terms:
                if t not in self.idf:
                    continue
                mask = cache.get(t)
                if mask is None:
                    mask = cache[t] = np.array([t in s for s in term_sets], dtype=np.float64)
                found = np.maximum(found, mask)
            out += w * found
        return out / total

    def _containing(self, terms: Sequence[str]) -> np.ndarray:
        """Which sections contain at least one of ``terms`` (0/1 per section)."""
        found = np.zeros(len(self.entries), dtype=np.float64)
        for t in terms:
            if t not in self.idf:  # a word the fiches never use: in no section (and not cached)
                continue
            mask = self._term_sections.get(t)
            if mask is None:
                mask = np.array([t in s for s in self.section_terms], dtype=np.float64)
                self._term_sections[t] = mask
            found = np.maximum(found, mask)
        return found

    def search(
        self, query: Query, services: Sequence[str] = (), k: int = 5, intent: Intent | None = None
    ) -> Retrieval:
        scores = self.scores(query, services, intent)
        order = np.argsort(-scores, kind="stable")[:k]
        hits = tuple(
            Hit(self.entries[i][0], self.entries[i][1], float(scores[i]), int(i))
            for i in order
            if scores[i] > 0
        )
        topic = query.topic
        weights = [self.weight(g, query.lang) for g in topic]
        total = sum(weights) or 1.0
        known = [self.knows(g) for g in topic]
        vocab_cov = sum(w for w, ok in zip(weights, known, strict=True) if ok) / total
        section_cov = self.section_coverage(query, hits[0]) if hits else 0.0
        domain = [g for g, ok in zip(topic, known, strict=True) if ok]
        domain_cov = (
            self.section_coverage(Query(query.lang, tuple(domain)), hits[0]) if hits and domain else 0.0
        )
        margin = 1.0 - hits[1].score / hits[0].score if len(hits) > 1 else 1.0 if hits else 0.0
        return Retrieval(
            query, hits, vocab_cov, section_cov, sum(known), domain_cov, margin, len(known) - sum(known)
        )

    def section_coverage(self, query: Query, hit: Hit) -> float:
        """The weighted share of the question's topic words present in the hit's section."""
        # what is asked (the last sentence after a preamble, a follow-up's own words) weighs double,
        # as in the ranking
        weights = [self.weight(g, query.lang) * (ASKED_WEIGHT if g.asked else 1.0) for g in query.topic]
        terms = self.section_terms[hit.index]
        inside = sum(w for g, w in zip(query.topic, weights, strict=True) if set(g.terms) & terms)
        return inside / (sum(weights) or 1.0)

    def heading_share(self, groups: Sequence[TermGroup], hit: Hit) -> float:
        """The weighted share of ``groups`` the hit's own heading names (1.0 when there are none)."""
        weights = [self.weight(g) for g in groups]
        if not weights:
            return 1.0
        terms = self.heading_terms[hit.index]
        named = sum(w for g, w in zip(groups, weights, strict=True) if set(g.terms) & terms)
        return named / sum(weights)
