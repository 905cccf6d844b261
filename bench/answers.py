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
- Start-up is one real ``prodouane-relay ask`` process, measured from its start to its exit, on a
  store at the latest schema with an open alert (the median of 5, as ``bench/cli.py`` does); the
  engine's own share is a fresh process that imports the engine and answers (``engine_process_s``)
  and, in process, importing it and building the index (``engine_startup_s``) and up to the first
  answer, which loads the embedding model (``engine_first_answer_s``).
- Resident memory of a real ``run`` process (``--no-rss`` skips it, ``--only-rss`` measures only
  it): default settings with the chat front-ends off, then with the Telegram bot answering
  questions from a local fake Bot API.
- Timings depend on the machine's load and speed: the 1-minute load average is printed with them,
  and ``machine_reference_s``, a fixed pure-Python loop, to compare machines.
- Every timed process runs from compiled modules, as an installed command does
  (``PYTHONDONTWRITEBYTECODE`` is left out of its environment: ``bench.cli.as_installed``).
"""

from __future__ import annotations

import argparse
import functools
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

from bench.cli import as_installed, compile_project  # noqa: E402

DATA = ROOT / "tests" / "data"
BOUNDS = {
    "p95_ms": 20.0,
    "ask_process_s": 0.5,
    "engine_process_s": 0.5,
    "engine_first_answer_s": 0.5,
    "run_rss_telegram_after_one_question_mb": 150.0,
}


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("prodouane-relay")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def ask_process_seconds(runs: int = 5) -> tuple[float, float]:
    """(median wall, median CPU) seconds of ``runs`` real ``prodouane-relay ask QUESTION`` processes,
    measured as ``bench/cli.py`` measures them (the same function): what a user waits for, on a
    store at the latest schema with an open alert, found from the settings."""
    from bench.cli import ask_on_a_store

    samples = ask_on_a_store(runs)
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


ENGINE_ALONE = (
    "from knowledge.answers import answer; answer('Puis-je auto-déclencher la procédure de secours ?')"
)


def machine_reference_seconds(runs: int = 3) -> float:
    """The best of ``runs`` timings of a fixed pure-Python workload (ten million additions in a
    function's loop): not a bound, a yardstick for comparing start-up and latency figures across
    machines and hours (0.67 s on 2026-12-01's machine, at the end of a bench run)."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - t0)
    return best


def engine_process_seconds(runs: int = 3) -> float:
    """The best of ``runs`` wall times of a fresh Python process importing the engine and answering
    one question: the engine's own share of ``ask``, without the command line around it."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", ENGINE_ALONE],
            check=True,
            capture_output=True,
            cwd=ROOT,
            env=as_installed(os.environ),
        )
        best = min(best, time.perf_counter() - t0)
    return best


RSS_QUESTIONS = (
    "Dans quel délai réintégrer les déclarations papier ?",
    "How long do I have to reintegrate declarations?",
    "case 44 en secours on met koi ?",
    "Quel est le numéro du SAU ?",
    "GAMMA en panne, que faire ?",
    "What goes in box 31 of the SAD during the fallback procedure?",
)


def _resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _wait_healthy(port: int, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("run never became healthy")


def _replied(tg: Any, count: int) -> bool:
    """Whether the fake Bot API has sent ``count`` replies to the test chat (a typed predicate)."""
    return len(tg.sent_to(777)) >= count


def run_resident_memory() -> dict[str, float]:
    """Resident memory (VmRSS, MB) of a real ``prodouane-relay run``.

    With the default settings and the chat front-ends off (only the météo URL points at a local
    copy of the sample page, and the store is in a temporary directory); then with the Telegram
    bot long-polling a local fake Bot API, before and after questions sent as chat messages: the
    code path the bots use (router → ``bot.handlers.ask`` → the engine).
    """
    import socket
    import tempfile

    sys.path.insert(0, str(ROOT))
    from tests.fakes.telegram_api import FakeTelegram
    from tests.support.meteo_server import MeteoServer

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    out: dict[str, float] = {}
    with MeteoServer() as meteo, FakeTelegram() as tg, tempfile.TemporaryDirectory() as tmp:
        meteo.set_page(ROOT / "relays" / "samples" / "scenario" / "01-calme.html")
        for chat in ("off", "telegram"):
            port = free_port()
            env = {
                **as_installed(os.environ),
                "PRODOUANE_RELAY_DATA_DIR": str(Path(tmp) / chat),
                "PRODOUANE_RELAY_METEO_URL": meteo.url,
                "PRODOUANE_RELAY_WEB_PORT": str(port),
                "PRODOUANE_RELAY_LOG_JSON": "true",
                "PRODOUANE_RELAY_SLACK_MODE": "off",
            }
            if chat == "off":
                env["PRODOUANE_RELAY_TELEGRAM_MODE"] = "off"
            else:
                env["PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN"] = tg.token
                env["PRODOUANE_RELAY_TELEGRAM_API_URL"] = f"{tg.url}/bot"
            proc = subprocess.Popen(
                [*_cli(), "run"], cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            try:
                _wait_healthy(port)
                time.sleep(2)
                out[f"run_rss_{chat}_start_mb"] = _resident_mb(proc.pid)
                if chat == "telegram":
                    for n, question in enumerate(RSS_QUESTIONS, 1):
                        tg.push_message(777, f"/ask {question}", chat_type="private")
                        tg.wait_for(functools.partial(_replied, tg, n), timeout=60)
                        if n == 1:
                            out["run_rss_telegram_after_one_question_mb"] = _resident_mb(proc.pid)
                    out[f"run_rss_telegram_after_{len(RSS_QUESTIONS)}_questions_mb"] = _resident_mb(proc.pid)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    return out


def measure(rounds: int, rss: bool = True) -> dict[str, Any]:
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
        # a dev file is measured as unseen: its own questions, shipped as probes, are withheld
        reports = {p.name: score(load(p), withheld=p.name if kind == "dev" else None) for p in files}
        total = merge(list(reports.values()))
        sets[kind] = {
            "all": total.as_dict(),
            "files": {k: r.as_dict() for k, r in reports.items()},
            "calibration": calibration_table(total.calibration),
        }

    reference = machine_reference_seconds()  # beside the timings it qualifies
    questions = [it["q"] for p in sorted((DATA / "dev").glob("*questions.jsonl")) for it in load(p)]
    times = []
    for _ in range(rounds):
        for q in questions:
            t0 = time.perf_counter()
            answer(q)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    ask_wall, ask_cpu = ask_process_seconds()
    figures: dict[str, Any] = {
        "dev": sets["dev"],
        "locked": sets["locked"],
        "decline_threshold": shipped().threshold,
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "answers_timed": len(times),
        "engine_startup_s": round(engine_startup, 3),
        "engine_first_answer_s": round(first_answer, 3),
        "ask_process_s": round(ask_wall, 3),
        "ask_process_cpu_s": round(ask_cpu, 3),
        "engine_process_s": round(engine_process_seconds(), 3),
        "load_average": round(os.getloadavg()[0], 2),
        "machine_reference_s": round(reference, 3),
    }
    if rss:
        figures.update(run_resident_memory())
    figures["ratios"] = {k: round(figures[k] / bound, 3) for k, bound in BOUNDS.items() if k in figures}
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
    parser.add_argument("--no-rss", action="store_true", help="skip the resident memory of `run` (~20 s)")
    parser.add_argument(
        "--only-rss",
        action="store_true",
        help="measure only the resident memory of `run` (no accuracy, no latency)",
    )
    args = parser.parse_args(argv)
    compile_project()
    if args.only_rss:
        # Memory work needs many quick runs of this one figure: the accuracy and latency parts take minutes.
        rss = run_resident_memory()
        rss_result: dict[str, Any] = {
            **rss,
            "ratios": {k: round(rss[k] / bound, 3) for k, bound in BOUNDS.items() if k in rss},
        }
        if args.json:
            print(json.dumps(rss_result))
            return 0
        for key, value in rss.items():
            bound_text = f"{BOUNDS[key]:>10.1f}{rss_result['ratios'][key]:>8.3f}" if key in BOUNDS else ""
            print(f"{key:<44}{value:>8.1f}{bound_text}")
        return 0
    result = measure(max(1, args.rounds), rss=not args.no_rss)
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
    print(f"{'figure':<40}{'value':>10}{'bound':>10}{'ratio':>8}")
    for key, bound in BOUNDS.items():
        if key in result:
            print(f"{key:<40}{result[key]:>10.3f}{bound:>10.3f}{result['ratios'][key]:>8.3f}")
    for key, value in result.items():
        if key.startswith("run_rss") and key not in BOUNDS:
            print(f"{key:<40}{value:>10.1f}")
    print(
        f"({result['answers_timed']} answers timed, p50 {result['p50_ms']} ms; load average "
        f"{result['load_average']}; ratio < 1 is within bound)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
