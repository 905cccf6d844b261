"""``demo``: the whole pipeline on the embedded default, with no network and no tokens.

It serves the bundled sample scenario on 127.0.0.1, polls it on an APScheduler job through the
real fetcher, parser, lifecycle and SQLite store, prints each event as it happens, and delivers it
through the real outbox to three demo subscribers on the console channel — an EDI provider's
operations desk (French, everything), an export team (English, end-of-alert pings only) and the
admins — so each message shows exactly as a subscriber would receive it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bot.commands import seconds, summary
from relays.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help=summary("demo"))
    p.add_argument("--interval", type=float, default=0.5, help="seconds between polls (default 0.5)")
    p.add_argument("--pages", type=Path, help="a folder of *.html pages to play instead of the bundled one")
    p.add_argument("--db", help="SQLAlchemy URL of the store to use (default: a fresh temporary SQLite file)")
    p.set_defaults(func=run)


async def _demo(args: argparse.Namespace, db_url: str) -> int:
    from bot.bootstrap import bootstrap
    from bot.output import event_line
    from bot.settings import Settings
    from relays import subscribers as subs
    from relays.channels.console import ConsoleChannel
    from relays.sample_source import SampleSite, sample_pages
    from relays.scheduler import add_poll_job, build_scheduler

    pages = sample_pages(args.pages)
    site = SampleSite(pages)
    url = await site.start()
    # The embedded defaults whatever the environment says: no token, no network but 127.0.0.1.
    settings = Settings.defaults(meteo_url=[url], poll_interval=args.interval, http_timeout=10)
    relay = bootstrap(
        settings,
        database_url=db_url,
        channels={"console": ConsoleChannel()},
        source_name="demo",
        one_off=True,
    )
    async with relay:
        store = relay.store
        if not subs.all_subscribers(store):
            subs.add(store, channel="console", address="desk-ops", client="Transitaire Dupont (EDI)")
            subs.add(
                store,
                channel="console",
                address="export-team",
                client="Export team",
                lang="en",
                kinds=["alert_closed"],
            )
            subs.add(
                store,
                channel="console",
                address="admins",
                client="Admins",
                role="admin",
                kinds=["source_degraded"],
            )
        poller, sender = relay.poller, relay.sender
        done = asyncio.Event()
        print(f"Serving {len(pages)} sample pages at {url}; polling every {args.interval:g} s.", flush=True)

        async def job() -> None:
            page = site.pages[min(site.index, len(site.pages) - 1)][0]
            result = await poller.tick()
            if result is None:
                return
            status = f"failed: {result.failure}" if result.failure else f"{len(result.events)} new event(s)"
            print(f"poll {page}: {status}", flush=True)
            for event in result.events:
                print(f"  {event_line(event)}", flush=True)
            if result.events:
                print(flush=True)
                await sender.drain()
            if site.finished:
                done.set()

        scheduler = build_scheduler()
        add_poll_job(scheduler, job, interval=args.interval)
        scheduler.start()
        try:
            await done.wait()
        finally:
            scheduler.shutdown(wait=False)
            await site.stop()
        still_open = store.open_alerts()
        total = len(store.events())
    print(
        f"Done: {total} event(s) recorded, {len(still_open)} alert(s) still open; reminders due later "
        "(before the reintegration deadline, before and at the planned interruption) stay in the store "
        "for `run`.",
        flush=True,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    seconds(args.interval, "--interval")
    if args.pages is not None and not any(args.pages.glob("*.html")):
        raise UsageError(f"{args.pages}: no *.html pages there")
    if args.db:
        return asyncio.run(_demo(args, args.db))
    with tempfile.TemporaryDirectory(prefix="prodouane-demo-") as tmp:
        return asyncio.run(_demo(args, f"sqlite:///{Path(tmp) / 'demo.sqlite3'}"))
