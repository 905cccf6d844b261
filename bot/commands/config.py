"""``config check``: validate the configuration as ``run`` would, and print it with secrets masked.

It refuses everything ``run`` refuses before starting (bad or unknown settings, the chat
front-ends' configuration, a web host that does not resolve, a status page exposed without a
token, a data folder that cannot be created) and opens the database read-only, writing nothing:
an unreachable, damaged or unusable database is refused too; one not created or not migrated yet
is fine (``run`` does both at start). Only a port in use is left to ``run``: another instance may
hold it right now.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bot.commands import summary
from relays.errors import ConfigError, StoreError

if TYPE_CHECKING:  # imported when the check runs: `config --help` loads none of it
    from bot.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config", help=summary("config"))
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser("check", help="validate the settings and print them, secrets masked")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=run_check)


def _creatable(folder: Path) -> None:
    """Refuse a data folder that ``run`` could not create (writing nothing here)."""
    parent = folder
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(
            f"PRODOUANE_RELAY_DATA_DIR={folder} cannot be created ({parent} is not a writable folder)",
            reason="data_dir",
        )


def database_state(settings: Settings) -> str:
    """How the database looks from here, read-only; raises what ``run`` would refuse."""
    from relays.storage import make_engine, sqlite_path
    from relays.store import Store

    if settings.database_url is None and not settings.data_dir.exists():
        _creatable(settings.data_dir)
        return "not created yet (created at start)"
    url = settings.resolved_database_url(create=False)
    make_engine(url, read_only=True).dispose()  # a URL that cannot be used: ConfigError
    path = sqlite_path(url)
    if path is not None and not path.exists():
        if not path.parent.is_dir():
            what = "is not a folder" if path.parent.exists() else "does not exist"
            raise StoreError(
                f"cannot open the SQLite file ({path}): its folder {path.parent} {what}", reason="cannot_open"
            )
        _creatable(path.parent)
        return "not created yet (created at start)"
    from relays import migrate

    try:
        store = Store.open(url, read_only=True)
    except StoreError as exc:
        if exc.reason == "empty":
            return "reachable, empty (the schema is created at start)"
        if exc.reason != "schema":
            raise
        engine = make_engine(url, read_only=True)
        try:
            current, head = migrate.current(engine), migrate.head()
            return f"reachable, schema at revision {current} (upgraded to {head} at start)"
        finally:
            engine.dispose()
    try:
        return f"reachable, schema at revision {migrate.current(store.engine)}"
    finally:
        store.close()


def run_check(args: argparse.Namespace) -> int:
    from pydantic import SecretStr

    from bot.service import preflight
    from bot.settings import load_settings, mask_url

    settings = load_settings()
    preflight(settings)
    state = database_state(settings)
    shown: dict[str, object] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = "********" if value.get_secret_value() else ""
        elif name == "database_url" and isinstance(value, str):
            value = _masked_db(value)
        elif name == "meteo_url":
            value = [mask_url(url) for url in value]
        shown[name] = str(value) if not isinstance(value, (int, float, bool, list, type(None))) else value
    shown["database_url (resolved)"] = shown["database_url"] or settings.embedded_database_url()
    shown["database"] = state
    if args.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        width = max(len(k) for k in shown)
        for key, value in shown.items():
            print(f"{key:<{width}}  {value}")
        print("configuration OK")
    return 0


def _masked_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
