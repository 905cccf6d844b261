"""``audit [--alert ID] [--format table|csv|json]``: who was told of each alert's start and end, when."""

from __future__ import annotations

import argparse
from dataclasses import replace

from bot.commands import summary
from bot.text import printable
from relays.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help=summary("audit"))
    p.add_argument("--alert", help="only this alert (its id, or any unique beginning of it)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--db", help="SQLAlchemy URL of the store (default: the configured one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.bootstrap import bootstrap
    from bot.settings import load_settings
    from relays.audit import as_csv, as_json, as_table, audit, resolve_alert

    with bootstrap(load_settings(), database_url=args.db, read_only=True) as relay:
        alert_id = resolve_alert(relay.store, args.alert) if args.alert else None
        rows = audit(relay.store, alert_id)
    if alert_id and not rows:
        raise UsageError(f"no delivery recorded for alert {alert_id}")
    if args.format != "json":  # JSON escapes control characters itself
        rows = [
            replace(
                r, client=printable(r.client), address=printable(r.address), error=printable(r.error) or None
            )
            for r in rows
        ]
    text = {"table": as_table, "csv": as_csv, "json": as_json}[args.format](rows)
    if text:
        print(text.rstrip("\n"))
    return 0
