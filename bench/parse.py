"""Parse speed on a 1 MB météo page and poll-to-event time through the real pipeline.

    python bench/parse.py [--json] [--size-mb 1] [--runs 30]

Prints the page size, parse time p50/p95 (target: under 50 ms for 1 MB) with the ratio to that
bound, for a 1 MB page shaped like a portal page (heavy chrome, the status table, a dozen
incidents) and, as a worst case, for 1 MB made of messages only (thousands of them); then the
poll-to-event time: from the start of a poll of a page served on 127.0.0.1 to the
moment its events are recorded in a SQLite store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from relays.fetch import Fetcher  # noqa: E402
from relays.meteo import parse_page  # noqa: E402
from relays.poller import Poller  # noqa: E402
from relays.sample_source import SampleSite, sample_pages  # noqa: E402
from relays.store import Store  # noqa: E402

PARSE_BOUND_MS = 50.0


def _messages(day: int) -> str:
    base = dict(sample_pages())["04-bip-2-et-ics2.html"].decode("utf-8")
    messages = base.split('<section class="messages">', 1)[1].split("</section>", 1)[0]
    return messages.replace(
        "03/12/2026", f"{(day % 28) + 1:02d}/{(day // 28) % 12 + 1:02d}/20{20 + day // 336}"
    )


def portal_page(size: int, history: int = 10) -> bytes:
    """A 1 MB page shaped like a real portal page: the sample's status table and messages plus a
    history of ``history`` earlier incidents, inside heavy chrome (inline scripts and styles, a
    mega-menu in the header, a footer of links) that makes up the weight."""
    base = dict(sample_pages())["04-bip-2-et-ics2.html"].decode("utf-8")
    head, rest = base.split("<body>", 1)
    history_html = "".join(_messages(day) for day in range(1, history + 1))
    chrome: list[str] = []
    link = 0
    while sum(len(c) for c in chrome) + len(base) + len(history_html) < size:
        link += 1
        chrome.append(
            f'<li class="menu-item"><a href="/services/{link}">Téléservice n°{link} — démarches '
            f"et documentation</a></li>"
        )
        chrome.append(f"<script>window.__cfg{link} = {{id: {link}, label: 'x'.repeat(40)}};</script>")
        chrome.append(f".c{link}{{margin:0 {link % 9}px;color:#{link % 4096:03x}}}")
    menu = "".join(c for c in chrome if c.startswith("<li"))
    scripts = "".join(c for c in chrome if c.startswith("<script"))
    styles = "".join(c for c in chrome if c.startswith("."))
    page = (
        f'{head}<style>{styles}</style>{scripts}<body><header><ul class="mega-menu">{menu}</ul></header>'
        + rest.replace("</section>\n</main>", f"{history_html}</section>\n</main>")
    )
    return page.encode("utf-8")


def dense_page(size: int) -> bytes:
    """The worst case: a page made of messages only, thousands of them, until it weighs ``size``."""
    base = dict(sample_pages())["04-bip-2-et-ics2.html"].decode("utf-8")
    head, rest = base.split('<section class="messages">', 1)
    tail = rest.split("</section>", 1)[1]
    chunks = [head, '<section class="messages">']
    day = 0
    while sum(len(c) for c in chunks) < size:
        day += 1
        chunks.append(_messages(day))
    chunks += ["</section>", tail]
    return "".join(chunks).encode("utf-8")


def time_parse(page: bytes, runs: int) -> tuple[list[float], int]:
    parse_page(page)  # warm-up
    timings: list[float] = []
    items = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        snapshot = parse_page(page)
        timings.append((time.perf_counter() - t0) * 1000)
        items = len(snapshot.items)
    return timings, items


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def poll_to_event(runs: int) -> list[float]:
    pages = sample_pages()
    timings: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            site = SampleSite([pages[1]])  # the alert page: one alert_opened each time, on a fresh store
            url = await site.start()
            store = Store.open(f"sqlite:///{Path(tmp) / f'bench{run}.sqlite3'}")
            fetcher = Fetcher(timeout=5)
            poller = Poller(store, fetcher, [url])
            t0 = time.perf_counter()
            result = await poller.poll_once()
            timings.append((time.perf_counter() - t0) * 1000)
            assert result.events, "the alert page must produce events"
            await fetcher.aclose()
            await site.stop()
            store.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    size = int(args.size_mb * 1_000_000)
    page = portal_page(size)
    parse_ms, items = time_parse(page, args.runs)
    dense = dense_page(size)
    dense_ms, dense_items = time_parse(dense, max(3, args.runs // 5))
    poll_ms = asyncio.run(poll_to_event(max(5, args.runs // 3)))
    result = {
        "page_bytes": len(page),
        "items": items,
        "parse_p50_ms": round(statistics.median(parse_ms), 2),
        "parse_p95_ms": round(percentile(parse_ms, 0.95), 2),
        "parse_bound_ms": PARSE_BOUND_MS,
        "parse_p95_ratio_to_bound": round(percentile(parse_ms, 0.95) / PARSE_BOUND_MS, 3),
        "dense_page_bytes": len(dense),
        "dense_items": dense_items,
        "dense_parse_p50_ms": round(statistics.median(dense_ms), 2),
        "dense_parse_p95_ms": round(percentile(dense_ms, 0.95), 2),
        "poll_to_event_p50_ms": round(statistics.median(poll_ms), 2),
        "poll_to_event_p95_ms": round(percentile(poll_ms, 0.95), 2),
        "runs": args.runs,
    }
    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
        print(
            f"(p95 parse is {result['parse_p95_ratio_to_bound']:.2f}× the {PARSE_BOUND_MS:.0f} ms bound; "
            "below 1 meets it)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
