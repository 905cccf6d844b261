"""``config check``: validate the configuration and print it with secrets masked."""

from __future__ import annotations

import argparse
import json

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.commands import summary
from bot.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config", help=summary("config"))
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser("check", help="validate the settings and print them, secrets masked")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    settings = load_settings()
    shown: dict[str, object] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = "********" if value.get_secret_value() else ""
        elif name == "database_url" and isinstance(value, str):
            value = make_url(value).render_as_string(hide_password=True)
        shown[name] = str(value) if not isinstance(value, (int, float, bool, list, type(None))) else value
    shown["database_url (resolved)"] = shown["database_url"] or settings.resolved_database_url()
    if args.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        width = max(len(k) for k in shown)
        for key, value in shown.items():
            print(f"{key:<{width}}  {value}")
        print("configuration OK")
    return 0
