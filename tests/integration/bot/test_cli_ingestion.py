"""The poll, replay and demo commands, run in-process through ``bot.cli.main``."""

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.meteo_server import MeteoServer

SAMPLES = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"
PAGES = sorted(str(p) for p in SAMPLES.glob("*.html"))


def lines(capsys: pytest.CaptureFixture[str]) -> tuple[list[str], list[str]]:
    out, err = capsys.readouterr()
    return out.splitlines(), err.splitlines()


def test_replay_json_prints_one_event_per_line_with_the_contract_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", "--json", *PAGES]) == 0
    out, err = lines(capsys)
    events = [json.loads(line) for line in out]
    assert [e["kind"] for e in events] == [
        "interruption_planned",
        "alert_opened",
        "bulletin",
        "alert_opened",
        "bulletin",
        "alert_closed",
        "alert_closed",
    ]
    fields = {
        "kind",
        "id",
        "alert_id",
        "services",
        "modes",
        "level",
        "published_at",
        "starts_at",
        "ends_at",
        "number",
        "inferred",
        "title",
        "text",
        "source",
    }
    assert all(fields <= set(e) for e in events)
    assert events[1]["source"] == PAGES[1]  # the argument exactly as given
    assert events[0]["alert_id"] is None and events[0]["number"] is None
    assert events[2]["alert_id"] == events[1]["id"].split(":")[0]


def test_replay_reads_urls_too(capsys: pytest.CaptureFixture[str]) -> None:
    with MeteoServer() as srv:
        srv.set_page(SAMPLES / "02-alerte-delta-g.html")
        url = srv.url
        assert main(["replay", "--json", url]) == 0
    out, _ = lines(capsys)
    assert [json.loads(line)["source"] for line in out] == [url, url]


def test_replay_text_output_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", PAGES[1]]) == 0
    out, _ = lines(capsys)
    assert "[alert_opened] DELTA G (EDI) red — published 03/12/2026 10:32 (Paris)" in out[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "--json", "nope.html"], "nope.html: no such file"),
        (["replay", str(SAMPLES)], "is a directory"),
        (["replay", "http://127.0.0.1:9/meteo"], "cannot fetch http://127.0.0.1:9/meteo"),
        (["poll", "--once", "--url", "http://127.0.0.1:9/x"], "cannot fetch"),
        (["poll", "--once", "--url", "ftp://x"], "must be an http(s) URL"),
        (["replay", "--degraded-after", "0", PAGES[0]], "at least 1"),
        (["demo", "--interval", "0"], "must be positive"),
    ],
)
def test_bad_arguments_give_one_clear_line_and_a_non_zero_exit(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = lines(capsys)
    assert out == [] and len(err) == 1 and message in err[0]


@pytest.mark.parametrize("argv", [["replay"], ["poll"], ["frobnicate"], ["replay", "--bogus", "x.html"]])
def test_usage_errors_are_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    _, err = lines(capsys)
    assert len(err) == 1 and "error:" in err[0]


def test_a_bad_setting_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRODOUANE_RELAY_METEO_URL", "not-a-url")
    assert main(["poll", "--once"]) == 2
    _, err = lines(capsys)
    assert "PRODOUANE_RELAY_METEO_URL" in err[0]


def test_poll_once_prints_the_parsed_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    with MeteoServer() as srv:
        srv.set_page(SAMPLES / "04-bip-2-et-ics2.html")
        assert main(["poll", "--once", "--url", srv.url, "--json"]) == 0
        snapshot = json.loads(capsys.readouterr().out)
        assert [i["kind"] for i in snapshot["items"]] == ["alert", "alert", "bulletin", "bulletin", "planned"]
        assert {"service": "ICS2", "mode": "DTI", "state": "down", "label": "Indisponible"} in snapshot[
            "statuses"
        ]
        assert main(["poll", "--once", "--url", srv.url]) == 0
        text = capsys.readouterr().out
    assert "status: ICS2 EDI: Indisponible" in text and "bulletin: DELTA G (EDI) BIP n°2" in text


def test_poll_once_on_a_captcha_page_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    with MeteoServer() as srv:
        srv.set_page(b"<html><body>Please solve the CAPTCHA</body></html>")
        assert main(["poll", "--once", "--url", srv.url]) == 2
    assert "not a usable météo page (captcha" in capsys.readouterr().err


def test_demo_plays_the_bundled_scenario_through_the_real_pipeline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--interval", "0.05"]) == 0
    out = capsys.readouterr().out
    assert out.count("[alert_opened]") == 2 and out.count("[alert_closed]") == 2
    assert "Done: 7 event(s) recorded, 0 alert(s) still open;" in out
    # Each event is also shown as its subscribers receive it, through the real outbox.
    assert out.count("── console → desk-ops") == 7
    assert out.count("── console → export-team") == 2  # end-of-alert pings only, in English
    assert "END OF ALERT — DELTA G (EDI)" in out and "BIP N°2 — DELTA G (EDI)" in out
