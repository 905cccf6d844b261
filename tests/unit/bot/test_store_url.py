"""The store's place read without the settings is the one the settings resolve, case by case."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import load_settings
from bot.store_url import configured_url

CASES: dict[str, tuple[dict[str, str], str | None]] = {
    "nothing set": ({}, None),
    "a data folder": ({"PRODOUANE_RELAY_DATA_DIR": "{tmp}/var"}, None),
    "a relative data folder": ({"PRODOUANE_RELAY_DATA_DIR": "store"}, None),
    "a database URL": ({"PRODOUANE_RELAY_DATABASE_URL": "postgresql+psycopg://relay@db/relay"}, None),
    "an empty database URL": ({"PRODOUANE_RELAY_DATABASE_URL": "", "PRODOUANE_RELAY_DATA_DIR": "x"}, None),
    "a name in lower case": ({"prodouane_relay_data_dir": "{tmp}/lower"}, None),
    "the file's folder": ({}, 'data_dir = "{tmp}/from-file"\n'),
    "the file's URL": ({}, 'database_url = "sqlite:///{tmp}/f.sqlite3"\ndata_dir = "{tmp}/d"\n'),
    "the environment over the file": (
        {"PRODOUANE_RELAY_DATA_DIR": "{tmp}/env"},
        'data_dir = "{tmp}/file"\nweb_port = 9000\n',
    ),
}


@pytest.mark.parametrize(("environ", "toml"), list(CASES.values()), ids=list(CASES))
def test_the_store_url_is_the_one_the_settings_resolve(
    environ: dict[str, str], toml: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.upper().startswith("PRODOUANE_RELAY_")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value.format(tmp=tmp_path))
    if toml is not None:
        (tmp_path / "relay.toml").write_text(toml.format(tmp=tmp_path), encoding="utf-8")
        monkeypatch.setenv("PRODOUANE_RELAY_CONFIG", str(tmp_path / "relay.toml"))
    settings = load_settings()
    assert configured_url() == (settings.database_url or settings.embedded_database_url())


@pytest.mark.parametrize(
    "toml", ["data_dir = [1, 2]\n", "database_url = 3\n", "not toml at all [\n", None], ids=repr
)
def test_a_file_not_plain_enough_leaves_it_to_the_settings(toml: str | None, tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    if toml is not None:
        config.write_text(toml, encoding="utf-8")
    assert configured_url({"PRODOUANE_RELAY_CONFIG": str(config)}) is None
