"""A fresh PostgreSQL database per test, on the server at 127.0.0.1:5432 (skipped when absent).

CI machines run PostgreSQL there. Locally: `apt-get install postgresql` and start it
(`pg_ctlcluster --skip-systemctl-redirect 15 main start`), or point PRODOUANE_RELAY_TEST_PG at a
server URL such as postgresql+psycopg://postgres@127.0.0.1:5432/postgres.
"""

import os
import uuid
from collections.abc import Iterator

import pytest

ADMIN_URL = os.environ.get("PRODOUANE_RELAY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url() -> Iterator[str]:
    import psycopg

    conninfo = ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(
            f"no PostgreSQL server reachable at {conninfo} ({exc.__class__.__name__}); "
            "see tests/integration/production/conftest.py to start one"
        )
    name = f"prodouane_test_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
