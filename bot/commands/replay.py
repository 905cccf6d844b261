"""``replay PAGE_OR_URL... [--json]``: feed pages, in order, through the lifecycle on a fresh store.

Every page is read before anything runs, so a missing file or an unreachable URL is reported as
one line and nothing half-done is printed. A page that reads badly (garbage, truncated, a captcha)
is not an argument error: it is a bad poll, exactly as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.bootstrap import Relay, bootstrap
from bot.commands import seconds, summary
from bot.output import event_line
from bot.settings import Settings, load_settings
from relays import queries
from relays.errors import UsageError
from relays.events import to_record
from relays.fetch import FetchError
from relays.poller import read_page
from relays.sender import Report

URL = re.compile(r"^https?://", re.IGNORECASE)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help=summary("replay"))
    p.add_argument("pages", nargs="+", metavar="PAGE_OR_URL")
    p.add_argument("--json", action="store_true", help="one JSON object per event and line")
    p.add_argument(
        "--degraded-after",
        type=int,
        default=3,
        metavar="N",
        help="bad pages in a row before source_degraded (default 3)",
    )
    p.add_argument(
        "--close-after-absent",
        type=int,
        default=3,
        metavar="N",
        help="healthy pages without an alert before its end is inferred (default 3)",
    )
    p.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for a URL (default 20)")
    p.add_argument("--db", help="record into this store (SQLAlchemy URL) instead of a fresh temporary one")
    p.add_argument(
        "--deliver",
        action="store_true",
        help="deliver to the store's subscribers through the configured channels, then exit once "
        "nothing is due now (reminders due later stay in the store)",
    )
    p.set_defaults(func=run)


async def _read_all(relay: Relay, locations: list[str]) -> list[tuple[str, bytes, str | None]]:
    """Every page, read before anything is recorded: a missing file or a dead URL stops it all."""

    pages: list[tuple[str, bytes, str | None]] = []
    for location in locations:
        if URL.match(location):
            try:
                fetched = await relay.fetcher.fetch(location)
            except FetchError as exc:
                raise UsageError(f"cannot fetch {location}: {exc}") from exc
            pages.append((location, fetched.body, fetched.content_type))
            continue
        path = Path(location)
        if not path.exists():
            raise UsageError(f"{location}: no such file")
        if path.is_dir():
            raise UsageError(f"{location}: is a directory (give the pages, e.g. {location}/*.html)")
        try:
            pages.append((location, path.read_bytes(), None))
        except OSError as exc:
            raise UsageError(f"cannot read {location}: {exc.strerror or exc}") from exc
    return pages


def run(args: argparse.Namespace) -> int:
    if args.degraded_after < 1 or args.close_after_absent < 1:
        raise UsageError("--degraded-after and --close-after-absent must be at least 1")
    seconds(args.timeout, "--timeout", most=3600)
    # Only delivering needs the configuration (channels, tokens): a plain replay never reads it.
    settings = (load_settings() if args.deliver else Settings.defaults()).model_copy(
        update={
            "http_timeout": args.timeout,
            "degraded_after": args.degraded_after,
            "close_after_absent": args.close_after_absent,
        }
    )
    # With --json, stdout carries only events: the console channel writes to stderr.
    console = sys.stderr if args.json else None
    if args.db or args.deliver:
        relay = bootstrap(settings, database_url=args.db, console=console, one_off=True)
        return asyncio.run(_replay(args, relay))
    with tempfile.TemporaryDirectory(prefix="prodouane-replay-") as tmp:
        relay = bootstrap(settings, database_url=f"sqlite:///{Path(tmp) / 'replay.sqlite3'}", one_off=True)
        return asyncio.run(_replay(args, relay))


async def _replay(args: argparse.Namespace, relay: Relay) -> int:
    async with relay:
        pages = await _read_all(relay, args.pages)
        store = relay.store
        sender = relay.sender if args.deliver else None
        if sender is not None:
            await asyncio.to_thread(sender.recover)
        total = Report()
        for location, body, content_type in pages:
            observation = read_page(location, body, content_type)
            events = store.record_poll(
                "replay",
                location,
                observation,
                now=datetime.now(UTC),
                rules=relay.rules,
                on_events=relay.fanout if sender else None,
            )
            for event in events:
                if args.json:
                    print(json.dumps(to_record(event), ensure_ascii=False), flush=True)
                else:
                    print(f"{location}: {event_line(event)}", flush=True)
            if sender is not None:
                total.add(await sender.drain())
        if sender is not None:
            waiting = await asyncio.to_thread(sender.waiting)
            later = await asyncio.to_thread(queries.scheduled_later, store, datetime.now(UTC))
            print(
                f"delivered {total.sent}, retried {total.retried}, failed {total.failed}, "
                f"dead-lettered {total.dead}; {later} reminder(s) scheduled for later"
                + "".join(f"; {n} waiting for the unconfigured {ch} channel" for ch, n in waiting.items()),
                file=sys.stderr,
            )
    sys.stdout.flush()
    return 0
