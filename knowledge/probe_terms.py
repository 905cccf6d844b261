"""The probes' words as the ranker reads them, computed offline: ``python -m knowledge.probe_terms``.

The ranker's ``probe_words`` signal compares a question's topic words with those of the probes
closest to it in meaning (:func:`knowledge.ranking.signals`). Reading a probe as a question is read
(language, glossary, spelling) costs a third of a millisecond and, for a probe written in SMS style,
imports the spelling corrector and its word lists, which a process answering one well-spelt
question never needed (the first 40 probes took 27 ms that way). So the words of every
probe are read once, offline, and shipped in ``knowledge/index/probe_terms.npz`` with the digest of
the embedded texts (:func:`knowledge.embeddings.digest`: the documents and the question files);
regenerate it after either changes (a test fails when it is stale, and a stale file is ignored:
the probes are then read on first use).

The file holds each distinct word once and, per probe, the numbers of its words: read as one
tuple of strings per probe, the words of 6,000 probes left 2.5 MB in the long-running process;
so a probe's words are looked up when the ranker reads it (40 probes per question).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

FILE = "index/probe_terms.npz"  # inside the knowledge package


class ProbeTerms:
    """The words of every probe, as numbers into one vocabulary."""

    def __init__(self, vocabulary: Sequence[str], ids: np.ndarray, offsets: np.ndarray) -> None:
        self._vocabulary = tuple(sys.intern(w) for w in vocabulary)
        self._ids = ids
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return (self[row] for row in range(len(self)))

    def __getitem__(self, row: int) -> tuple[str, ...]:
        start, end = int(self._offsets[row]), int(self._offsets[row + 1])
        return tuple(self._vocabulary[int(i)] for i in self._ids[start:end])

    @classmethod
    def of(cls, terms: Sequence[Sequence[str]]) -> ProbeTerms:
        vocabulary = sorted({t for row in terms for t in row})
        number = {w: i for i, w in enumerate(vocabulary)}
        ids = np.array([number[t] for row in terms for t in row], dtype=np.int32)
        offsets = np.cumsum([0, *(len(row) for row in terms)]).astype(np.int32)
        return cls(vocabulary, ids, offsets)

    def save(self, path: Path, digest: str) -> None:
        """Write the words to ``path`` with ``digest``, the texts' they were read from."""
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                digest=np.array(digest),
                vocabulary=np.array("\n".join(self._vocabulary)),
                ids=self._ids,
                offsets=self._offsets,
            )


def load(digest: str, path: Path | None = None) -> ProbeTerms | None:
    """The shipped words of each probe, or None when the file is missing or was read from other
    texts than those ``digest`` stands for."""
    try:
        with np.load(path or _path(), allow_pickle=False) as data:
            if str(data["digest"]) != digest:
                return None
            vocabulary = str(data["vocabulary"]).split("\n") if str(data["vocabulary"]) else []
            return ProbeTerms(vocabulary, data["ids"].astype(np.int32), data["offsets"].astype(np.int32))
    except (OSError, KeyError, ValueError):
        return None


def _path() -> Path:
    return Path(str(resources.files("knowledge").joinpath(FILE)))


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.search import KnowledgeBase  # (the knowledge base reads this module's file)

    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else _path()
    kb = KnowledgeBase.load()
    terms = [sorted(kb.read_probe(i)) for i in range(len(kb.units.probes))]
    ProbeTerms.of(terms).save(path, kb.units.texts_digest)
    print(f"{path}: the words of {len(terms)} probes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
