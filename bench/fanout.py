"""One alert fanned out to N Telegram subscribers by the real ``prodouane-relay run`` process.

    python bench/fanout.py [--subscribers 1000] [--db sqlite|postgresql|both] [--json]

A local météo server and a strict fake Bot API (30 messages in any sliding second, 1 per second
per chat, 429 beyond) run in this process; ``run`` runs in another, polling every 2 s. Once it
has polled the calm page twice, the page turns to one alert (one event for everyone). The clock
starts at the poll that fetched the alert page (the server's own timestamp) and stops when the
fake accepts the last message; both are this process's monotonic clock. Prints:

* ``ratio``: the 30 msg/s bound (N/30 s) over the time taken (goal ≥ 0.97);
* ``first_send_s``: from that poll to the first message accepted (goal ≤ 0.2 s);
* ``cpu_ms_per_msg``: CPU time (user + system) of the ``run`` process over the fan-out, per
  message (goal ≤ 3 ms);
* ``longest_pause_s`` between two messages accepted one after the other (the spacing is 0.033 s: a
  stall would show here), and ``slow_seconds``, how many runs of 30 messages took over 1.05 s;
* ``throttled`` (429s), ``lost``, ``duplicates``: all three must be 0.

PostgreSQL: a fresh database on the server at 127.0.0.1:5432 (or ``PRODOUANE_RELAY_TEST_PG``),
dropped afterwards; skipped with a reason when none answers. Exit 1 if anything was lost,
duplicated or throttled.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from relays.sample_source import sample_pages  # noqa: E402
from relays.store import Store, SubscriberRow  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.support.meteo_server import MeteoServer  # noqa: E402

RATE = 30.0
PG_ADMIN = os.environ.get("PRODOUANE_RELAY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TICKS = os.sysconf("SC_CLK_TCK")


def _page(name: str, drop: str) -> bytes:
    """A sample page without its article of class ``drop``."""
    page = dict(sample_pages())[name].decode("utf-8")
    head, rest = page.split(f'<article class="message {drop}">', 1)
    return (head + rest.split("</article>", 1)[1]).encode("utf-8")


def calm_page() -> bytes:
    """The status table, every téléservice available, and no message."""
    return _page("01-calme.html", "message-information")


def alert_page() -> bytes:
    """The sample alert without the planned-interruption notice beside it: exactly one event."""
    return _page("02-alerte-delta-g.html", "message-information")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str | None]:
    """A fresh database URL of ``kind`` (``None``: no PostgreSQL server answers)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    import psycopg

    conninfo = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        print(f"postgresql: skipped, no server at {conninfo} ({type(exc).__name__})", file=sys.stderr)
        yield None
        return
    name = f"prodouane_bench_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, chats: list[str]) -> None:
    store = Store.open(url)
    now = datetime.now(UTC)
    with store.transaction() as session:
        session.add_all(
            SubscriberRow(
                channel="telegram",
                address=chat,
                client=f"Client {chat}",
                lang="fr",
                services=[],
                modes=[],
                kinds=[],
                role="client",
                active=True,
                paused=False,
                profile={},
                created_at=now,
            )
            for chat in chats
        )
    store.close()


def wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise SystemExit(f"bench: {what} did not happen within {timeout:.0f} s")


def measure(kind: str, n: int, profile: str | None = None) -> dict[str, object] | None:
    with tempfile.TemporaryDirectory() as tmp_name, database(kind, Path(tmp_name)) as url:
        if url is None:
            return None
        tmp = Path(tmp_name)
        chats = [str(10_000 + i) for i in range(n)]
        seed(url, chats)
        calm, alert = calm_page(), alert_page()
        with MeteoServer() as meteo, FakeTelegram() as tg:
            meteo.set_page(calm)
            env = {
                **os.environ,
                "PRODOUANE_RELAY_DATABASE_URL": url,
                "PRODOUANE_RELAY_DATA_DIR": str(tmp),
                "PRODOUANE_RELAY_METEO_URL": meteo.url,
                "PRODOUANE_RELAY_POLL_INTERVAL": "2",
                "PRODOUANE_RELAY_POLL_JITTER": "0",
                "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
                "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
                "PRODOUANE_RELAY_TELEGRAM_MODE": "off",
                "PRODOUANE_RELAY_SLACK_MODE": "off",
                "PRODOUANE_RELAY_WEB_ENABLED": "false",
                "PRODOUANE_RELAY_LOG_LEVEL": "WARNING",
            }
            log = tmp / "run.log"
            with open(log, "w") as err:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        *(["-m", "cProfile", "-o", profile] if profile else []),
                        "-m",
                        "bot.cli",
                        "run",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            try:
                wait(lambda: len(meteo.requests) >= 2, 60, "two calm polls")
                time.sleep(0.3)
                seen = len(meteo.requests)
                meteo.set_page(alert)
                wait(lambda: len(meteo.requests) > seen, 10, "the poll of the alert page")
                polled_at = meteo.requests[seen].at
                cpu_before = cpu_seconds(proc.pid)
                wait(lambda: len(tg.sent) >= n, n / RATE * 3 + 30, f"{n} messages")
                cpu_after = cpu_seconds(proc.pid)
                time.sleep(2.0)  # anything sent twice would arrive now
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            sent = [m for m in tg.sent if m["method"] == "sendMessage"]
            throttled = tg.throttled
    times = sorted(float(m["at"]) for m in sent)
    counts = Counter(str(m["chat_id"]) for m in sent)
    bound = n / RATE
    elapsed = times[n - 1] - polled_at
    return {
        "db": kind,
        "subscribers": n,
        "elapsed_s": round(elapsed, 3),
        "bound_s": round(bound, 3),
        "ratio": round(bound / elapsed, 3),
        "first_send_s": round(times[0] - polled_at, 3),
        "longest_pause_s": round(
            max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0), 3
        ),
        "slow_seconds": sum(1 for k in range(30, n, 30) if times[k] - times[k - 30] > 1.05),
        "cpu_ms_per_msg": round((cpu_after - cpu_before) * 1000 / n, 2),
        "throttled": throttled,
        "lost": sum(1 for chat in chats if counts[chat] == 0),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--subscribers", type=int, default=1000, help="N (1000 by default; 5000 for the long run)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", metavar="FILE", help="run `run` under cProfile, its statistics to FILE")
    args = parser.parse_args()
    if args.subscribers < 1:
        parser.error("--subscribers must be at least 1")
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    ok = True
    for kind in kinds:
        result = measure(kind, args.subscribers, args.profile)
        if result is None:
            continue
        ok = ok and result["throttled"] == 0 and result["lost"] == 0 and result["duplicates"] == 0
        if args.json:
            print(json.dumps(result))
            continue
        for key, value in result.items():
            print(f"{key:<15} {value}")
        first, cpu = float(str(result["first_send_s"])), float(str(result["cpu_ms_per_msg"]))
        print(
            f"(ratio {result['ratio']} of the 30 msg/s bound, goal ≥ 0.97; first send {first / 0.2:.2f} "
            f"of the 0.2 s goal; CPU {cpu / 3:.2f} of the 3 ms goal"
            "; throttled, lost and duplicates must be 0)\n"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
