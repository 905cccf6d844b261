"""`run` against a store that stops accepting writes, then accepts them again: the fault is named
everywhere (one log line without traceback, ``/readyz`` failing on "store" alone, the
``prodouane_store_up`` gauge at 0, a banner on the status page), nothing is lost (the alert
published meanwhile is recorded and delivered once the store is writable, exactly once), nothing is
marked sent that was not, and the admins are told once when it is over.

Two ways to break a store, each skipped with its reason where this machine cannot do it: a
PostgreSQL role whose write privileges are revoked (the server on 127.0.0.1:5432), and a SQLite
file on a tiny tmpfs that fills up (needs the right to mount).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from relays import subscribers as subs
from relays.outbox import DeliveryStatus
from relays.store import DeliveryRow, Store
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.production.conftest import ADMIN_URL
from tests.support.filesystems import TinyFS
from tests.support.meteo_server import MeteoServer
from tests.support.relay_process import RelayProcess, wait_for

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "relays" / "samples" / "scenario"
CLIENT, ADMIN = 4242, 777
TOKEN = "status-token-for-the-fault-test"


def prepare(url: str) -> None:
    """A client who wants the alerts and an admin, both on Telegram, in the store at ``url``."""
    store = Store.open(url)
    subs.add(store, channel="telegram", address=str(CLIENT), client="Transit Dupont", kinds=["alert_opened"])
    subs.add(
        store,
        channel="telegram",
        address=str(ADMIN),
        client="Admins",
        role="admin",
        kinds=["source_degraded"],
    )
    store.close()


def sent_texts(tg: FakeTelegram, chat: int) -> list[str]:
    return [str(m["text"]) for m in tg.sent_to(chat)]


def run_through_a_fault(
    tmp_path: Path, url: str, break_store: Callable[[], None], mend_store: Callable[[], None], *, reason: str
) -> str:
    """The scenario, against the store at ``url`` (its writes broken and mended by the callables);
    returns the relay's log."""
    with MeteoServer() as meteo, FakeTelegram() as tg:
        meteo.set_page(SAMPLES / "01-calme.html")
        env = {
            "PRODOUANE_RELAY_DATABASE_URL": url,
            "PRODOUANE_RELAY_METEO_URL": meteo.url,
            "PRODOUANE_RELAY_POLL_INTERVAL": "0.5",
            "PRODOUANE_RELAY_POLL_JITTER": "0",
            "PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN": tg.token,
            "PRODOUANE_RELAY_TELEGRAM_API_URL": f"{tg.url}/bot",
            "PRODOUANE_RELAY_TELEGRAM_MODE": "off",
            "PRODOUANE_RELAY_SLACK_MODE": "off",
            "PRODOUANE_RELAY_STATUS_TOKEN": TOKEN,
            "PRODOUANE_RELAY_LOG_JSON": "true",
        }
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with RelayProcess(env, log=tmp_path / "run.log") as relay:
            wait_for(f"{relay.base}/readyz", lambda r: r.status_code == 200)
            break_store()
            meteo.set_page(SAMPLES / "02-alerte-delta-g.html")  # published while nothing can be recorded

            ready = wait_for(f"{relay.base}/readyz", lambda r: r.status_code == 503)
            body = ready.json()
            assert body["failed"] == ["store"], body
            assert body["checks"]["store"]["reason"] == reason and body["checks"]["store"]["since"]
            metrics = wait_for(f"{relay.base}/metrics", lambda r: "prodouane_store_up 0.0" in r.text).text
            assert "prodouane_store_up 0.0" in metrics
            page = httpx_get(f"{relay.base}/", auth)
            assert "Stockage en panne" in page and "Aucune alerte en cours" not in page
            time.sleep(2)  # several polls come and go while the store refuses them
            assert sent_texts(tg, CLIENT) == []

            mend_store()
            tg.wait_for(lambda: any("ALERTE ROUGE" in t for t in sent_texts(tg, CLIENT)), timeout=30)
            tg.wait_for(lambda: any("STOCKAGE RÉTABLI" in t for t in sent_texts(tg, ADMIN)), timeout=30)
            wait_for(f"{relay.base}/readyz", lambda r: r.status_code == 200)
            wait_for(f"{relay.base}/metrics", lambda r: "prodouane_store_up 1.0" in r.text)
            assert "Stockage en panne" not in httpx_get(f"{relay.base}/", auth)
            time.sleep(1)  # any duplicate would show now
            client_texts, admin_texts = sent_texts(tg, CLIENT), sent_texts(tg, ADMIN)
        assert relay.code == 0, relay.text()
    assert len(client_texts) == 1 and "ALERTE ROUGE — DELTA G" in client_texts[0]  # once, not twice
    assert sum("STOCKAGE RÉTABLI" in t for t in admin_texts) == 1
    store = Store.open(url, read_only=True) if url.startswith("sqlite") else Store.open(url)
    try:
        with store.sessions() as session:
            rows = session.query(DeliveryRow).all()
            sent = [r for r in rows if r.status == DeliveryStatus.SENT]
            assert len(sent) == 2 and all(r.message_ref for r in sent)  # only what went out is "sent"
    finally:
        store.close()
    return relay.text()


def httpx_get(url: str, headers: dict[str, str]) -> str:
    import httpx

    return httpx.get(url, headers=headers, timeout=5).text


def check_the_log(log: str, says: str) -> None:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    faults = [line for line in lines if line["message"].startswith("storage fault:")]
    assert faults and says in faults[0]["message"], faults
    assert faults[0]["level"] == "ERROR" and "exc" not in faults[0]
    assert len(faults) <= 3, faults  # once per part that met it (poller, leadership, sender), not per tick
    assert any(line["message"].startswith("the store can be written again") for line in lines)
    assert "Traceback" not in log, log


@pytest.fixture
def writable_role(pg_url: str) -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A login role with write privileges on ``pg_url``'s tables, and callables to revoke and
    grant them again; dropped afterwards."""
    role = f"relay_{uuid.uuid4().hex[:8]}"
    admin = ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    database = pg_url.rsplit("/", 1)[1]
    here = admin.rsplit("/", 1)[0] + "/" + database
    prepare(pg_url)  # schema and subscribers, as the superuser
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    grant = (
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};"
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"
    )
    revoke = f"REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {role}"

    def run(sql: str) -> Callable[[], None]:
        def apply() -> None:
            with psycopg.connect(here, autocommit=True) as conn:
                for statement in sql.split(";"):
                    conn.execute(statement)

        return apply

    with psycopg.connect(here, autocommit=True) as conn:
        conn.execute(f"GRANT CONNECT ON DATABASE {database} TO {role}")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    run(grant)()
    try:
        yield (
            pg_url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://{role}@"),
            run(revoke),
            run(grant),
        )
    finally:
        with psycopg.connect(here, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_run_names_revoked_postgresql_writes_and_loses_nothing(
    tmp_path: Path, writable_role: tuple[str, Callable[[], None], Callable[[], None]]
) -> None:
    url, revoke, grant = writable_role
    log = run_through_a_fault(tmp_path, url, revoke, grant, reason="read_only")
    check_the_log(log, "the store refuses writes")


def test_run_names_a_full_disk_and_loses_nothing(tmp_path: Path) -> None:
    with TinyFS(tmp_path / "fs", size="8m") as fs:
        url = f"sqlite:///{fs.path / 'relay.sqlite3'}"
        prepare(url)
        log = run_through_a_fault(tmp_path, url, fs.fill, fs.free, reason="full")
    check_the_log(log, "the disk is full")
