"""The dev question sets' questions, shipped as probes: ``python -m knowledge.asked``.

The probes (:mod:`knowledge.probes`) are questions written from the documents, so they ask in the
documents' order of ideas. The dev sets hold 4,000 questions asked the way operators ask, each
with the document and the phrase that answers it: the richest description there is of how a
section is asked about. Each answerable one becomes a probe of the section holding its phrase (tied
to the sentence that holds it), each one no document answers a near-domain question, and both
are embedded offline with the rest (``knowledge/index/asked.jsonl``; regenerate it, then the
embeddings, the probes' words and the weights, after a dev set changes).

A dev question must not find itself when its file is measured: each row keeps the files it was
asked in, and :func:`knowledge.answers.prepare` leaves out those of the file ``withheld`` while
:mod:`knowledge.fitting` measures that file, so the cross-validated figures are those of unseen
questions. A follow-up is shipped as the exchange it is read in, the question before it and the
fragment ("Quels formulaires en secours Delta X import ? et pour l'export ?"): that is how the
engine embeds a message read in context (dev, cross-validated: cost 353 -> 317, wrong answers
given 125 -> 101, against whole questions alone). The shared dev set is left out, its check must
keep measuring questions the engine has not seen; locked sets are never read here.

Not every question no document answers is shipped as one (:func:`teaches_negative`): the engine
reads how close a question is to them as evidence that no section answers it, so a question
that is near one of them in meaning is pulled toward declining. A whole question in several parts
("En combien de temps réintégrer les déclarations de secours ? et si on dépasse, quelle amende ?")
is out of scope when one part is, while its other part is a core question; a question a rule
declines is declined without it — a fax number, a box no fiche describes, a maximum number,
whatever the section; an amount of money (a fine, a fee) unless the section chosen names one, and
only the EVN's section does —, and "what is the fine if we reintegrate late?" sat closer to
"Combien de temps pour réintégrer les déclarations de secours ?" than any of its probes, which
was declined at 0.45. A follow-up's exchange stays: the fragment is what no section answers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from knowledge.decline import never_given
from knowledge.documents import load_documents
from knowledge.embeddings import units
from knowledge.evaluation import is_followup, norm
from knowledge.intents import read_intent
from knowledge.probes import ASKED_FILE
from knowledge.search import KnowledgeBase
from knowledge.text import detect_lang

#: the shared development set, measured by ``shared/checks/qa_eval.py``: never shipped
SHARED = "dev_questions.jsonl"


def rows(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """One row per distinct question (a follow-up: its exchange): an answerable one per section
    holding its phrase."""
    documents = load_documents()
    u = units(documents, probes=(), negatives=())
    entries = [(d, s) for d in documents for s in d.sections]
    texts = [norm(f"{s.heading} {s.body}") for _, s in entries]
    by_section: dict[int, list[str]] = {}
    for own, text in zip(u.sentence_section, u.sentence_text, strict=True):
        by_section.setdefault(own, []).append(text)
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in paths:
        if "locked" in path.parts or path.name == SHARED:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            data = json.loads(line)
            if is_followup(data):
                # read in context, a follow-up is embedded with the question before it
                question = " ".join(f"{data['q1']} {data['q2']}".split())
            else:
                question = " ".join(str(data["q"]).split())
            lang = str(data.get("lang") or detect_lang(question))
            phrases = [norm(p) for p in data.get("any") or []]
            found = []
            for i, ((doc, sec), text) in enumerate(zip(entries, texts, strict=True)):
                if doc.id in (data.get("docs") or ()) and any(p in text for p in phrases):
                    said = next((t for t in by_section.get(i, ()) if any(p in norm(t) for p in phrases)), "")
                    found.append({"doc": doc.id, "section": sec.id, "answer": said})
            if data.get("docs") and not found:
                continue  # the phrase is in no section (a heading, a date line): nothing to tie it to
            if not data.get("docs") and not is_followup(data) and not teaches_negative(question):
                continue
            for where in found or [{}]:
                key = (question, where.get("doc", ""), where.get("section", ""))
                row = out.setdefault(key, {**where, "lang": lang, "q": question, "from": []})
                if path.name not in row["from"]:
                    row["from"].append(path.name)
    return list(out.values())


def teaches_negative(question: str) -> bool:
    """Whether a whole question no document answers is shipped as one: not when it asks in several
    parts (one of them may be answered) nor when a rule declines it (an amount of money: everywhere
    but in the EVN's section; see the module)."""
    parts = [p for p in question.split("?") if len(p.strip()) > 3]
    if len(parts) >= 2:
        return False
    kb = KnowledgeBase.load()
    intent = read_intent(question, kb.documents)
    return not (intent.amount or never_given(kb, intent))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    files = [Path(a) for a in args] or sorted(Path("tests/data/dev").glob("*.jsonl"))
    path = Path(str(resources.files("knowledge") / ASKED_FILE))
    written = rows(files)
    with path.open("w", encoding="utf-8") as handle:
        for row in written:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    probes = sum(1 for r in written if r.get("doc"))
    print(f"{path}: {probes} answerable questions, {len(written) - probes} that no document answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
