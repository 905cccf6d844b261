"""``prodouane-relay ask`` end to end: in process through ``bot.cli.main`` and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_a_question_prints_the_answer_and_its_citation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Que mettre en case 44 du DAU ?"]) == 0
    out = capsys.readouterr().out
    assert "50000" in out
    assert "Source : DGDDI, Fiche 4 – Opérateurs, Étape 2" in out


def test_json_prints_one_object_with_the_contract_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "Can I trigger the fallback procedure at night?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"answer", "abstained", "confidence", "sources", "lang"}
    assert data["lang"] == "en" and data["abstained"] is False
    assert set(data["sources"][0]) >= {"doc", "section", "heading"}
    assert data["sources"][0]["doc"] == "fiche-1"


def test_json_abstention(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "How do I renew my passport?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["abstained"] is True and data["sources"] == []


def test_batch_answers_every_line_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = [
        "Que mettre en case 44 du DAU ?",
        "Quel est le taux de TVA sur le vin ?",
        "What is GPS used for in GAMMA?",
    ]
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join(json.dumps({"q": q}) for q in questions) + "\n\n", encoding="utf-8")
    assert main(["ask", "--batch", str(batch)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["abstained"] for x in lines] == [False, True, False]
    assert [x["sources"][0]["doc"] for x in lines if x["sources"]] == ["fiche-4", "gamma"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", ""], "give a question"),
        (["ask", "   "], "give a question"),
        (["ask"], "give a question"),
        (["ask", "--batch", "/nonexistent/q.jsonl"], "cannot read"),
        (["ask", "--batch", "FILE", "question"], "not both"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tmp_path / "q.jsonl") if a == "FILE" else a for a in argv]
    (tmp_path / "q.jsonl").write_text('{"q": "x"}\n', encoding="utf-8")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content", ['{"q": "ok"}\nnot json\n', '{"question": "x"}\n', '{"q": ""}\n', '["q"]\n', b"\xff\xfe"]
)
def test_a_malformed_batch_is_refused_before_any_answer(
    content: str | bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "bad.jsonl"
    if isinstance(content, bytes):
        batch.write_bytes(content)
    else:
        batch.write_text(content, encoding="utf-8")
    assert main(["ask", "--batch", str(batch)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "prodouane-relay ask:" in captured.err


def test_unknown_flags_exit_non_zero() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["ask", "--bogus", "question"])
    assert exc.value.code == 2


def _command() -> list[str]:
    """The installed console script, or the same entry point through this interpreter.

    (Not ``python -m bot.cli``: run as ``__main__``, that module's ``UsageError`` is another class
    than the one command modules import from ``bot.cli``.)
    """
    script = Path(sys.executable).with_name("prodouane-relay")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())"]


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=REPO,
        timeout=60,
    )


def test_the_real_command_answers_a_batch_from_stdin() -> None:
    stdin = (
        json.dumps({"q": "Dans quel délai réintégrer ?"})
        + "\n"
        + json.dumps({"q": "Recette de crêpes"})
        + "\n"
    )
    done = _run("ask", "--batch", "-", stdin=stdin)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["sources"][0]["doc"] == "fiche-4" and "24 heures" in first["answer"]
    assert second["abstained"] is True


def test_the_real_command_reports_errors_on_one_line() -> None:
    done = _run("ask", "")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().startswith("prodouane-relay ask:")


SAMPLE = REPO / "relays" / "samples"


def _alert_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A store in which the sample scenario's Delta G alert is open."""
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    pages = sorted(SAMPLE.glob("*/02-alerte-delta-g.html"))
    assert main(["replay", "--db", url, str(pages[0])]) == 0
    capsys.readouterr()
    return url


def test_ask_follows_the_open_alert_when_the_question_names_no_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _alert_store(tmp_path, capsys)
    assert main(["ask", "--db", url, "tout est planté depuis 10h, je fais quoi ?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Une alerte est en cours pour DELTA G")
    assert "suivez-la ainsi que les BIP" in out


def test_ask_batch_reads_the_alerts_once_and_keeps_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _alert_store(tmp_path, capsys)
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        json.dumps({"q": "Delta G en panne, puis-je auto-déclencher ?"}) + "\n", encoding="utf-8"
    )
    assert main(["ask", "--db", url, "--batch", str(batch)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"].startswith("Une alerte est en cours pour DELTA G")


@pytest.mark.parametrize(
    "url", ["sqlite:////nonexistent/dir/relay.db", "postgresql+psycopg://x@127.0.0.1:1/none"]
)
def test_ask_without_a_readable_store_answers_without_alerts(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--db", url, "Que mettre en case 44 du DAU ?"]) == 0
    captured = capsys.readouterr()
    assert "50000" in captured.out and "alerte" not in captured.out.split("\n")[0].lower()
    assert captured.err == ""


def test_ask_does_not_create_the_default_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRODOUANE_RELAY_DATABASE_URL", raising=False)
    assert main(["ask", "Que mettre en case 44 du DAU ?"]) == 0
    assert not (tmp_path / "data").exists()
