"""Migrations run at ``run`` start and by ``db upgrade`` only: every other command checks the
store's schema revision, creates a brand-new store, and names a store that is behind in one line."""

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from bot.cli import main
from relays import migrate
from relays.store import Store, make_engine

ROOT = Path(__file__).resolve().parents[3]
OLD = "0003"  # a revision before the latest


def old_store(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine, OLD)
    engine.dispose()
    return url


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return migrate.current(engine)
    finally:
        engine.dispose()


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    assert migrate.head() == ScriptDirectory.from_config(migrate.config()).get_current_head()
    assert migrate.head() != OLD and OLD in migrate.revisions()


@pytest.mark.parametrize(
    "argv",
    [
        ["subscribers", "add", "--channel", "telegram", "--address", "42", "--client", "X"],
        ["subscribers", "list"],
        ["subscribers", "import", "IMPORT"],
        ["subscribers", "export", "EXPORT"],
        ["audit"],
        ["invite", "Transit SA"],
        ["replay", "PAGE", "--deliver"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_command_names_a_store_that_is_behind_and_changes_nothing(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = old_store(tmp_path / "old.sqlite3")
    (tmp_path / "in.csv").write_text("channel,address,client\ntelegram,42,X\n", encoding="utf-8")
    page = ROOT / "relays" / "samples"
    first_page = sorted(page.glob("*/*.html"))[0]
    files = {"IMPORT": str(tmp_path / "in.csv"), "EXPORT": str(tmp_path / "out.csv"), "PAGE": str(first_page)}
    assert main([files.get(word, word) for word in argv] + ["--db", url]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"prodouane-relay {' '.join(argv[:2]) if argv[0] == 'subscribers' else argv[0]}: the database "
        f"{tmp_path / 'old.sqlite3'} is at revision {OLD}, this version needs {migrate.head()}: "
        "run `prodouane-relay db upgrade`"
    ]
    assert revision(url) == OLD  # not silently upgraded
    assert not (tmp_path / "out.csv").exists()


def test_db_upgrade_then_the_command_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = old_store(tmp_path / "old.sqlite3")
    assert main(["db", "upgrade", "--db", url]) == 0
    assert f"(was {OLD})" in capsys.readouterr().out
    assert main(["subscribers", "list", "--db", url]) == 0


def test_a_brand_new_store_is_created_by_the_first_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    add = ["subscribers", "add", "--channel", "telegram", "--address", "42", "--client", "X", "--db", url]
    assert main(add) == 0
    assert revision(url) == migrate.head()
    assert "subscriber 1: X" in capsys.readouterr().out


def test_a_store_made_before_migrations_is_behind_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
    found = migrate.schema(engine)
    engine.dispose()
    assert not found.empty and found.current is None
    with pytest.raises(Exception, match=r"at revision none \(made before migrations\).*db upgrade"):
        Store.open(url, schema="check")


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    engine.dispose()
    with pytest.raises(Exception, match="revision 9999_future, which this version does not know"):
        Store.open(url, schema="check")
    with pytest.raises(Exception, match="revision 9999_future, which this version does not know"):
        Store.open(url, read_only=True)


PROBE = """
import json, sys
import bot.cli
code = bot.cli.main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_a_command_on_a_current_store_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    argv = ["subscribers", "add", "--channel", "telegram", "--address", "42", "--client", "X", "--db", url]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    import json

    result = json.loads(done.stdout.splitlines()[-1])
    assert result["code"] == 0, done.stderr
    assert "alembic" not in {name.split(".")[0] for name in result["modules"]}


def test_on_postgresql_a_new_database_is_created_and_one_behind_is_named(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "in.csv"
    rows.write_text(
        "channel,address,client,services\n"
        + "".join(f"telegram,{1000 + i},Client {i},DELTA G;ICS2\n" for i in range(600))  # > one IN (…) chunk
        + "webhook,https://edi.example.fr/hooks/douane,Plateforme EDI,\n",
        encoding="utf-8",
    )
    assert main(["subscribers", "import", str(rows), "--db", pg_url]) == 0  # an empty database: created
    assert capsys.readouterr().out.splitlines()[-1] == "601 added, 0 updated, 0 unchanged"
    assert main(["subscribers", "import", str(rows), "--db", pg_url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 added, 0 updated, 601 unchanged"
    out = tmp_path / "out.csv"
    assert main(["subscribers", "export", str(out), "--db", pg_url]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 602
    engine = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{OLD}'")
    finally:
        engine.dispose()
    capsys.readouterr()
    assert main(["subscribers", "list", "--db", pg_url]) == 1
    err = capsys.readouterr().err
    assert (
        f"is at revision {OLD}, this version needs {migrate.head()}: run `prodouane-relay db upgrade`" in err
    )


APART_PROBE = """
import json, sys
from relays.store import Store
store = Store.open(sys.argv[1], schema="upgrade_apart")
store.close()
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("alembic", "mako"))))
"""


@pytest.mark.parametrize("start", ["empty", "behind"])
def test_run_upgrades_its_store_in_a_child_and_never_imports_alembic(start: str, tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    url = old_store(path) if start == "behind" else f"sqlite:///{path}"
    done = subprocess.run(
        [sys.executable, "-c", APART_PROBE, url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
    assert revision(url) == migrate.head()


def test_an_in_memory_store_is_upgraded_in_process() -> None:
    store = Store.open("sqlite://", schema="upgrade_apart")
    try:
        assert migrate.current(store.engine) == migrate.head()
    finally:
        store.close()
