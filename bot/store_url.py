"""Where the store is, as :func:`bot.settings.load_settings` would say, without building the settings.

A command that only peeks at the store and carries on without it when it cannot read it
(``ask``, which follows the open alerts) needs two settings, ``database_url`` and ``data_dir``;
validating all of them costs pydantic-settings' import and its model, a fifth of a second of a
one-shot process. :func:`configured_url` reads those two the way the settings do — the
environment (``PRODOUANE_RELAY_…``, names in any case) over the TOML file named by
``PRODOUANE_RELAY_CONFIG`` — and gives up (None) when the file cannot be read plainly, so that
the caller asks the settings and gets their error. ``tests/unit/bot/test_store_url.py`` holds it
to :func:`~bot.settings.load_settings` case by case.

Commands that write, or that must refuse a bad configuration, load the settings as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["EMBEDDED_FILE", "configured_url", "embedded_url"]

#: The embedded store's file name, under ``data_dir``.
EMBEDDED_FILE = "prodouane-relay.sqlite3"
_PREFIX = "prodouane_relay_"
_NAMES = ("database_url", "data_dir")


def embedded_url(data_dir: Path) -> str:
    """The URL of the SQLite file under ``data_dir`` (the store when ``database_url`` is not set)."""
    return f"sqlite:///{data_dir.resolve() / EMBEDDED_FILE}"


def _from_file(environ: Mapping[str, str]) -> dict[str, str] | None:
    """``database_url`` and ``data_dir`` from the configuration file, when it names them as strings;
    None when the file cannot be read or holds them otherwise (the settings then say what is wrong)."""
    config = environ.get("PRODOUANE_RELAY_CONFIG")
    if not config:
        return {}
    import tomllib

    try:
        with Path(config).open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, ValueError):
        return None
    found = {name: data[name] for name in _NAMES if name in data}
    if not all(isinstance(value, str) for value in found.values()):
        return None
    return found


def configured_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The store's URL: ``database_url`` if set and not empty, else the SQLite file under
    ``data_dir`` (default ``data``); None when only the full settings can tell."""
    environ = os.environ if environ is None else environ
    values = _from_file(environ)
    if values is None:
        return None
    lowered = {key.lower(): value for key, value in environ.items()}  # as pydantic-settings reads them
    for name in _NAMES:
        if _PREFIX + name in lowered:
            values[name] = lowered[_PREFIX + name]
    return values.get("database_url") or embedded_url(Path(values.get("data_dir", "data")))
