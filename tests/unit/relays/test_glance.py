"""The open alerts read with the standard library are the ones the store itself returns."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from relays import glance
from relays.store import Store
from tests.support.pages import alert, end, page, poll


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    yield s
    s.close()


def _through_the_store(store: Store) -> list[dict[str, object]]:
    return glance.as_live(store.open_alerts())


def test_the_glance_reads_what_the_store_reads(store: Store, tmp_path: Path) -> None:
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00"), alert("ICS2", "03/12/2026 à 09h15", "DTI")), 1)
    poll(store, page(alert("DELTA X Import et Export", "03/12/2026 à 11h30")), 2)
    poll(store, page(end("DELTA X Import", "03/12/2026 à 12h00")), 3)  # narrows one, leaves it open
    expected = _through_the_store(store)
    assert len(expected) >= 2 and any(a["published_at"] is not None for a in expected)
    assert glance.open_alerts(f"sqlite:///{tmp_path / 'r.sqlite3'}") == expected


def test_a_store_with_no_open_alert_gives_none(store: Store, tmp_path: Path) -> None:
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    poll(store, page(end("DELTA G", "03/12/2026 à 12h00")), 2)
    assert store.open_alerts() == []
    assert glance.open_alerts(f"sqlite:///{tmp_path / 'r.sqlite3'}") == []


def test_reading_writes_nothing_and_creates_nothing(store: Store, tmp_path: Path) -> None:
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    store.close()
    for extra in tmp_path.glob("r.sqlite3-*"):  # the WAL folded back: only the file is left
        assert extra.stat().st_size == 0 or extra.name.endswith("-shm")
        extra.unlink()
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert len(glance.open_alerts(f"sqlite:///{tmp_path / 'r.sqlite3'}")) == 1
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
    assert glance.open_alerts(f"sqlite:///{tmp_path / 'none.sqlite3'}") == []
    assert not (tmp_path / "none.sqlite3").exists()


def test_alerts_recorded_by_a_process_still_writing_are_read(store: Store, tmp_path: Path) -> None:
    """`run` keeps the store open in WAL mode: what it committed is read through its WAL."""
    writer = sqlite3.connect(tmp_path / "r.sqlite3")
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")  # the alert stays in the WAL, not the file
        poll(store, page(alert("NCTS", "03/12/2026 à 08h00")), 1)
        assert (tmp_path / "r.sqlite3-wal").stat().st_size > 0
        (found,) = glance.open_alerts(f"sqlite:///{tmp_path / 'r.sqlite3'}")
        assert found["services"] == ("NCTS",)
    finally:
        writer.close()


def test_a_file_that_is_no_store_is_an_error_for_the_caller(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(sqlite3.OperationalError):
        glance.open_alerts(f"sqlite:///{empty}")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////var/lib/relay/r.sqlite3", "/var/lib/relay/r.sqlite3"),
        ("sqlite:///data/r.sqlite3", "data/r.sqlite3"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///r.sqlite3?timeout=3", None),
        ("sqlite+pysqlite:///r.sqlite3", None),
        ("postgresql+psycopg://relay@127.0.0.1/relay", None),
    ],
)
def test_only_a_plain_sqlite_file_is_read_without_sqlalchemy(url: str, path: str | None) -> None:
    assert glance.sqlite_file(url) == (Path(path) if path else None)
