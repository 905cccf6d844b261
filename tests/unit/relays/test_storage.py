"""The store's faults in our words, read-only opening, and a poll that could not be recorded.

Faults are real: a damaged file, a missing folder, a server that does not answer, and a SQLite
connection told to refuse writes (``PRAGMA query_only``), which is how SQLite itself says "this
store is read-only" without needing a read-only file system.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from relays import storage
from relays import subscribers as subs
from relays.errors import ConfigError, StoreError
from relays.events import StoreRecovered
from relays.metrics import Metrics
from relays.store import DeliveryRow, EventRow, Store
from relays.subscribers import SubscriberError
from tests.support.pages import alert, page, poll


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    yield s
    s.close()


class Refusal:
    """Makes the store's SQLite connections refuse writes while ``on`` (PRAGMA query_only)."""

    def __init__(self, store: Store) -> None:
        self.on = False
        store.engine.dispose()
        event.listen(store.engine, "checkout", self._checkout)

    def _checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA query_only={'ON' if self.on else 'OFF'}")


def fault_of(store: Store, sql: str) -> StoreError | None:
    try:
        with store.engine.begin() as conn:
            conn.execute(text(sql))
    except Exception as exc:
        return storage.store_fault(exc, store.engine.url)
    raise AssertionError("the statement worked")


def test_a_write_refused_by_the_database_is_read_only(store: Store) -> None:
    Refusal(store).on = True
    fault = fault_of(store, "DELETE FROM subscribers")
    assert fault is not None and fault.reason == "read_only" and "refuses writes" in str(fault)


def test_a_bug_is_not_a_storage_fault(store: Store) -> None:
    assert fault_of(store, "SELECT * FROM no_such_table") is None
    subs.add(store, channel="console", address="a", client="A")
    with pytest.raises(SubscriberError):  # a duplicate: the caller's business, not the storage's
        subs.add(store, channel="console", address="a", client="A")


def test_a_damaged_file_is_named_on_opening(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    before = bad.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError) as caught:
            Store.open(f"sqlite:///{bad}", read_only=read_only)
        assert caught.value.reason == "corrupt" and str(bad) in str(caught.value)
    assert bad.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["bad.sqlite3"]


def test_a_missing_folder_is_named_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        Store.open(f"sqlite:///{tmp_path / 'no' / 'x.sqlite3'}")
    assert caught.value.reason == "cannot_open" and "does not exist" in str(caught.value)
    assert not (tmp_path / "no").exists()


def test_a_server_that_does_not_answer_is_unreachable_with_its_password_masked() -> None:
    with pytest.raises(StoreError) as caught:
        Store.open("postgresql+psycopg://relay:hunter2@127.0.0.1:9/relay")
    assert caught.value.reason == "unreachable"
    assert "relay:***@127.0.0.1:9" in str(caught.value) and "hunter2" not in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [("garbage", "bad_url"), ("mysql://x/y", "no_driver"), ("nosuchdialect://x", "no_driver")],
)
def test_a_url_that_cannot_be_used_is_a_config_error(url: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        storage.make_engine(url)
    assert caught.value.reason == reason


def test_reading_opens_nothing_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        Store.open(f"sqlite:///{tmp_path / 'x.sqlite3'}", read_only=True)
    assert caught.value.reason == "empty"
    assert list(tmp_path.iterdir()) == []


def test_reading_a_closed_store_creates_nothing_beside_it(store: Store, tmp_path: Path) -> None:
    subs.add(store, channel="console", address="a", client="A")
    store.close()
    reader = Store.open(f"sqlite:///{tmp_path / 'r.sqlite3'}", read_only=True)
    try:
        assert [s.client for s in subs.all_subscribers(reader)] == ["A"]
        with pytest.raises(Exception):  # noqa: B017 - whatever SQLite raises: it must not write
            subs.add(reader, channel="console", address="b", client="B")
    finally:
        reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.sqlite3"]


def test_a_poll_that_cannot_be_recorded_is_recorded_later_and_the_admins_are_told(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    admin = subs.add(store, channel="console", address="admins", client="Admins", role="admin")
    client = subs.add(store, channel="console", address="desk", client="Desk")
    refusal = Refusal(store)
    refusal.on = True
    with caplog.at_level(logging.DEBUG, logger="relays.storage"):
        for minute in (1, 2, 3):
            with pytest.raises(StoreError) as caught:
                poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), minute)
            assert caught.value.reason == "read_only"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].getMessage().startswith("storage fault:")  # once, not per poll
    assert errors[0].exc_info is None
    fault = store.health.fault
    assert fault is not None and fault.reason == "read_only"
    assert store.open_alerts() == []  # nothing half-written
    assert "prodouane_store_up 0.0" in Metrics.create(store).render().decode()

    refusal.on = False
    (opened,) = poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 4)  # the same page, again
    assert opened.kind == "alert_opened" and store.health.fault is None
    assert "prodouane_store_up 1.0" in Metrics.create(store).render().decode()
    with store.sessions() as session:
        notices = [r for r in session.scalars(select(EventRow)) if r.kind == StoreRecovered.kind]
        assert len(notices) == 1 and notices[0].payload["since"] == fault.since.isoformat()
        told = {(d.event_id, d.subscriber_id) for d in session.scalars(select(DeliveryRow))}
    assert (notices[0].id, admin.id) in told and (notices[0].id, client.id) not in told
    assert (opened.id, client.id) in told
    assert poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 5) == []  # and only once
    with store.sessions() as session:
        assert sum(r.kind == StoreRecovered.kind for r in session.scalars(select(EventRow))) == 1
