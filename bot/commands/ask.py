"""``prodouane-relay ask``: answer questions from the DGDDI fiches, one at a time or in batch.

``ask "QUESTION"`` prints the answer and its citation; ``--json`` prints one JSON object;
``--batch FILE`` (``-`` for stdin) reads JSON lines ``{"q": ...}`` and writes one JSON object per
line, in order, flushed as it goes. The answering itself lives in :mod:`knowledge.answers`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from knowledge.answers import Answer


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ask",
        help="answer a question from the DGDDI fiches",
        description="Answer a procedural question (French or English) from the DGDDI fiches, "
        "quoting the relevant step and citing it, or say plainly that they do not cover it.",
    )
    parser.add_argument("question", nargs="?", help="the question, in French or English")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--batch",
        metavar="FILE",
        help='read JSON lines {"q": ...} from FILE ("-" for stdin); write one JSON object per line',
    )
    parser.add_argument(
        "--db",
        help="SQLAlchemy URL of the store whose open alerts the answer follows (default: the configured one)",
    )
    # one question is a one-shot command (bot.cli pauses the garbage collector), a batch is not
    parser.set_defaults(func=run, one_shot=lambda args: args.batch is None)


def run(args: argparse.Namespace) -> int:
    from bot.cli import UsageError

    if args.batch is not None:
        if args.question is not None:
            raise UsageError("give either a QUESTION or --batch FILE, not both")
        questions = _read_batch(args.batch)
        from knowledge.answers import answer

        live = open_alerts(args.db)
        for q in questions:
            sys.stdout.write(json.dumps(to_json(answer(q, live=live)), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0

    question = (args.question or "").strip()
    if not question:
        raise UsageError('give a question, e.g. ask "Puis-je auto-déclencher la procédure de secours ?"')
    from knowledge.answers import answer

    result = answer(question, live=open_alerts(args.db))
    if args.json:
        print(json.dumps(to_json(result), ensure_ascii=False))
    else:
        print(render(result))
    return 0


def open_alerts(url: str | None) -> list[dict[str, Any]]:
    """The store's open alerts, as the answer engine reads them; none when the store cannot be read.

    A missing SQLite file is not created, and a database that is absent, unreachable or not yet
    migrated only means the answer comes without alerts (logged at debug level, nothing shown).
    A SQLite store is read with the standard library and the store's place from the environment
    and the configuration file (:mod:`relays.glance`, :mod:`bot.store_url`): neither SQLAlchemy
    nor pydantic is loaded, so the answer comes sooner.
    """
    try:
        if url is None:
            from bot.store_url import configured_url

            url = configured_url() or _settings_url()
        from relays.glance import open_alerts as read

        return read(url)
    except Exception as exc:  # an unreadable store must not stop an answer
        logging.getLogger(__name__).debug("ask: open alerts not read from the store: %s", exc)
        return []


def _settings_url() -> str:
    """The store's URL from the full settings, when the configuration file is not plain enough to
    read the two settings alone (their error then stops the reading, as before)."""
    from bot.settings import load_settings

    settings = load_settings()
    return settings.database_url or settings.embedded_database_url()


def to_json(result: Answer) -> dict[str, Any]:
    """The ``--json`` / ``--batch`` object for one answer."""
    return {
        "answer": result.text,
        "abstained": result.abstained,
        "confidence": result.confidence,
        "sources": [
            {"doc": s.doc, "section": s.section, "heading": s.heading, "ref": s.ref} for s in result.sources
        ],
        "lang": result.lang,
    }


def render(result: Answer) -> str:
    """The answer for a person: the text, then where it comes from."""
    lines = [result.text]
    if result.sources:
        label = "Source:" if result.lang == "en" else "Source :"
        lines.append("")
        for s in result.sources:
            lines.append(f"{label} {s.ref} [{s.doc}#{s.section}]")
    return "\n".join(lines)


def _read_batch(path: str) -> list[str]:
    from bot.cli import UsageError

    try:
        if path == "-":
            return _parse_batch(sys.stdin, "<stdin>")
        with Path(path).open(encoding="utf-8") as handle:
            return _parse_batch(handle, path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text") from exc


def _parse_batch(lines: TextIO, name: str) -> list[str]:
    """Every question of a batch, checked before any is answered (no half-written output)."""
    from bot.cli import UsageError

    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{name}, line {number}: not JSON ({exc.msg})") from exc
        q = item.get("q") if isinstance(item, dict) else None
        if not isinstance(q, str) or not q.strip():
            raise UsageError(f'{name}, line {number}: expected an object with a non-empty "q" string')
        questions.append(q)
    return questions
