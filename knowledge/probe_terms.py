"""The probes' words as the ranker reads them, computed offline: ``python -m knowledge.probe_terms``.

The ranker's ``probe_words`` signal compares a question's topic words with those of the probes
closest to it in meaning (:func:`knowledge.ranking.signals`). Reading a probe as a question is read
(language, glossary, spelling) costs a third of a millisecond and, for a probe written in SMS style,
imports the spelling corrector and its word lists, which a process answering one well-spelt
question never needed (the first 40 probes took 27 ms that way). So the words of every
probe are read once, offline, and shipped in ``knowledge/index/probe_terms.json`` with a digest of
the probes' texts; regenerate it after editing ``knowledge/index/probes.jsonl`` (a test fails when
it is stale, and a stale file is ignored: the probes are then read on first use).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

FILE = "index/probe_terms.json"  # inside the knowledge package


def digest(texts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def load(texts: Sequence[str]) -> list[tuple[str, ...]] | None:
    """The shipped words of each probe, or None when the file is missing or was read from other
    probes than ``texts``."""
    try:
        data = json.loads(resources.files("knowledge").joinpath(FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if data.get("digest") != digest(texts) or len(data.get("terms", ())) != len(texts):
        return None
    return [tuple(sys.intern(t) for t in terms) for terms in data["terms"]]


def _path() -> Path:
    return Path(str(resources.files("knowledge").joinpath(FILE)))


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.search import KnowledgeBase  # (the knowledge base reads this module's file)

    args = list(sys.argv[1:] if argv is None else argv)
    path = Path(args[0]) if args else _path()
    kb = KnowledgeBase.load()
    texts = kb.units.probes
    terms = [sorted(kb.read_probe(i)) for i in range(len(texts))]
    data = {"digest": digest(texts), "terms": terms}
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path}: the words of {len(terms)} probes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
