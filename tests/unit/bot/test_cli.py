"""The dispatcher: ``--help`` and argument errors load no command, hence no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[3]
#: What the relay's commands load, and ``--help`` must not: the database, HTTP, HTML and chat libraries.
HEAVY = frozenset({"sqlalchemy", "httpx", "lxml", "apprise", "telegram", "slack_sdk", "slack_bolt"})
PROBE = """
import json, sys
import bot.cli
try:
    bot.cli.main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))  # None: marked absent
"""


def run_probe(*argv: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """What ``prodouane-relay ARGV`` printed in a fresh interpreter, and the top-level packages it
    had loaded by then."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=ROOT, timeout=60, env=env
    )
    *printed, modules = done.stdout.splitlines()
    return "\n".join(printed), {name.split(".")[0] for name in json.loads(modules)}


def loaded(*argv: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after ``prodouane-relay ARGV``."""
    return run_probe(*argv)[1]


@pytest.mark.parametrize("argv", [["--help"], ["-v", "--help"], [], ["nosuchcommand"]])
def test_help_and_argument_errors_load_no_database_http_or_chat_library(argv: list[str]) -> None:
    modules = loaded(*argv)
    assert not modules & HEAVY, sorted(modules & HEAVY)
    assert not {m for m in modules if m.startswith("bot.commands.")}


@pytest.mark.parametrize(
    "argv",
    [[name, "--help"] for name in COMMANDS]
    + [["subscribers", action, "--help"] for action in ("import", "export")],
    ids=lambda argv: " ".join(argv[:-1]),
)
def test_every_commands_own_help_loads_no_database_http_or_chat_library(argv: list[str]) -> None:
    modules = loaded(*argv)
    assert not modules & (HEAVY | {"alembic", "aiohttp", "bs4"}), sorted(modules & HEAVY)


def test_a_command_loads_what_it_needs(tmp_path: Path) -> None:
    assert "sqlalchemy" in loaded("audit", "--db", f"sqlite:///{tmp_path / 'r.sqlite3'}")


def test_ask_reads_the_open_alerts_without_the_database_or_settings_libraries(tmp_path: Path) -> None:
    """``ask`` on the configured SQLite store (found from the environment) follows its open alert,
    yet loads neither SQLAlchemy nor pydantic: a third of a second of its start."""
    data = tmp_path / "data"
    data.mkdir()
    page = ROOT / "relays" / "samples" / "scenario" / "02-alerte-delta-g.html"
    assert main(["replay", "--db", f"sqlite:///{data / 'prodouane-relay.sqlite3'}", str(page)]) == 0
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PRODOUANE_RELAY_")}
    env["PRODOUANE_RELAY_DATA_DIR"] = str(data)
    out, modules = run_probe("ask", "tout est planté depuis 10h, je fais quoi ?", env=env)
    assert out.startswith("Une alerte est en cours pour DELTA G"), out
    assert not modules & (HEAVY | {"pydantic", "pydantic_settings", "alembic"}), sorted(modules)


SUBSCRIBE_PROBE = """
import json, sys
import bot.cli
bot.cli.main(sys.argv[1:])
print(json.dumps(sorted(name for name, module in sys.modules.items() if module is not None)))
"""
#: What ``subscribers add`` has no use for: the page's parser, the lifecycle that diffs it, the
#: channels and chat front-ends, the migrations' tool (the store is at this version's schema).
NOT_FOR_SUBSCRIBING = frozenset(
    {"relays.meteo", "relays.lifecycle", "relays.channels", "relays.render", "bot.handlers", "alembic"}
)


def test_subscribers_add_loads_the_store_and_the_settings_but_not_the_relays_machinery(
    tmp_path: Path,
) -> None:
    """One subscriber written through the settings and SQLAlchemy, and nothing of what polls, diffs,
    renders or sends: neither the HTML, HTTP or chat libraries nor our modules that use them."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PRODOUANE_RELAY_")}
    env["PRODOUANE_RELAY_DATA_DIR"] = str(data)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True, timeout=60
    )
    argv = ["subscribers", "add", "--channel", "telegram", "--address", "-1001234", "--client", "Transit SA"]
    done = subprocess.run(
        [sys.executable, "-c", SUBSCRIBE_PROBE, *argv, "--service", "DELTA G"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=env,
    )
    *printed, listed = done.stdout.splitlines()
    assert printed[0].startswith("subscriber 1: Transit SA on telegram -1001234"), done.stdout + done.stderr
    modules = set(json.loads(listed))
    assert {"sqlalchemy.orm", "pydantic_settings", "relays.store", "bot.settings"} <= modules
    unwanted = {m for m in modules if m.split(".")[0] in HEAVY - {"sqlalchemy"}}
    unwanted |= {m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_FOR_SUBSCRIBING)}
    assert not unwanted, sorted(unwanted)


def test_help_lists_every_command_with_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for name, (_, summary) in COMMANDS.items():
        assert f"{name} {summary}" in out


def test_a_commands_own_help_has_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["subscribers", "--help"])
    out = capsys.readouterr().out
    assert all(f"    {action} " in out for action in ("add", "list", "remove", "test"))


def test_a_command_using_httpx_does_not_load_httpxs_own_command_line() -> None:
    # httpx imports rich, pygments and click for its CLI when they are installed (the dev tools
    # install them): `run` would carry them for nothing
    modules = loaded("poll", "--once", "--url", "http://127.0.0.1:9/meteo")
    assert "httpx" in modules
    assert not modules & {"rich", "pygments"}, sorted(modules & {"rich", "pygments"})


LAZY_PROBE = """
import json, sys
from relays.channels.apprise_channel import AppriseChannel
import relays.meteo
AppriseChannel()
print(json.dumps(sorted(sys.modules)))
"""


def test_the_relay_loads_apprise_and_feedparser_only_when_it_sends_or_reads_with_them() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    modules = {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}
    assert "relays" in modules and "lxml" in modules
    assert not modules & {"apprise", "feedparser"}, sorted(modules & {"apprise", "feedparser"})


COLLECTIONS = """
import gc, sys
import bot.cli
def made(): return sum(generation["collections"] for generation in gc.get_stats())
before = made()
bot.cli.main(sys.argv[1:])
print(made() - before, gc.isenabled())
"""


def collections(*argv: str) -> tuple[int, bool]:
    """How many garbage collections a fresh interpreter made in ``prodouane-relay ARGV``, and
    whether the collector was on afterwards."""
    done = subprocess.run(
        [sys.executable, "-c", COLLECTIONS, *argv], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    count, enabled = done.stdout.split()[-2:]
    return int(count), enabled == "True"


def test_a_one_shot_command_runs_without_the_garbage_collector_and_gives_it_back(tmp_path: Path) -> None:
    """One question: the collector stays paused while the engine loads and answers — at most the
    one collection it catches up with when given back — and is on again afterwards; a batch (any
    number of questions) keeps it on throughout."""
    db = f"sqlite:///{tmp_path / 'none.sqlite3'}"
    assert collections("ask", "--db", db, "Que mettre en case 44 du DAU ?") <= (1, True)
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"q": "Que mettre en case 44 du DAU ?"}\n', encoding="utf-8")
    count, enabled = collections("ask", "--db", db, "--batch", str(batch))
    assert count > 10 and enabled


EXITING = """
import atexit, gc, sys
import bot.cli
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, file=sys.stderr))
bot.cli.entry()
"""


def run_entry(*argv: str) -> subprocess.CompletedProcess[str]:
    """``prodouane-relay ARGV`` as the console script runs it (:func:`bot.cli.entry`)."""
    return subprocess.run(
        [sys.executable, "-c", EXITING, *argv], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_the_program_exits_with_the_commands_code_leaving_what_it_made_to_the_exit(tmp_path: Path) -> None:
    """The console script exits with the command's code and output, its objects frozen rather than
    walked by the collector once more (the interpreter's shutdown skips them)."""
    db = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    added = run_entry(
        "subscribers", "add", "--channel", "telegram", "--address", "42", "--client", "T", "--db", db
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("subscriber 1: T on telegram 42"), added.stdout
    assert "frozen at exit: True" in added.stderr
    refused = run_entry(
        "subscribers", "add", "--channel", "slack", "--address", "nope", "--client", "T", "--db", db
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0].startswith("prodouane-relay subscribers add: 'nope' is not a Slack")
    assert "frozen at exit: True" in refused.stderr


def test_main_called_in_process_freezes_nothing(tmp_path: Path) -> None:
    """A caller of :func:`main` (the tests, an embedding program) keeps its objects collectable."""
    import gc

    before = gc.get_freeze_count()
    assert main(["subscribers", "list", "--db", f"sqlite:///{tmp_path / 'none.sqlite3'}"]) == 1
    assert gc.get_freeze_count() == before
