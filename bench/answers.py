"""Benchmark of the answer engine: dev and locked accuracy, wrong answers, latency, start-up.

Run from the repository root: ``python bench/answers.py`` (a table) or ``--json`` (one object).

- Accuracy is scored like ``shared/checks/qa_eval.py``, separately for the dev sets
  (``tests/data/dev/``, tuned on) and the locked sets (``tests/data/locked/``, only measured:
  nothing here prints a locked question), in scope and out of scope.
- ``confident_wrong`` counts answers given (confidence at or above the decline threshold) that are
  wrong: the wrong document or passage in scope, or any answer out of scope. Calibration holds
  when it is 0: no wrong answer scores above the threshold.
- Latency is per ``answer()`` call once the index is built, over every dev question, several rounds.
- ``calibration``: per confidence bin, how many questions and the share whose answer — given or
  declined — would be right (counts only, for the locked sets too).
- Start-up is one real ``prodouane-relay ask`` process, measured from its start to its exit, and the
  engine's own share, in process: importing it and building the index (``engine_startup_s``), and
  up to the first answer, which loads the embedding model (``engine_first_answer_s``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "data"
BOUNDS = {"p95_ms": 20.0, "ask_process_s": 0.5, "engine_first_answer_s": 0.5}


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("prodouane-relay")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def ask_process_seconds(runs: int = 3) -> float:
    """The best of ``runs`` wall times of ``prodouane-relay ask QUESTION`` (a fresh process each)."""
    best = float("inf")
    env = {**os.environ, "PRODOUANE_RELAY_DATABASE_URL": "sqlite:////nonexistent/bench.db"}
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [*_cli(), "ask", "Puis-je auto-déclencher la procédure de secours ?"],
            check=True,
            capture_output=True,
            cwd=ROOT,
            env=env,
        )
        best = min(best, time.perf_counter() - t0)
    return best


def measure(rounds: int) -> dict[str, Any]:
    start = time.perf_counter()
    from knowledge.answers import answer
    from knowledge.evaluation import calibration_table, load, merge, score
    from knowledge.search import KnowledgeBase
    from knowledge.weights import shipped

    KnowledgeBase.load().dense  # noqa: B018 - the index and the shipped embeddings
    engine_startup = time.perf_counter() - start
    answer("Puis-je auto-déclencher la procédure de secours ?")
    first_answer = time.perf_counter() - start

    sets: dict[str, Any] = {}
    for kind in ("dev", "locked"):
        files = sorted((DATA / kind).glob("*.jsonl"))
        reports = {p.name: score(load(p)) for p in files}
        total = merge(list(reports.values()))
        sets[kind] = {
            "all": total.as_dict(),
            "files": {k: r.as_dict() for k, r in reports.items()},
            "calibration": calibration_table(total.calibration),
        }

    questions = [it["q"] for p in sorted((DATA / "dev").glob("*questions.jsonl")) for it in load(p)]
    times = []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            answer(q)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    figures: dict[str, Any] = {
        "dev": sets["dev"],
        "locked": sets["locked"],
        "decline_threshold": shipped().threshold,
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "answers_timed": len(times),
        "engine_startup_s": round(engine_startup, 3),
        "engine_first_answer_s": round(first_answer, 3),
        "ask_process_s": round(ask_process_seconds(), 3),
    }
    figures["ratios"] = {k: round(figures[k] / bound, 3) for k, bound in BOUNDS.items()}
    return figures


def _row(name: str, fig: dict[str, Any]) -> str:
    return (
        f"{name:<28}{fig['accuracy']:>7.3f}  in {fig['in_scope_n']:>8}  out {fig['out_of_scope_n']:>7}"
        f"  wrong {fig['confident_wrong']:>3}  max wrong conf {fig['max_wrong_confidence']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions (default 3)")
    args = parser.parse_args(argv)
    result = measure(max(1, args.rounds))
    if args.json:
        print(json.dumps(result))
        return 0
    for kind in ("dev", "locked"):
        if not result[kind]["files"]:
            print(f"{kind}: no question set")
            continue
        print(_row(f"{kind} (all)", result[kind]["all"]))
        for name, fig in result[kind]["files"].items():
            print(_row(f"  {name}", fig))
        bins = "  ".join(
            f"{b['bin']}: {b['n']}" + (f" ({b['right']:.0%} right)" if b["n"] else "")
            for b in result[kind]["calibration"]
        )
        print(f"  calibration (confidence: questions, share right): {bins}")
    print(f"decline threshold {result['decline_threshold']}")
    print(f"{'figure':<18}{'value':>10}{'bound':>10}{'ratio':>8}")
    for key, bound in BOUNDS.items():
        print(f"{key:<18}{result[key]:>10.3f}{bound:>10.3f}{result['ratios'][key]:>8.3f}")
    print(f"({result['answers_timed']} answers timed; ratio < 1 is within bound)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
