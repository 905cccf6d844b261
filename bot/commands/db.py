"""``db upgrade [--db URL]``: apply the schema migrations (also done by ``run`` at its start, and
nowhere else: other commands say when the store is behind);
``db current``: the store's schema revision, read without writing anything."""

from __future__ import annotations

import argparse

from bot.commands import summary


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


def _url(args: argparse.Namespace, *, create: bool) -> str:
    from bot.settings import load_settings

    return str(args.db or load_settings().resolved_database_url(create=create))


def run_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from relays import migrate
    from relays.storage import make_engine, store_fault

    url = _url(args, create=True)
    engine = make_engine(url)
    try:
        before = migrate.current(engine)
        migrate.upgrade(engine)
        after = migrate.current(engine)
    except SQLAlchemyError as exc:  # unreachable, damaged, full, read-only: one line, nothing written
        raise (store_fault(exc, url) or exc) from exc
    finally:
        engine.dispose()
    print(f"schema at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return 0


def run_current(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from relays import migrate
    from relays.storage import make_engine, store_fault

    url = _url(args, create=False)
    engine = make_engine(url, read_only=True)
    try:
        print(migrate.current(engine) or "empty (no migration applied)")
    except SQLAlchemyError as exc:
        raise (store_fault(exc, url) or exc) from exc
    finally:
        engine.dispose()
    return 0
