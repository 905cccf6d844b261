"""``poll --once [--url URL] [--json] [--explain]``: fetch the météo page once and print what it shows.

This reads and parses only; it records nothing (``run`` and ``demo`` drive the lifecycle).
``--explain`` says, for each item, where its title, kind, date, services, modes and level were read
from, and which items are held back for naming no téléservice: what an operator needs to see at
once why a redesign of the page confuses the relay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TYPE_CHECKING

from bot.commands import seconds, summary
from relays.errors import FetchError, UsageError

if TYPE_CHECKING:
    from bot.bootstrap import Relay


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("poll", help=summary("poll"))
    p.add_argument("--once", action="store_true", required=True, help="fetch once and exit")
    p.add_argument("--url", help="the page to read (default: the configured METEO_URL)")
    p.add_argument("--json", action="store_true", help="print the snapshot as one JSON object")
    p.add_argument(
        "--explain",
        action="store_true",
        help="for each item, where its title, kind, date, services, modes and level were read from",
    )
    p.add_argument("--timeout", type=float, default=None, help="seconds to wait (default: HTTP_TIMEOUT)")
    p.set_defaults(func=run)


async def _fetch(relay: Relay, url: str) -> tuple[bytes, str | None]:
    async with relay:
        try:
            fetched = await relay.fetcher.fetch(url)
        except FetchError as exc:
            raise UsageError(f"cannot fetch {url}: {exc}") from exc
    return fetched.body, fetched.content_type


def run(args: argparse.Namespace) -> int:
    from bot.bootstrap import bootstrap
    from bot.output import snapshot_lines, snapshot_record
    from bot.settings import load_settings
    from relays.meteo import PageError, explain_lines, parse_page

    settings = load_settings()
    url = args.url or settings.meteo_url[0]
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url must be an http(s) URL, not {url!r}")
    if seconds(args.timeout, "--timeout", most=3600):
        settings = settings.model_copy(update={"http_timeout": args.timeout})
    body, content_type = asyncio.run(_fetch(bootstrap(settings), url))
    try:
        snapshot = parse_page(body, location=url, content_type=content_type)
    except PageError as exc:
        raise UsageError(f"{url} is not a usable météo page ({exc})") from exc
    if args.json:
        record = snapshot_record(snapshot)
        if args.explain:
            for item, why in zip(record["items"], snapshot.items, strict=True):
                item["why"] = dict(why.why)
        print(json.dumps(record, ensure_ascii=False))
    elif args.explain:
        print("\n".join(explain_lines(snapshot)))
    else:
        print("\n".join(snapshot_lines(snapshot)))
    return 0
