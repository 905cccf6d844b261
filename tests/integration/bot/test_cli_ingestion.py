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


def test_poll_once_explain_says_where_each_reading_came_from_and_what_is_held_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = """<html><body><main><h2>Messages en cours</h2>
    <section class="fr-accordion"><h3 class="fr-accordion__title"><button class="fr-accordion__btn"
    aria-expanded="true">ALERTE – NCTS-P5 – EDI</button></h3><div class="fr-collapse">
    <p class="fr-badge fr-badge--error">Alerte rouge</p><p>Les messages EDI ne sont pas traités.
    Le mode DTI n'est pas impacté.</p><p>Date de publication : 03/12/2026 à 10h32</p></div></section>
    <section class="fr-accordion"><h3 class="fr-accordion__title"><button class="fr-accordion__btn"
    aria-expanded="false">ALERTE – Incident en cours</button></h3><div class="fr-collapse">
    <p>Publié le 03/12/2026 à 11h00</p><p>Des lenteurs sont constatées.</p></div></section>
    </main></body></html>""".encode()
    with MeteoServer() as srv:
        srv.set_page(page)
        assert main(["poll", "--once", "--url", srv.url, "--explain"]) == 0
        text = capsys.readouterr().out
        assert main(["poll", "--once", "--url", srv.url, "--explain", "--json"]) == 0
        record = json.loads(capsys.readouterr().out)
    assert "from section.fr-accordion > h3.fr-accordion__title" in text  # the title is the button in it
    assert "services  NCTS: title" in text and "modes     EDI: title" in text
    assert "level     red: badge 'Alerte rouge'" in text
    assert "date      2026-12-03T09:32:00+00:00: publication label in the text" in text
    assert "item 2: alert  [HELD: names no téléservice; admins only]" in text
    assert record["items"][0]["why"]["services"] == "NCTS: title"


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
