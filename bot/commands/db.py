"""``db upgrade [--db URL]``: apply the schema migrations (also done automatically at start)."""

from __future__ import annotations

import argparse

from sqlalchemy.exc import OperationalError

from bot.commands import summary
from bot.settings import load_settings
from relays import migrate
from relays.errors import UsageError
from relays.store import make_engine


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help=summary("db"))
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    up = actions.add_parser("upgrade", help="apply the Alembic migrations up to the latest")
    up.add_argument("--db", help="SQLAlchemy URL (default: the configured one)")
    up.set_defaults(func=run_upgrade)
    cur = actions.add_parser("current", help="print the schema revision of the store")
    cur.add_argument("--db")
    cur.set_defaults(func=run_current)


def _url(args: argparse.Namespace) -> str:
    return str(args.db or load_settings().resolved_database_url())


def run_upgrade(args: argparse.Namespace) -> int:
    engine = make_engine(_url(args))
    try:
        before = migrate.current(engine)
        migrate.upgrade(engine)
        after = migrate.current(engine)
    except OperationalError as exc:
        raise UsageError(f"cannot reach the database: {exc.orig}") from exc
    finally:
        engine.dispose()
    print(f"schema at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return 0


def run_current(args: argparse.Namespace) -> int:
    engine = make_engine(_url(args))
    try:
        print(migrate.current(engine) or "empty (no migration applied)")
    finally:
        engine.dispose()
    return 0
