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
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands import seconds, summary
from relays.errors import FetchError, UsageError

if TYPE_CHECKING:  # the rest is imported when a replay runs (`replay --help` loads none of it)
    from bot.bootstrap import Relay
    from relays import queries
    from relays.sender import Report, Sender

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
        "nothing is due now (reminders due later stay in the store; failed messages are retried by "
        "run, and the exit code is 1 while anything due is undelivered)",
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
    from bot.bootstrap import bootstrap
    from bot.settings import Settings, load_settings

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
    from bot.output import event_line
    from relays import queries
    from relays.events import to_record
    from relays.poller import read_page
    from relays.sender import Report

    async with relay:
        pages = await _read_all(relay, args.pages)
        store = relay.store
        sender = relay.sender if args.deliver else None
        if sender is not None:
            await asyncio.to_thread(sender.recover)
        total = Report()
        clock = datetime.now(UTC)
        for location, body, content_type in pages:
            observation = read_page(location, body, content_type)
            # A saved page is read no earlier than its own newest date: pages dated after today (a
            # test scenario, a clock set wrong) replay as if polled when they were published.
            newest = getattr(observation, "newest", None)
            clock = max(clock, datetime.now(UTC), *([newest] if newest is not None else []))
            events = store.record_poll(
                "replay",
                location,
                observation,
                now=clock,
                rules=relay.rules,
                on_events=relay.fanout if sender else None,
            )
            for event in events:
                if args.json:
                    print(json.dumps(to_record(event), ensure_ascii=False), flush=True)
                else:
                    print(f"{location}: {event_line(event)}", flush=True)
            if sender is not None:
                total.add(await deliver_due(sender))
        if sender is not None:
            left = await asyncio.to_thread(
                queries.undelivered, store, datetime.now(UTC), list(sender.channels)
            )
            print(summary_line(total, left), file=sys.stderr)
            if left.owed:  # something due now did not go out: say so with the exit code too
                sys.stdout.flush()
                return 1
    sys.stdout.flush()
    return 0


#: Seconds ``replay --deliver`` waits for messages held back only by the per-chat pace (another
#: sender's, on PostgreSQL) before it stops: it never waits for a retry — ``run`` does those.
PATIENCE = 3.0


async def deliver_due(sender: Sender) -> Report:
    """Send what is due now, in rounds, until a round sends nothing. A message that fails is
    scheduled for its retry and left to ``run`` (with the messages queued behind it for the same
    subscriber), so one unreachable address costs one attempt, not minutes of retries."""
    from relays.sender import Report

    total = Report()
    quiet_since: float | None = None
    while True:
        report = await sender.run_once()
        total.add(report)
        if report.sent + report.retried + report.failed + report.dead:
            quiet_since = None
            continue
        if await asyncio.to_thread(sender.due_count):
            continue
        wait = await asyncio.to_thread(sender.next_retry_in, 0.0)
        quiet_since = quiet_since if quiet_since is not None else time.monotonic()
        if wait is None or time.monotonic() - quiet_since > PATIENCE:
            return total
        await asyncio.sleep(wait)


def summary_line(total: Report, left: queries.Undelivered) -> str:
    """``delivered 10, retried 1, failed 0, dead-lettered 0; 5 still due and undelivered (…)…``."""
    line = (
        f"delivered {total.sent}, retried {total.retried}, failed {total.failed}, dead-lettered {total.dead}"
    )
    if left.owed:
        why = [f"{left.retrying} to retry"] if left.retrying else []
        why += [f"{left.queued} queued behind a failed one"] if left.queued else []
        why += [f"{n} waiting for the unconfigured {ch} channel" for ch, n in left.unconfigured.items()]
        line += f"; {left.owed} still due and undelivered ({', '.join(why)}: `run` delivers them)"
    return line + f"; {left.later} reminder(s) scheduled for later"
