"""Schema migrations with Alembic, driven from code (no alembic.ini to ship or find).

``upgrade(engine)`` brings any store to the latest schema; it runs at start (``Store.open``) and
from ``prodouane-relay db upgrade``. A store created before migrations existed (tables present,
no ``alembic_version``) is stamped at the first revision, then upgraded.
"""

from __future__ import annotations

import logging
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

log = logging.getLogger(__name__)

FIRST_REVISION = "0001"


def config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("relays") / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(config()).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; logs one line when it changed (Alembic's own lines, kept
    below INFO by ``relays.logs``, say more than an operator needs)."""
    cfg = config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        tables = set(inspect(conn).get_table_names())
        if "events" in tables and "alembic_version" not in tables:
            command.stamp(cfg, FIRST_REVISION)
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(cfg, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    if after != before:
        log.info("store schema upgraded from %s to %s", before or "empty", after)
