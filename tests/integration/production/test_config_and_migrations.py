"""Configuration checking, TOML files, and migrations that match the models."""

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.cli import main
from relays import migrate
from relays.store import Base, Store, make_engine


def test_config_check_masks_secrets(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_url.replace("postgresql+psycopg://postgres@", "postgresql+psycopg://postgres:hunter2@")
    monkeypatch.setenv("PRODOUANE_RELAY_TELEGRAM_BOT_TOKEN", "123456:SECRET-token-value")
    monkeypatch.setenv("PRODOUANE_RELAY_DATABASE_URL", url)
    monkeypatch.setenv(
        "PRODOUANE_RELAY_METEO_URL", "https://relay:pw-4321@example.org/meteo?token=tok-9876&page=2"
    )
    assert main(["config", "check", "--json"]) == 0
    out = capsys.readouterr().out
    shown = json.loads(out)
    assert shown["telegram_bot_token"] == "********" and "SECRET" not in out and "hunter2" not in out
    assert shown["database_url"] == url.replace(":hunter2@", ":***@")
    assert shown["meteo_url"] == ["https://relay:***@example.org/meteo?token=***&page=2"]
    assert shown["database"] == "reachable, empty (the schema is created at start)"


def test_config_check_refuses_a_database_that_does_not_answer_and_masks_its_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRODOUANE_RELAY_DATABASE_URL", "postgresql+psycopg://relay:hunter2@127.0.0.1:9/relay")
    assert main(["config", "check", "--json"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert "cannot connect to the database (postgresql+psycopg://relay:***@127.0.0.1:9/relay)" in err
    assert "hunter2" not in err


def test_a_toml_config_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "relay.toml"
    config.write_text('poll_interval = 30\nmeteo_url = ["https://example.org/meteo"]\nweb_port = 9000\n')
    monkeypatch.setenv("PRODOUANE_RELAY_CONFIG", str(config))
    monkeypatch.setenv("PRODOUANE_RELAY_WEB_PORT", "9100")
    assert main(["config", "check", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["poll_interval"] == 30 and shown["meteo_url"] == ["https://example.org/meteo"]
    assert shown["web_port"] == 9100


@pytest.mark.parametrize(
    ("name", "value", "setting"),
    [
        ("PRODOUANE_RELAY_POLL_INTERVAL", "-1", "POLL_INTERVAL"),
        ("PRODOUANE_RELAY_TELEGRAM_MODE", "carrier-pigeon", "TELEGRAM_MODE"),
        ("PRODOUANE_RELAY_METEO_URL", "ftp://x", "METEO_URL"),
        ("PRODOUANE_RELAY_WEB_PORT", "http", "WEB_PORT"),
    ],
)
def test_a_bad_value_names_the_setting(
    name: str, value: str, setting: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["config", "check"]) == 2
    err = capsys.readouterr().err
    assert f"PRODOUANE_RELAY_{setting}" in err and len(err.splitlines()) == 1


def test_an_unreadable_config_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("poll_interval = = 3")
    monkeypatch.setenv("PRODOUANE_RELAY_CONFIG", str(bad))
    assert main(["config", "check"]) == 2
    assert "configuration" in capsys.readouterr().err


def test_the_migrations_build_exactly_the_models_schema(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert migrate.current(engine) == migrate.head()


def test_the_migrations_run_on_postgresql_too(pg_url: str) -> None:
    store = Store.open(pg_url)
    try:
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        store.close()


def test_db_upgrade_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "schema at revision" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "(was" not in capsys.readouterr().out
    assert main(["db", "current", "--db", url]) == 0
    assert capsys.readouterr().out.strip() == migrate.head()
