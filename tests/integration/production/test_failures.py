"""Every failure an operator can cause or meet is one clear line on stderr, a non-zero exit, and
nothing written: tables of commands × faults, run in-process through the CLI's entry point.

Each fault prepares a folder and the environment; each command is run against it; the folder is
compared byte for byte before and after. Faults of the disk itself (full, read-only) use a tiny
tmpfs (``tests/support/filesystems.py``), skipped with a reason where mounting is not allowed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from relays import subscribers as subs
from relays.invites import create_invite
from relays.store import Store
from tests.support.filesystems import TinyFS, read_only_folder

ROOT = Path(__file__).resolve().parents[3]
PAGE = str(ROOT / "relays" / "samples" / "scenario" / "02-alerte-delta-g.html")
STORE_FILE = "prodouane-relay.sqlite3"
CSV = str(ROOT / "tests" / "fixtures" / "subscribers" / "clients.csv")

#: Every command that opens the store, as typed.
COMMANDS: dict[str, list[str]] = {
    "config check": ["config", "check"],
    "subscribers list": ["subscribers", "list"],
    "subscribers add": ["subscribers", "add", "--channel", "console", "--address", "desk", "--client", "D"],
    "subscribers remove": ["subscribers", "remove", "1"],
    "subscribers test": ["subscribers", "test", "1"],
    "subscribers secret": ["subscribers", "secret", "1"],
    "subscribers import": ["subscribers", "import", CSV],
    "subscribers import --dry-run": ["subscribers", "import", CSV, "--dry-run"],
    "audit": ["audit"],
    "invite": ["invite", "Transit SA"],
    "invite --list": ["invite", "--list"],
    "db upgrade": ["db", "upgrade"],
    "db current": ["db", "current"],
    "replay --deliver": ["replay", PAGE, "--deliver"],
    "run": ["run"],
}
#: Those that only read: they must work on a read-only copy and on a full disk.
READERS = (
    "config check",
    "subscribers list",
    "subscribers test",
    "subscribers import --dry-run",
    "audit",
    "invite --list",
    "db current",
)
WRITERS = tuple(name for name in COMMANDS if name not in READERS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and its digest (folders as such): what "nothing written" compares."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.exists():
            continue
        key = str(path.relative_to(folder))
        out[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def a_store(folder: Path) -> Path:
    """A real store with one subscriber and one invite in ``folder`` (closed cleanly)."""
    folder.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{folder / STORE_FILE}")
    subs.add(store, channel="console", address="desk", client="Desk")
    create_invite(store, "Transit SA")
    store.close()
    return folder / STORE_FILE


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """`run` installs its log handler on the root logger: give the next test the logging it had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set ``PRODOUANE_RELAY_<NAME>`` variables, over a base where the web port is free and no
    chat front-end starts."""
    for key in [k for k in os.environ if k.startswith("PRODOUANE_RELAY_") and k != "PRODOUANE_RELAY_TEST_PG"]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PRODOUANE_RELAY_WEB_PORT", str(free_port()))

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"PRODOUANE_RELAY_{name.upper()}", value)

    return set_


def one_line_failure(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the CLI; a `run` that would serve is stopped after 20 s so the test fails, not hangs."""
    timer = threading.Timer(20, os.kill, (os.getpid(), signal.SIGTERM)) if argv[0] == "run" else None
    if timer is not None:
        timer.start()
    try:
        code = main(argv)
    finally:
        if timer is not None:
            timer.cancel()
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code != 0, f"{argv} succeeded: {out!r}"
    assert len(lines) == 1, f"{argv}: {lines}"
    assert "Traceback" not in err and out == "", (out, err)
    return code, lines[0]


# --- the database: bad URL, missing driver, unreachable, damaged ---------------------------------
@dataclass(frozen=True)
class Fault:
    name: str
    prepare: Callable[[Path], dict[str, str]]  # the folder → settings to set
    says: str  # in the one line


def _truncated(folder: Path) -> dict[str, str]:
    path = a_store(folder / "data")
    os.truncate(path, path.stat().st_size // 2)
    return {"data_dir": str(folder / "data")}


def _corrupt(folder: Path) -> dict[str, str]:
    (folder / "data").mkdir()
    (folder / "data" / STORE_FILE).write_bytes(b"not a database, just bytes\n" * 200)
    return {"data_dir": str(folder / "data")}


def _data_dir_is_a_file(folder: Path) -> dict[str, str]:
    (folder / "data").write_text("a file, not a folder")
    return {"data_dir": str(folder / "data")}


def _data_dir_under_a_file(folder: Path) -> dict[str, str]:
    (folder / "file").write_text("a file")
    return {"data_dir": str(folder / "file" / "data")}


DATABASE_FAULTS = [
    Fault("bad URL", lambda f: {"database_url": "garbage"}, "is not a database URL"),
    Fault(
        "missing driver", lambda f: {"database_url": "mysql://relay@db/relay"}, "cannot use a mysql database"
    ),
    Fault(
        "SQLite folder missing",
        lambda f: {"database_url": f"sqlite:///{f}/no/such/dir/relay.sqlite3"},
        "does not exist",
    ),
    Fault(
        "PostgreSQL database missing",
        lambda f: {"database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/prodouane_no_such_database"},
        "cannot connect to the database",
    ),
    Fault(
        "server not answering",
        lambda f: {"database_url": "postgresql+psycopg://relay:hunter2@127.0.0.1:9/relay"},
        "cannot connect to the database (postgresql+psycopg://relay:***@127.0.0.1:9/relay)",
    ),
    Fault("DATA_DIR is a file", _data_dir_is_a_file, "DATA_DIR"),
    Fault("DATA_DIR cannot be created", _data_dir_under_a_file, "DATA_DIR"),
    Fault("corrupted SQLite file", _corrupt, "damaged"),
    Fault("truncated SQLite file", _truncated, "damaged"),
]


@pytest.mark.parametrize("fault", DATABASE_FAULTS, ids=lambda f: f.name)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_database_fault_is_one_line_and_nothing_is_written(
    command: str,
    fault: Fault,
    tmp_path: Path,
    env: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    env(**fault.prepare(tmp_path))
    before = snapshot(tmp_path)
    _, line = one_line_failure(COMMANDS[command], capsys)
    assert fault.says in line and line.startswith(f"prodouane-relay {command.split(' --')[0]}")
    assert "hunter2" not in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["subscribers", "list", "--db", "garbage"],
        ["audit", "--db", "mysql://x/y"],
        ["invite", "X", "--db", "postgresql+psycopg://relay@127.0.0.1:9/relay"],
        ["db", "upgrade", "--db", "garbage"],
        ["db", "current", "--db", "sqlite:////nonexistent/dir/x.db"],
        ["replay", PAGE, "--db", "sqlite:////nonexistent/dir/x.db"],
    ],
    ids=" ".join,
)
def test_a_bad_db_argument_is_one_line(
    argv: list[str], env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    one_line_failure(argv, capsys)


# --- the disk: full, read-only ------------------------------------------------------------------
@pytest.fixture
def full_disk(tmp_path: Path, env: Callable[..., None]) -> Iterator[Path]:
    with TinyFS(tmp_path / "fs") as fs:
        a_store(fs.path)
        env(data_dir=str(fs.path))
        fs.fill()
        yield fs.path


@pytest.mark.parametrize("command", WRITERS)
def test_a_full_disk_is_named_and_nothing_is_written(
    command: str, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(full_disk)
    _, line = one_line_failure(COMMANDS[command], capsys)
    assert "the disk is full" in line
    assert snapshot(full_disk) == before


@pytest.mark.parametrize("command", READERS)
def test_reading_commands_work_on_a_full_disk(
    command: str, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(COMMANDS[command]) == 0, capsys.readouterr().err


@pytest.fixture
def read_only_store(tmp_path: Path, env: Callable[..., None]) -> Iterator[Path]:
    a_store(tmp_path / "data")
    with read_only_folder(tmp_path / "data") as folder:
        env(data_dir=str(folder))
        yield folder


@pytest.mark.parametrize("command", WRITERS)
def test_a_read_only_store_is_named_and_nothing_is_written(
    command: str, read_only_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(read_only_store)
    _, line = one_line_failure(COMMANDS[command], capsys)
    assert "read-only" in line
    assert snapshot(read_only_store) == before


@pytest.mark.parametrize("command", READERS)
def test_reading_commands_work_on_a_read_only_copy(
    command: str, read_only_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(COMMANDS[command]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    if command == "subscribers list":
        assert "Desk" in out
    if command == "invite --list":
        assert "Transit SA" in out


def test_a_reading_command_creates_no_store(
    tmp_path: Path, env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    env(data_dir=str(tmp_path / "data"))
    _, line = one_line_failure(["subscribers", "list"], capsys)
    assert "does not exist" in line and "db upgrade" in line
    assert not (tmp_path / "data").exists()


# --- settings: what run refuses, config check refuses -------------------------------------------
SETTING_FAULTS: list[tuple[str, dict[str, str], str]] = [
    ("empty METEO_URL", {"meteo_url": ""}, "PRODOUANE_RELAY_METEO_URL: is empty"),
    ("infinite POLL_INTERVAL", {"poll_interval": "inf"}, "PRODOUANE_RELAY_POLL_INTERVAL"),
    ("NaN POLL_INTERVAL", {"poll_interval": "nan"}, "PRODOUANE_RELAY_POLL_INTERVAL"),
    ("NaN POLL_JITTER", {"poll_jitter": "nan"}, "PRODOUANE_RELAY_POLL_JITTER"),
    ("overflowing HTTP_TIMEOUT", {"http_timeout": "1e309"}, "PRODOUANE_RELAY_HTTP_TIMEOUT"),
    ("huge MAX_BACKOFF", {"max_backoff": "1e300"}, "PRODOUANE_RELAY_MAX_BACKOFF"),
    (
        "unknown variable",
        {"poll_intervall": "30"},
        "unknown setting PRODOUANE_RELAY_POLL_INTERVALL (did you mean PRODOUANE_RELAY_POLL_INTERVAL?)",
    ),
    ("missing config file", {"config": "/nonexistent/relay.toml"}, "PRODOUANE_RELAY_CONFIG"),
    ("malformed ADMINS entry", {"admins": "telegram:42,42"}, "'42' is not an admin id"),
    ("non-numeric Telegram admin", {"admins": "telegram:@boss"}, "is not an admin id"),
]
SETTINGS_COMMANDS = ("config check", "run", "subscribers list", "replay --deliver")


@pytest.mark.parametrize(("name", "values", "says"), SETTING_FAULTS, ids=[f[0] for f in SETTING_FAULTS])
@pytest.mark.parametrize("command", SETTINGS_COMMANDS)
def test_a_bad_setting_is_one_line_naming_it(
    command: str,
    name: str,
    values: dict[str, str],
    says: str,
    tmp_path: Path,
    env: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    env(data_dir=str(tmp_path / "data"), **values)
    code, line = one_line_failure(COMMANDS[command], capsys)
    assert code == 2 and says in line
    assert snapshot(tmp_path) == {}


def test_poll_once_refuses_an_empty_meteo_url(
    env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    env(meteo_url="")
    _, line = one_line_failure(["poll", "--once"], capsys)
    assert "PRODOUANE_RELAY_METEO_URL" in line


def test_an_unknown_key_in_the_config_file_is_named(
    tmp_path: Path, env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "relay.toml"
    config.write_text("poll_intervall = 30\n")
    env(config=str(config))
    _, line = one_line_failure(["config", "check"], capsys)
    assert "unknown setting 'poll_intervall'" in line and "did you mean poll_interval" in line


RUN_FAULTS: list[tuple[str, dict[str, str], str]] = [
    ("unresolvable WEB_HOST", {"web_host": "no-such-host.invalid"}, "cannot be resolved"),
    (
        "status page beyond loopback without a token",
        {"web_host": "0.0.0.0"},
        "PRODOUANE_RELAY_STATUS_TOKEN",
    ),
    (
        "short Telegram webhook secret",
        {
            "telegram_bot_token": "123456:abc",
            "telegram_mode": "webhook",
            "telegram_webhook_url": "https://relay.example.org/telegram",
            "telegram_webhook_secret": "x",
            "slack_mode": "off",
        },
        "32 to 256",
    ),
    (
        "Slack HTTP mode without its signing secret",
        {"slack_bot_token": "xoxb-1-2-abc", "slack_mode": "http", "telegram_mode": "off"},
        "PRODOUANE_RELAY_SLACK_SIGNING_SECRET",
    ),
]


@pytest.mark.parametrize(("name", "values", "says"), RUN_FAULTS, ids=[f[0] for f in RUN_FAULTS])
@pytest.mark.parametrize("command", ["config check", "run"])
def test_config_check_refuses_what_run_refuses(
    command: str,
    name: str,
    values: dict[str, str],
    says: str,
    tmp_path: Path,
    env: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    env(data_dir=str(tmp_path / "data"), **values)
    _, line = one_line_failure(COMMANDS[command], capsys)
    assert says in line
    assert snapshot(tmp_path) == {}


def test_run_with_its_web_port_in_use_is_one_line_and_writes_nothing(
    tmp_path: Path, env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env(data_dir=str(tmp_path / "data"), web_port=str(taken.getsockname()[1]))
        _, line = one_line_failure(["run"], capsys)
    assert "cannot listen on 127.0.0.1" in line and "WEB_PORT" in line
    assert snapshot(tmp_path) == {}


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--interval", "nan"],
        ["demo", "--interval", "inf"],
        ["demo", "--interval", "-1"],
        ["replay", PAGE, "--timeout", "nan"],
        ["poll", "--once", "--timeout", "inf"],
    ],
    ids=" ".join,
)
def test_a_non_finite_number_of_seconds_is_refused(
    argv: list[str], env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    code, line = one_line_failure(argv, capsys)
    assert code == 2 and "must be positive and finite" in line


@pytest.mark.parametrize(
    "values",
    [{"status_token": "a-status-token-1234"}, {"status_public": "true"}],
    ids=["with a token", "open on purpose"],
)
def test_the_status_page_may_be_served_beyond_loopback_with_a_token_or_on_purpose(
    values: dict[str, str], tmp_path: Path, env: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    env(data_dir=str(tmp_path / "data"), web_host="0.0.0.0", **values)
    assert main(["config", "check"]) == 0, capsys.readouterr().err
