"""How fast the command line starts, and how fast 1,000 subscribers are onboarded.

    python bench/cli.py [--repeat 5] [--json]

Every figure is a real ``prodouane-relay`` process (the installed console script, else
``python -m bot.cli``), the clock started just before it is spawned: ``--help``; one ``ask`` on
the configured store, at the latest schema with the sample's Delta G alert open
(:func:`ask_on_a_store`, which ``bench/answers.py`` uses too); ``subscribers add`` (into a store
already at the latest schema); ``run`` until ``/healthz``
answers 200 (polling a local copy of the sample météo page, no chat token); and ``subscribers
import`` of a generated 1,000-row CSV (telegram, slack, Apprise e-mail and webhook rows, with
filters) into an empty store. Each is run ``--repeat`` times in a scratch data folder with no
``PRODOUANE_RELAY_*`` setting of the caller's; printed: the median and the best wall-clock
seconds, the median CPU seconds of the process (user + system: on a busy machine the wall clock
waits for a core, the CPU does not), the bound and ``ratio`` = median / bound (at most 1.00 meets
it).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.meteo_server import MeteoServer  # noqa: E402
from tests.support.relay_process import free_port  # noqa: E402

SAMPLE = ROOT / "relays" / "samples" / "scenario" / "02-alerte-delta-g.html"
QUESTION = "Puis-je auto-déclencher la procédure de secours ?"
ROWS = 1000
#: seconds, from issue #13
BOUNDS = {
    "--help": 0.3,
    "ask": 0.5,
    "subscribers add": 0.5,
    "run → /healthz 200": 1.5,
    "import 1,000 rows": 5.0,
}


def command() -> list[str]:
    script = Path(sys.executable).with_name("prodouane-relay")
    if script.exists():
        return [str(script)]
    found = shutil.which("prodouane-relay")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def as_installed(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without ``PYTHONDONTWRITEBYTECODE``: an installed command runs from compiled modules
    (pip compiles a wheel's at install; an editable install's are written by its first run). Set in
    the bench's own shell (some sandboxes set it), it would make every timed process compile
    the project's modules again: 0.09 s of `ask` on 2026-12-01's machine, which no user waits for."""
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_project() -> None:
    """Compile the project's modules once, as pip does when it installs a wheel: the first timed
    process would otherwise compile them (time, and 5 MB of a `run` process's resident memory)."""
    for package in ("bot", "relays", "knowledge"):
        compileall.compile_dir(ROOT / package, quiet=2)


def environment(data: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in as_installed(os.environ).items() if not k.startswith("PRODOUANE_RELAY_")}
    return {**env, "PRODOUANE_RELAY_DATA_DIR": str(data), **more}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds from spawn to exit, CPU seconds) of one process, which must succeed."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run([*command(), *argv], env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return wall, children_cpu() - cpu


def run_to_healthz(env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds from spawn to the first 200 on /healthz, CPU seconds until it stopped)."""
    port = free_port()
    env = {**env, "PRODOUANE_RELAY_WEB_PORT": str(port)}
    url = f"http://127.0.0.1:{port}/healthz"
    cpu = children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*command(), "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wall = None
    try:
        with httpx.Client(timeout=1.0) as client:
            while time.perf_counter() - start < 60:
                try:
                    if client.get(url).status_code == 200:
                        wall = time.perf_counter() - start
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None:
                    break
                time.sleep(0.005)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    if wall is None:
        raise SystemExit(f"run never answered /healthz: {err.decode(errors='replace').strip()[-500:]}")
    return wall, children_cpu() - cpu


def runs(what: Callable[[], tuple[float, float]], repeat: int) -> list[tuple[float, float]]:
    """``repeat`` timed runs of ``what``, after one to warm the file cache and the bytecode."""
    what()
    return [what() for _ in range(repeat)]


def ask_on_a_store(repeat: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of ``repeat`` runs of ``prodouane-relay ask QUESTION`` as a user meets it:
    the store found from the settings (``PRODOUANE_RELAY_DATA_DIR``), at the latest schema, with
    an open alert for the answer to follow (made by ``db upgrade`` and ``replay``, not timed)."""
    with tempfile.TemporaryDirectory(prefix="bench-ask-") as tmp:
        data = Path(tmp) / "data"
        env = environment(data)
        timed(["db", "upgrade"], env)
        timed(["replay", "--db", f"sqlite:///{data / 'prodouane-relay.sqlite3'}", str(SAMPLE)], env)
        return runs(lambda: timed(["ask", QUESTION], env), repeat)


def rows_csv(path: Path, count: int = ROWS) -> Path:
    lines = ["channel,address,client,eori,company,phone,lang,services,modes,kinds,admin"]
    for i in range(count):
        channel, address = [
            ("telegram", str(-1001000000000 - i)),
            ("slack", f"C{i:08d}"),
            ("apprise", f"mailtos://relay:pw@smtp.example.org?to=ops{i}@client{i}.fr"),
            ("webhook", f"https://edi{i}.example.fr/hooks/douane"),
        ][i % 4]
        services = ["", "DELTA G;ICS2", "DELTA X Import;DELTA X Export", "NCTS"][i % 4]
        lines.append(
            f"{channel},{address},Client {i},FR{i:09d},Client {i} SAS,+33 1 00 00 {i % 10000:04d},"
            f"{'en' if i % 5 == 0 else 'fr'},{services},{'EDI' if i % 2 else ''},,{'yes' if i == 0 else 'no'}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(repeat: int) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []

    def record(name: str, samples: list[tuple[float, float]]) -> None:
        walls = [wall for wall, _ in samples]
        median = statistics.median(walls)
        results.append(
            {
                "what": name,
                "median_s": round(median, 3),
                "best_s": round(min(walls), 3),
                "cpu_s": round(statistics.median(cpu for _, cpu in samples), 3),
                "bound_s": BOUNDS[name],
                "ratio": round(median / BOUNDS[name], 2),
            }
        )

    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp, MeteoServer() as meteo:
        meteo.set_page(SAMPLE)
        folder = Path(tmp)
        data = folder / "data"
        env = environment(data, PRODOUANE_RELAY_METEO_URL=meteo.url)
        timed(["db", "upgrade"], env)  # a store at the latest schema (created once, not timed)
        numbers = iter(range(10**6))

        record("--help", runs(lambda: timed(["--help"], env), repeat))
        record("ask", ask_on_a_store(repeat))
        record(
            "subscribers add",
            runs(
                lambda: timed(
                    [
                        "subscribers",
                        "add",
                        "--channel",
                        "telegram",
                        "--address",
                        str(next(numbers) + 1),
                        "--client",
                        "Transit SA",
                        "--service",
                        "DELTA G",
                    ],
                    env,
                ),
                repeat,
            ),
        )
        record("run → /healthz 200", runs(lambda: run_to_healthz(env), repeat))
        csv = rows_csv(folder / "clients.csv")

        def import_once() -> tuple[float, float]:
            store = folder / f"import-{next(numbers)}"
            empty = environment(store)
            timed(["db", "upgrade"], empty)
            return timed(["subscribers", "import", str(csv)], empty)

        record("import 1,000 rows", runs(import_once, repeat))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each (after one warm-up)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    compile_project()
    results = measure(max(1, args.repeat))
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "load": os.getloadavg()[0], "results": results}))
        return 0
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {args.repeat} runs each")
    print(f"{'':<20} {'median':>8} {'best':>8} {'cpu':>8} {'bound':>7} {'ratio':>6}")
    for r in results:
        print(
            f"{r['what']:<20} {r['median_s']:>7.3f}s {r['best_s']:>7.3f}s {r['cpu_s']:>7.3f}s "
            f"{r['bound_s']:>6.1f}s {r['ratio']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
