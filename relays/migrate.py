"""Schema migrations with Alembic, driven from code (no alembic.ini to ship or find).

``upgrade(engine)`` brings any store to the latest schema; it runs at ``run``'s start and from
``prodouane-relay db upgrade`` — nowhere else. Every other command opens the store with
:func:`check`: a brand-new, empty store may be created (so that the first command on a fresh
machine works), but a store whose schema is behind (or ahead) is never silently changed: it is a
:class:`~relays.errors.StoreError` (reason ``schema``) saying which revision it is at, which one
this version needs, and to run ``db upgrade``. A store created before migrations existed
(tables present, no ``alembic_version``) is stamped at the first revision, then upgraded.

Reading the revisions costs no Alembic import (half a second of a command's start): the head is
read from the migration scripts' ``revision``/``down_revision`` lines, the store's revision from
its ``alembic_version`` table; Alembic itself is imported only to upgrade.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from .errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

FIRST_REVISION = "0001"
APART_URL = "PRODOUANE_RELAY_MIGRATE_URL"  # the store a child process upgrades (see upgrade_apart)
VERSION_TABLE = "alembic_version"
_HEADER = re.compile(r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(?:None|["']([^"']+)["'])""", re.M)


def config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("relays") / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _current(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def current(engine: Engine) -> str | None:
    """The store's schema revision (None: no migration applied)."""
    with engine.connect() as conn:
        return _current(conn)


@cache
def revisions() -> dict[str, str | None]:
    """Every migration's revision → the revision it follows, read from the scripts' headers."""
    found: dict[str, str | None] = {}
    for script in (resources.files("relays") / "migrations" / "versions").iterdir():
        if not script.name.endswith(".py") or script.name.startswith("__"):
            continue
        header = {name: value or None for name, value in _HEADER.findall(script.read_text(encoding="utf-8"))}
        if header.get("revision"):
            found[str(header["revision"])] = header.get("down_revision")
    return found


@cache
def head() -> str | None:
    """The revision this version of the relay needs (the one no other migration follows)."""
    known = revisions()
    heads = set(known) - {parent for parent in known.values() if parent}
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # branches, or no script found: Alembic decides

    return ScriptDirectory.from_config(config()).get_current_head()


@dataclass(frozen=True, slots=True)
class Schema:
    """Where a store stands: its revision, the one this version needs, and whether it is empty."""

    current: str | None
    head: str | None
    empty: bool  # no relay table at all: a brand-new store

    @property
    def ready(self) -> bool:
        return self.current == self.head


def schema(engine: Engine) -> Schema:
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        revision = _current(conn) if VERSION_TABLE in tables else None
    return Schema(current=revision, head=head(), empty=not tables - {VERSION_TABLE})


def behind(found: Schema, shown_url: str) -> StoreError:
    """The one line for a store this version cannot use as it is."""
    if found.current is not None and found.current not in revisions():
        return StoreError(
            f"the database {shown_url} is at revision {found.current}, which this version does not know "
            f"(it needs {found.head}): a newer prodouane-relay wrote it",
            reason="schema",
        )
    was = found.current or "none (made before migrations)"
    return StoreError(
        f"the database {shown_url} is at revision {was}, this version needs {found.head}: "
        "run `prodouane-relay db upgrade`",
        reason="schema",
    )


def check(engine: Engine, shown_url: str, *, create: bool = True) -> None:
    """Use the store as it is: create it when it is brand new and empty (``create``), otherwise
    its schema must be this version's, or :func:`behind` says what to run."""
    found = schema(engine)
    if found.ready:
        return
    if found.empty and found.current is None and create:
        upgrade(engine)
        return
    raise behind(found, shown_url)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; logs one line when it changed (Alembic's own lines, kept
    below INFO by ``relays.logs``, say more than an operator needs). A store already at the head
    is left without importing Alembic (``run`` starts faster)."""
    if revision == "head" and schema(engine).ready:
        return
    from alembic import command

    cfg = config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        tables = set(inspect(conn).get_table_names())
        if "events" in tables and VERSION_TABLE not in tables:
            command.stamp(cfg, FIRST_REVISION)
        before = _current(conn)
        command.upgrade(cfg, revision)
        after = _current(conn)
    if after != before:
        log.info("store schema upgraded from %s to %s", before or "empty", after)


def upgrade_apart(engine: Engine) -> None:
    """Bring the schema to the head in a child process, so that this one never imports Alembic.

    For ``run``, the long-running process: importing Alembic (with Mako, and Pygments when it is
    installed) to upgrade a store once cost the process 11 MB of resident memory for the rest of
    its life — unloading the modules gives nothing back (measured with bench/answers.py). A store
    already at the head costs no child. The URL goes to the child in the environment, not on its
    command line (where ``ps`` would show a password). An in-memory SQLite store, which a child
    cannot share, and a child that fails are upgraded here by :func:`upgrade`, so that a failure
    raises exactly what it raises without a child.
    """
    if schema(engine).ready:
        return
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        upgrade(engine)
        return
    before = current(engine)
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from relays.migrate import upgrade_from_environment; upgrade_from_environment()",
        ],
        env={**os.environ, APART_URL: url.render_as_string(hide_password=False)},
        capture_output=True,
        check=False,
    )
    if child.returncode != 0 or not schema(engine).ready:
        upgrade(engine)
        return
    after = current(engine)
    if after != before:
        log.info("store schema upgraded from %s to %s", before or "empty", after)


def upgrade_from_environment() -> None:
    """The child of :func:`upgrade_apart`: upgrade the store named by ``PRODOUANE_RELAY_MIGRATE_URL``."""
    from .storage import make_engine

    engine = make_engine(os.environ[APART_URL])
    try:
        upgrade(engine)
    finally:
        engine.dispose()
