"""Questions each section answers, written from the documents alone: a retrieval aid, never quoted.

An operator asks "le bureau doit-il m'autoriser ?"; the fiche says "ne peut en aucun cas être
conditionnée à l'autorisation du bureau". A question and a rule share few words and sit apart in
the embedding space, while two questions asking the same thing sit close together. So each
section carries a handful of questions it answers (French and English, formal and rushed, written
from the section's text by people who saw no test question), each tied to the sentence that
answers it. They are embedded offline with the passages (``knowledge/index/embeddings.npz``); at
run time the question's closeness to a section's probes is one more signal for the ranker, the
sentence model and the decline model, fitted like the others. Probes are never shown to a user:
answers quote only the official text.

File: ``knowledge/index/probes.jsonl``, one ``{"doc", "section", "lang", "q", "answer"}`` per line,
``answer`` being the answering sentence as it reads in the section (a test checks every probe
points at an existing section and sentence).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = [
    "Probe",
    "PROBES_FILE",
    "NEGATIVES_FILE",
    "ASKED_FILE",
    "load_probes",
    "load_negatives",
    "load_asked",
    "shipped_questions_digest",
]

PROBES_FILE = "index/probes.jsonl"  # inside the knowledge package
#: questions that sound like the domain but that no document answers (tariffs, EORI, transit, other
#: téléservices…), written the same way: closeness to them is evidence for declining
NEGATIVES_FILE = "index/negatives.jsonl"
#: the dev question sets' questions (:mod:`knowledge.asked`): answerable ones as probes of the
#: section holding their answer, the others as questions no document answers; each with the dev
#: files it was asked in, so that a file's own questions are withheld when it is measured
ASKED_FILE = "index/asked.jsonl"


@dataclass(frozen=True, slots=True)
class Probe:
    doc: str
    section: str
    lang: str
    question: str
    #: the answering sentence, as it reads in the section (whitespace collapsed)
    answer: str
    #: the dev question files it was asked in (empty for a probe written from the documents)
    origin: tuple[str, ...] = ()


def _squash(text: str) -> str:
    # str.split() breaks on exactly the characters re's \s matches, at a sixth of the cost: the
    # 3,000 probes are squashed at every start-up (60 ms of `ask` with re.sub on 2026-12-01's machine)
    return " ".join(text.split())


def load_probes(path: Path | None = None) -> tuple[Probe, ...]:
    """The shipped probes (none when the file is absent: retrieval then works without them)."""
    path = path or Path(str(resources.files("knowledge") / PROBES_FILE))
    if not path.is_file():
        return ()
    probes = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                probes.append(_probe(json.loads(line)))
    return tuple(probes)


def _probe(row: dict[str, object], origin: tuple[str, ...] = ()) -> Probe:
    return Probe(
        str(row["doc"]),
        str(row["section"]),
        str(row.get("lang", "fr")),
        _squash(str(row["q"])),
        _squash(str(row.get("answer", ""))),
        origin,
    )


def load_negatives(path: Path | None = None) -> tuple[str, ...]:
    """The shipped questions no document answers (none when the file is absent)."""
    path = path or Path(str(resources.files("knowledge") / NEGATIVES_FILE))
    if not path.is_file():
        return ()
    with path.open(encoding="utf-8") as handle:
        return tuple(_squash(str(json.loads(line)["q"])) for line in handle if line.strip())


def load_asked(path: Path | None = None) -> tuple[tuple[Probe, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """The dev questions shipped as probes, and those no document answers with their files."""
    path = path or Path(str(resources.files("knowledge") / ASKED_FILE))
    if not path.is_file():
        return (), ()
    probes: list[Probe] = []
    negatives: list[tuple[str, tuple[str, ...]]] = []
    # a few dozen distinct lists of dev files for 9,700 questions: each distinct one kept once (a
    # tuple of fresh strings per question held 1.3 MB of the `run` process for as long as it runs)
    origins: dict[tuple[str, ...], tuple[str, ...]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            named = tuple(str(f) for f in row.get("from") or ())
            origin = origins.setdefault(named, named)
            if row.get("doc"):
                probes.append(_probe(row, origin))
            else:
                negatives.append((_squash(str(row["q"])), origin))
    return tuple(probes), tuple(negatives)


def shipped_questions_digest(folder: Path | None = None) -> str:
    """A hash of the shipped question files' bytes (probes, questions no document answers, the dev
    sets'), in that order; an absent file counts as empty.

    The shipped vectors and probe words are checked against it at every start-up, which then needs
    none of the 11,000 questions parsed (a third of `ask`'s start-up when it hashed their texts).
    ``folder`` stands for the package's folder (the files' names are relative to it).
    """
    root = folder or Path(str(resources.files("knowledge")))
    h = hashlib.sha256()
    for name in (PROBES_FILE, NEGATIVES_FILE, ASKED_FILE):
        path = root / name
        data = path.read_bytes() if path.is_file() else b""
        h.update(f"{name} {len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()
