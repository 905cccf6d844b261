"""``subscribers add|list|remove|test|secret|import|export``: manage who receives the alerts.

    prodouane-relay subscribers add --channel telegram --address -1001234 --client "Transit SA" \\
        --service "DELTA G" --service ICS2 --mode EDI --kind alert_closed --lang en
    prodouane-relay subscribers import clients.csv --dry-run
Repeated options accumulate; no filter means everything. A webhook subscriber's signing secret is
printed once, by ``add``; ``secret ID`` replaces it with a new one, printed once too. ``import``
and ``export`` read and write the CSV of :mod:`relays.subscriber_csv`.

What an action needs (the store, the chat channels) is imported when it runs: parsing the
command line, ``--help`` included, loads no database or chat library.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.commands import summary
from bot.text import printable
from relays.errors import ConfigError, StoreError, UsageError

if TYPE_CHECKING:
    from bot.bootstrap import Relay
    from relays.store import Store
    from relays.subscribers import Subscriber


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("subscribers", help=summary("subscribers"))
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    add = actions.add_parser("add", help="subscribe an address")
    add.add_argument(
        "--channel", required=True, choices=["telegram", "slack", "apprise", "console", "webhook"]
    )
    add.add_argument("--address", required=True, help="chat id, channel id, Apprise URL or webhook URL")
    add.add_argument("--client", required=True, help="the client's name")
    add.add_argument("--eori", help="the client's EORI number")
    add.add_argument("--service", action="append", default=[], help="only these téléservices (repeatable)")
    add.add_argument(
        "--mode",
        action="append",
        default=[],
        choices=["EDI", "DTI", "edi", "dti"],
        help="only these modes (repeatable)",
    )
    add.add_argument(
        "--kind",
        action="append",
        default=[],
        help="only these event kinds (repeatable), "
        "e.g. alert_opened, bulletin, alert_closed, interruption_planned",
    )
    add.add_argument("--lang", default="fr", choices=["fr", "en"])
    add.add_argument("--admin", action="store_true", help="also receives admin events (source broken, …)")
    add.add_argument("--db", help="SQLAlchemy URL of the store (default: the configured one)")
    add.set_defaults(func=run_add, one_shot=True)

    ls = actions.add_parser("list", help="list subscribers")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--db")
    ls.set_defaults(func=run_list)

    rm = actions.add_parser("remove", help="deactivate a subscriber (kept for the audit trail)")
    rm.add_argument("subscriber", help="id or address")
    rm.add_argument("--db")
    rm.set_defaults(func=run_remove, one_shot=True)

    test = actions.add_parser("test", help="send a test message to a subscriber now")
    test.add_argument("subscriber", help="id or address")
    test.add_argument("--db")
    test.set_defaults(func=run_test)

    secret = actions.add_parser("secret", help="give a webhook subscriber a new signing secret")
    secret.add_argument("subscriber", help="id or address")
    secret.add_argument("--db")
    secret.set_defaults(func=run_secret, one_shot=True)

    imp = actions.add_parser(
        "import",
        help="add or update subscribers from a CSV file, all or none",
        description="Columns channel,address,client (required) and eori,company,phone,lang,services,"
        "modes,kinds,admin (optional; lists separated by ';'). A row whose channel and address are "
        "already subscribed updates that subscriber. Every row is checked first: one bad row imports "
        "nothing.",
    )
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    imp.add_argument("--db")
    imp.set_defaults(func=run_import)

    exp = actions.add_parser(
        "export", help="write the active subscribers to a CSV file (a backup: full addresses, mode 0600)"
    )
    exp.add_argument("file", metavar="FILE.csv")
    exp.add_argument("--db")
    exp.set_defaults(func=run_export)


def _relay(args: argparse.Namespace, *, read_only: bool = False) -> Relay:
    from bot.bootstrap import bootstrap
    from bot.settings import load_settings

    return bootstrap(load_settings(), database_url=args.db, read_only=read_only)


def run_add(args: argparse.Namespace) -> int:
    from relays import subscribers as subs
    from relays import webhook_secrets
    from relays.enrolment import enrol

    spec = subs.new(
        channel=args.channel,
        address=args.address,
        client=args.client,
        eori=args.eori,
        lang=args.lang,
        services=args.service,
        modes=args.mode,
        kinds=args.kind,
        role="admin" if args.admin else "client",
    )
    with _relay(args) as relay:  # joining mid-outage: the open alerts are owed too
        enrolled = enrol(relay.store, spec, now=datetime.now(UTC))
        s = enrolled.subscriber
        secret = webhook_secrets.shown(relay.store, s.id) if s.channel == "webhook" else None
    shown = f"{s.channel} {printable(s.shown_address)}"
    print(f"subscriber {s.id}: {printable(s.client)} on {shown} — {_filters(s)}")
    if secret:
        _print_secret(secret)
    if enrolled.owed:
        print(f"{enrolled.owed} message(s) about what is already open or planned are queued for it")
    return 0


def _print_secret(secret: str) -> None:
    print(f"signing secret (Standard Webhooks): {secret}")
    print("give it to the receiver now: it is never shown again (`subscribers secret ID` makes a new one)")


def run_secret(args: argparse.Namespace) -> int:
    from relays import webhook_secrets

    with _relay(args) as relay:
        s = _one(relay.store, args.subscriber)
        secret = webhook_secrets.rotate(relay.store, s.id, now=datetime.now(UTC))
    print(f"subscriber {s.id} ({s.client}, {s.shown_address}): the old signing secret no longer verifies")
    _print_secret(secret)
    return 0


def _filters(s: Subscriber) -> str:
    parts = [
        f"services: {', '.join(s.services) or 'all'}",
        f"modes: {'/'.join(s.modes) or 'all'}",
        f"kinds: {', '.join(s.kinds) or 'all'}",
        f"lang: {s.lang}",
    ]
    if s.role == "admin":
        parts.append("admin")
    return "; ".join(parts)


def run_list(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from relays import subscribers as subs

    with _relay(args, read_only=True) as relay:
        everyone = subs.all_subscribers(relay.store)
    if args.json:
        for s in everyone:
            record = asdict(s)
            record["address"] = s.shown_address
            print(json.dumps(record, ensure_ascii=False))
        return 0
    if not everyone:
        print("No subscriber yet: add one with `prodouane-relay subscribers add`.")
    for s in everyone:
        state = (
            "active"
            if s.active and not s.paused
            else "paused"
            if s.active
            else f"inactive ({printable(s.deactivated_reason)})"
        )
        print(
            f"{s.id:>4}  {s.channel:<8} {printable(s.shown_address):<24} {printable(s.client):<24} {state} "
            f"— {_filters(s)}"
        )
    return 0


def _one(store: Store, key: str) -> Subscriber:
    from relays import subscribers as subs

    found = subs.find(store, key)
    if found is None:
        raise UsageError(f"no subscriber {printable(key)!r}")
    return found


def _inactive(s: Subscriber) -> str:
    why = printable(s.deactivated_reason) or "removed"
    return f"subscriber {s.id} ({printable(s.client)}) is inactive ({why})"


def run_remove(args: argparse.Namespace) -> int:
    from relays import subscribers as subs

    with _relay(args) as relay:
        s = _one(relay.store, args.subscriber)
        if not s.active:  # already removed (or deactivated by its platform): nothing changes
            raise UsageError(f"{_inactive(s)}: already removed, nothing changed")
        subs.remove(relay.store, s.id)
    print(
        f"subscriber {s.id} ({printable(s.client)}) removed; its delivery history stays for the audit trail"
    )
    return 0


async def _send_test(args: argparse.Namespace) -> int:
    from relays.channels.base import DeliveryError, Outgoing
    from relays.render import FORMATS

    async with _relay(args, read_only=True) as relay:
        s = _one(relay.store, args.subscriber)
        if not s.active:
            raise UsageError(f"{_inactive(s)}: no test message sent")
        channel = relay.channels.get(s.channel)
        if channel is None:
            raise UsageError(
                f"the {s.channel} channel is not configured (set PRODOUANE_RELAY_"
                f"{s.channel.upper()}_BOT_TOKEN)"
            )
        text = (
            "Message de test de prodouane-relay : vous recevrez ici les alertes de la météo des téléservices."
            if s.lang == "fr"
            else "prodouane-relay test message: the météo des téléservices alerts will arrive here."
        )
        try:
            ref = await channel.send(
                Outgoing(address=s.address, text=text, format=FORMATS.get(s.channel, "plain"))
            )
        except DeliveryError as exc:
            raise UsageError(f"test message to {printable(s.client)} failed: {exc}") from exc
    print(f"test message sent to {printable(s.client)} ({s.channel} {printable(s.shown_address)}): {ref}")
    return 0


def run_test(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_send_test(args))


def _read_csv(path: Path) -> str:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:  # a spreadsheet's BOM is no column
            return handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f'{path} is not UTF-8 text (save it as "CSV UTF-8")') from exc


def _store_for_dry_run(relay: Relay) -> Store | None:
    """The store read-only, or None when there is none yet (everything would be added)."""
    try:
        return relay.store
    except StoreError as exc:
        if exc.reason == "empty":
            return None
        raise
    except ConfigError as exc:
        if exc.reason != "data_dir" or relay.settings.data_dir.exists():
            raise
        # no data folder yet: the import would create it, if it can be created (else say why)
        parent = relay.settings.data_dir
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
            relay.settings.resolved_database_url(create=True)  # raises what the import would
            raise
        return None


def run_import(args: argparse.Namespace) -> int:
    import io
    import sys

    from relays import subscriber_csv as roster
    from relays.logs import redact

    path = Path(args.file)
    text = _read_csv(path)
    try:
        rows = roster.read(io.StringIO(text, newline=""))
    except roster.Refused as refused:
        for problem in refused.problems:  # redacted as every error line is (bot.cli)
            print(printable(redact(problem)), file=sys.stderr)
        print(
            f"nothing imported: {len(refused.problems)} problem(s) in {printable(str(path))}", file=sys.stderr
        )
        return 1
    if args.dry_run:
        with _relay(args, read_only=True) as relay:
            plan = roster.plan(_store_for_dry_run(relay), rows)
        for row in plan.added:
            print(f"line {row.line}: add {_who(row.spec)}")
        for row, before, changes in plan.updated:
            print(f"line {row.line}: update subscriber {before.id} {_who(before)}: {', '.join(changes)}")
        for row, before in plan.unchanged:
            print(f"line {row.line}: unchanged subscriber {before.id} {_who(before)}")
        print(f"{plan.summary()} (dry run: nothing written)")
        return 0
    with _relay(args) as relay:
        done = roster.apply(relay.store, rows, now=datetime.now(UTC))
    hooks = [s.id for s in done.created if s.channel == "webhook"]
    if hooks:
        shown = ", ".join(str(i) for i in hooks[:10]) + (", …" if len(hooks) > 10 else "")
        print(
            f"{len(hooks)} webhook subscriber(s) added, their signing secrets not shown: give each "
            f"receiver one with `prodouane-relay subscribers secret ID` (ID: {shown})"
        )
    if done.owed:
        print(f"{done.owed} message(s) about what is already open or planned are queued for them")
    print(done.plan.summary())
    return 0


def _who(s: Any) -> str:
    """``(Transit SA, telegram -1001234)``: a subscriber (or a row) for people, address masked."""
    from relays.subscribers import mask_address

    return f"({printable(s.client)}, {s.channel} {printable(mask_address(s.channel, s.address))})"


def run_export(args: argparse.Namespace) -> int:
    from relays import subscriber_csv as roster
    from relays import subscribers as subs

    path = Path(args.file)
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: its folder {folder} does not exist")
    with _relay(args, read_only=True) as relay:
        everyone = subs.all_subscribers(relay.store)
    try:
        written = roster.export(everyone, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    print(
        f"{written} subscriber(s) written to {printable(str(path))} "
        "(full addresses, readable by you only: keep it as you keep the database)"
    )
    return 0
