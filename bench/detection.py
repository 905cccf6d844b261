"""Publication on the météo page → first message on the client's phone, through the real ``run`` process.

    python bench/detection.py [--samples 20] [--scale 1] [--quick] [--json]

A local météo server (``tests/support/meteo_server.py``, ETags and 304s) and a strict fake Bot API
(``tests/fakes``) stand in for douane.gouv.fr and Telegram; ``prodouane-relay run`` polls the one
and delivers to the other with its own settings. Each sample publishes a message at a random
moment and times it until the fake accepts the first message about it. The moment is drawn over
two poll cycles after the previous sample, so that a publication falls in a longer gap between two
jittered polls more often, as it does in life:

* **calm** — nothing open: a new alert is published; once it is relayed, its fin d'alerte is
  published and relayed too (the relay is calm again), then the next sample;
* **alert** — an alert is open (the relay polls at its active pace): a new BIP is published.

It prints, per state, the p95 and the worst of publication → first message, with the goal (≤ 35 s
calm, ≤ 20 s during an alert) and the ratio p95 / goal (≤ 1 meets it), the interval in force read
from ``/metrics`` and the 304s counted there.

``--scale S`` runs every interval (calm, active, jitter) multiplied by S for a fast run. The
figure is then **scaled back** to the real intervals: the wait for the poll that fetched the new
page (read from the météo server's log) is divided by S, and the time from that poll to the
message — which does not depend on the intervals — is added unscaled. ``--quick`` is
``--samples 5 --scale 0.1`` (about two minutes); the default runs the real intervals.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from relays import subscribers as subs  # noqa: E402
from relays.store import Store  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.support.meteo_server import MeteoServer  # noqa: E402
from tests.support.relay_process import RelayProcess, wait_for  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
CALM, ACTIVE, JITTER = 30.0, 15.0, 5.0  # the defaults of POLL_INTERVAL_CALM / _ACTIVE / POLL_JITTER
GOALS = {"calm": 35.0, "alert": 20.0}
CHAT = 4242
SERVICES = ("DELTA G", "DELTA X", "NCTS", "DELTA IE", "GAMMA", "DELTA T")


def article(title: str, when: datetime, text: str) -> str:
    stamp = when.astimezone(PARIS).strftime("%d/%m/%Y à %Hh%M")
    return f"<article><h3>{title}</h3><p>Publié le {stamp}</p><p>{text}</p></article>"


def page(*articles: str) -> bytes:
    return f"<html><body><h2>Messages</h2>{''.join(articles)}</body></html>".encode()


@dataclass(frozen=True, slots=True)
class Sample:
    total: float  # publication → first message, as measured
    wait: float  # publication → the poll that fetched the new page
    scaled_back: float  # the same at the real intervals: wait / scale + (total - wait)


class Bench:
    def __init__(self, meteo: MeteoServer, tg: FakeTelegram, scale: float, base: str) -> None:
        self.meteo, self.tg, self.scale, self.base = meteo, tg, scale, base
        self.clock = datetime.now(PARIS).replace(second=0, microsecond=0) - timedelta(hours=6)
        self.version = 0
        info = article("Information - Webinaire DELTA IE", self.tick(), "Inscriptions ouvertes.")
        self.calm_articles = [info]

    def tick(self) -> datetime:
        """A publication time one minute after the previous one (the page's story moves forward)."""
        self.clock += timedelta(minutes=1)
        return self.clock

    def publish(self, body: bytes) -> tuple[float, int]:
        """Serve ``body`` from now on: when (monotonic), and how many requests came before it."""
        self.version += 1
        self.meteo.set_page(body, etag=f'"v{self.version}"')
        return time.monotonic(), len(self.meteo.requests)

    def wait_message(self, before: int, timeout: float) -> float:
        """When the fake accepted the first message after the ``before`` first ones (monotonic)."""
        self.tg.wait_for(lambda: len(self.tg.sent_to(CHAT)) > before, timeout=timeout)
        return float(self.tg.sent_to(CHAT)[before]["at"])

    def sample(self, body: bytes, timeout: float) -> Sample:
        before = len(self.tg.sent_to(CHAT))
        published, seen = self.publish(body)
        accepted = self.wait_message(before, timeout)
        fetched = self.meteo.requests[seen].at  # the first request after it: it got the new page
        total, wait = accepted - published, fetched - published
        return Sample(total, wait, wait / self.scale + (total - wait))

    def gauge(self, name: str) -> float | None:
        text = httpx.get(f"{self.base}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name:
                    return float(sample.value)
        return None

    def pause(self, interval: float) -> None:
        """A random moment over the next two poll cycles: independent enough of the relay's schedule
        that a longer gap between two polls is hit more often, as a real publication would."""
        time.sleep(random.uniform(0, 2 * (interval + JITTER / 2) * self.scale))

    def calm(self, n: int) -> tuple[list[Sample], float | None]:
        timeout = 4 * (CALM + JITTER) * self.scale + 30
        samples: list[Sample] = []
        interval_seen: float | None = None
        for i in range(n):
            service = SERVICES[i % len(SERVICES)]
            alert = article(f"ALERTE - {service} - EDI", self.tick(), f"Dysfonctionnement n°{i + 1} en EDI.")
            self.pause(CALM)
            if interval_seen is None:
                interval_seen = self.gauge("prodouane_poll_interval_seconds")
            samples.append(self.sample(page(alert, *self.calm_articles), timeout))
            fin = article(f"FIN D'ALERTE - {service} - EDI", self.tick(), "Le dysfonctionnement est résolu.")
            self.calm_articles = [fin, alert, *self.calm_articles][:6]
            before = len(self.tg.sent_to(CHAT))
            self.publish(page(*self.calm_articles))
            self.wait_message(before, timeout)  # the end relayed: calm again from that poll on
            print(f"  calm {i + 1}/{n}: {samples[-1].scaled_back:5.1f} s", file=sys.stderr, flush=True)
        return samples, interval_seen

    def alert(self, n: int) -> tuple[list[Sample], float | None]:
        timeout = 4 * (ACTIVE + JITTER) * self.scale + 30
        opened = self.tick()
        alert = article("ALERTE - ICS2 - EDI", opened, "Alerte rouge : ICS2 est perturbé en EDI.")
        before = len(self.tg.sent_to(CHAT))
        self.publish(page(alert, *self.calm_articles))
        self.wait_message(before, timeout)
        time.sleep(1.0 * self.scale)
        interval_seen = self.gauge("prodouane_poll_interval_seconds")
        bips: list[str] = []
        samples: list[Sample] = []
        for i in range(n):
            bip = article(f"BIP n°{i + 1} - ICS2 - EDI", self.tick(), f"Investigations en cours ({i + 1}).")
            bips = [bip, *bips][:5]
            self.pause(ACTIVE)
            samples.append(self.sample(page(*bips, alert, *self.calm_articles), timeout))
            print(f"  alert {i + 1}/{n}: {samples[-1].scaled_back:5.1f} s", file=sys.stderr, flush=True)
        return samples, interval_seen


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def run(samples: int, scale: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, MeteoServer() as meteo, FakeTelegram() as tg:
        db = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        store = Store.open(db)
        subs.add(store, channel="telegram", address=str(CHAT), client="Bench client")
        store.close()
        env = {
            "PRODOUANE_RELAY_DATABASE_URL": db,
            "PRODOUANE_RELAY_METEO_URL": meteo.url,
            "PRODOUANE_RELAY_POLL_INTERVAL_CALM": f"{CALM * scale:g}",
            "PRODOUANE_RELAY_POLL_INTERVAL_ACTIVE": f"{ACTIVE * scale:g}",
            "PRODOUANE_RELAY_POLL_JITTER": f"{JITTER * scale:g}",
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
            "PRODOUANE_RELAY_TELEGRAM_MODE": "off",
            "PRODOUANE_RELAY_SLACK_MODE": "off",
            "PRODOUANE_RELAY_LOG_LEVEL": "INFO",
        }
        bench = Bench(meteo, tg, scale, "")
        meteo.set_page(page(*bench.calm_articles), etag='"v0"')
        with RelayProcess(env, log=Path(tmp) / "run.log") as relay:
            bench.base = relay.base
            wait_for(f"{relay.base}/readyz", lambda r: r.status_code == 200, timeout=60)
            try:
                calm, calm_interval = bench.calm(samples)
                alert, alert_interval = bench.alert(samples)
            except TimeoutError as exc:
                tail = "".join(relay.text().splitlines(keepends=True)[-40:])
                raise SystemExit(f"no message came: {exc}; the relay's log ends with:\n{tail}") from exc
            not_modified = bench.gauge("prodouane_polls_not_modified_total")
            polls = len(meteo.requests)
    out: dict[str, object] = {"samples": samples, "scale": scale, "polls": polls}
    out["not_modified"] = not_modified
    for state, found, interval in (("calm", calm, calm_interval), ("alert", alert, alert_interval)):
        figures = [s.scaled_back for s in found]
        out[state] = {
            "p95_s": round(p95(figures), 2),
            "max_s": round(max(figures), 2),
            "median_s": round(statistics.median(figures), 2),
            "goal_s": GOALS[state],
            "ratio": round(p95(figures) / GOALS[state], 3),
            "poll_to_message_p95_s": round(p95([s.total - s.wait for s in found]), 3),
            "interval_in_force_s": None if interval is None else round(interval / scale, 2),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20, help="samples per state (default 20)")
    parser.add_argument("--scale", type=float, default=1.0, help="intervals × this, figures scaled back")
    parser.add_argument("--quick", action="store_true", help="5 samples per state at scale 0.1")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    samples, scale = (5, 0.1) if args.quick else (args.samples, args.scale)
    if samples < 1 or not 0 < scale <= 1:
        print("--samples must be at least 1 and --scale in (0, 1]", file=sys.stderr)
        return 2
    result = run(samples, scale)
    if args.json:
        print(json.dumps(result))
        return 0
    how = "real intervals" if scale == 1 else f"intervals × {scale:g}, scaled back to the real ones"
    print(f"publication → first message, {samples} samples per state ({how})")
    for state, label in (("calm", "calm (nothing open)"), ("alert", "during an open alert (a BIP)")):
        r = result[state]
        assert isinstance(r, dict)
        print(
            f"  {label:30} p95 {r['p95_s']:6.2f} s  median {r['median_s']:6.2f} s  max {r['max_s']:6.2f} s"
            f"  goal ≤ {r['goal_s']:g} s  ratio {r['ratio']:.2f}"
            f"  (poll → message p95 {r['poll_to_message_p95_s']:.2f} s;"
            f" interval in force {r['interval_in_force_s']} s)"
        )
    print(f"  {result['polls']} requests to the météo page, {result['not_modified']:g} answered 304")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
