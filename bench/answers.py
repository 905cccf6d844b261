"""Benchmark of the answer engine: dev-set accuracy, per-answer latency, start-up time.

Run from the repository root: ``python bench/answers.py`` (a table) or ``--json`` (one object).
Start-up is importing the engine plus loading the documents and building the index; latency is
measured per ``answer()`` call afterwards, over the dev and held-out questions, several rounds.
Each figure comes with its ratio to its bound (below 1 is within bound).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
BOUNDS = {"accuracy": 0.95, "p50_ms": 20.0, "p95_ms": 20.0, "startup_s": 1.0}


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _load(name: str) -> list[dict[str, Any]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def measure(rounds: int) -> dict[str, float]:
    start = time.perf_counter()
    from knowledge.answers import answer
    from knowledge.search import KnowledgeBase

    KnowledgeBase.load()
    startup = time.perf_counter() - start

    dev = _load("dev_questions.jsonl")
    good = 0
    for it in dev:
        result = answer(it["q"])
        docs = [s.doc for s in result.sources]
        if not it["docs"]:
            good += result.abstained
        else:
            good += (
                not result.abstained
                and bool(docs)
                and docs[0] in it["docs"]
                and any(norm(p) in norm(result.text) for p in it["any"])
                and len(result.text) <= 2000
            )
    questions = [it["q"] for it in dev + _load("heldout_questions.jsonl")]
    times = []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            answer(q)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    figures = {
        "accuracy": good / len(dev),
        "p50_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
        "startup_s": startup,
    }
    out: dict[str, float] = {k: round(v, 4) for k, v in figures.items()}
    for key, bound in BOUNDS.items():
        # accuracy is a floor (ratio = bound / value), the others are ceilings (value / bound)
        ratio = bound / figures[key] if key == "accuracy" and figures[key] else figures[key] / bound
        out[f"{key}_ratio"] = round(ratio, 3)
    out["answers_timed"] = len(times)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions (default 5)")
    args = parser.parse_args(argv)
    result = measure(max(1, args.rounds))
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'figure':<12}{'value':>10}{'bound':>10}{'ratio':>8}")
    for key, bound in BOUNDS.items():
        print(f"{key:<12}{result[key]:>10.3f}{bound:>10.3f}{result[key + '_ratio']:>8.3f}")
    print(f"({result['answers_timed']} answers timed; ratio < 1 is within bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
