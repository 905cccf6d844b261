"""``subscribers import FILE.csv`` and ``subscribers export FILE.csv``: onboarding in one command,
all or nothing, and a backup that round-trips."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from relays import subscribers as subs
from relays import webhook_secrets
from relays.poller import read_page
from relays.store import DeliveryRow, Store

SCENARIO = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"
HEADER = "channel,address,client,eori,company,phone,lang,services,modes,kinds,admin\n"
ROWS = (
    "telegram,-1001234567890,Transit Dupont,FR123456789,Dupont SAS,+33 2 35 00 00 00,fr,DELTA G;ICS2,EDI,,no\n"
    "slack,C0123ABCD,Export team,,,,en,,,alert_closed,\n"
    "webhook,https://edi.example.fr/hooks/douane?token=s3cr3t-value,Plateforme EDI,,,,fr,,,,\n"
    "apprise,mailtos://user:pa55word@smtp.example.org?to=ops@client.fr,Client SA,,,,fr,Delt@ G,,,no\n"
    "telegram,42424242,Admins,,,,,,,source_degraded,yes\n"
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'relay.sqlite3'}"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def everyone(url: str) -> list[subs.Subscriber]:
    store = Store.open(url, schema="as_is")
    try:
        return subs.all_subscribers(store)
    finally:
        store.close()


def test_import_adds_every_row_then_says_what_changed(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path / "clients.csv", HEADER + ROWS)
    assert main(["subscribers", "import", str(csv), "--db", url]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "5 added, 0 updated, 0 unchanged"
    assert "webhook subscriber(s) added, their signing secrets not shown" in out
    assert "s3cr3t" not in out and "pa55word" not in out
    found = {s.address: s for s in everyone(url)}
    dupont = found["-1001234567890"]
    assert (dupont.client, dupont.eori, dupont.services, dupont.modes) == (
        "Transit Dupont",
        "FR123456789",
        ("DELTA G", "ICS2"),
        ("EDI",),
    )
    assert dupont.profile == {"company": "Dupont SAS", "phone": "+33 2 35 00 00 00"}
    assert found["C0123ABCD"].lang == "en" and found["C0123ABCD"].kinds == ("alert_closed",)
    assert found["42424242"].role == "admin" and found["-1001234567890"].role == "client"
    assert found["mailtos://user:pa55word@smtp.example.org?to=ops@client.fr"].services == ("DELTA G",)

    # the same file again: nothing changes; one row edited: that subscriber is updated
    assert main(["subscribers", "import", str(csv), "--db", url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 added, 0 updated, 5 unchanged"
    write(csv, HEADER + ROWS.replace("Export team,,,,en", "Export team,,,,fr"))
    assert main(["subscribers", "import", str(csv), "--db", url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 added, 1 updated, 4 unchanged"
    assert {s.address: s for s in everyone(url)}["C0123ABCD"].lang == "fr"
    assert len(everyone(url)) == 5


def test_one_bad_row_imports_nothing_and_every_problem_is_named_by_its_line(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(
        tmp_path / "bad.csv",
        "channel,address,client,lang,services,modes,kinds,admin\n"
        "telegram,100,Good one,fr,,,,\n"
        "telegram,notanid,X,fr,,,,\n"
        "slack,C0123ABCD,,fr,,,,\n"
        ",,,en,ICS3,,,\n"
        "telegram,123,Y,de,DELTA Z,XML,alert_maybe,maybe\n"
        "\n"
        'telegram,124,"Two\nlines",fr,,,,\n'
        "telegram,124,Again,fr,,,,\n"
        "pigeon,loft 3,Z,fr,,,,\n"
        "telegram,125,Z,fr,,,,,extra\n"
        "telegram,mailtos://user:pa55word@smtp.example.org?to=ops@client.fr,Shifted,fr,,,,\n",
    )
    assert main(["subscribers", "import", str(csv), "--db", url]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "line 3: 'notanid' is not a Telegram chat id (e.g. 123456789, -1001234567890, @channel)",
        "line 4: the client is empty",
        "line 5: the channel is empty",
        "line 5: the address is empty",
        "line 5: the client is empty",
        "line 5: unknown téléservice 'ICS3' (e.g. 'DELTA G', 'ICS2', 'GAMMA')",
        "line 6: admin must be yes or no, not 'maybe'",
        "line 6: unknown language 'de' (fr or en)",
        "line 6: unknown téléservice 'DELTA Z' (e.g. 'DELTA G', 'ICS2', 'GAMMA')",
        "line 6: unknown mode 'XML' (EDI or DTI)",
        "line 6: unknown event kind 'alert_maybe' (one of alert_opened, bulletin, alert_closed, "
        "interruption_planned, alert_updated, interruption_cancelled, source_degraded, source_recovered, "
        "unattributed_message, subscriber_deactivated, store_recovered)",
        "line 10: telegram address already on line 8",
        "line 11: unknown channel 'pigeon' (one of telegram, slack, apprise, console, webhook)",
        "line 12: 9 cells, the header has 8",
        "line 13: 'mailtos://smtp.example.org/…' is not a Telegram chat id (e.g. 123456789, -1001234567890, @channel)",
        "nothing imported: 15 problem(s) in " + str(csv),
    ]
    assert not (tmp_path / "relay.sqlite3").exists()  # not even the store was created


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("address,client\n", "line 1: missing column(s) channel; the columns are channel,address,client,"),
        ("channel,address,client,telephone\n", "line 1: unknown column(s) 'telephone'; the columns are"),
        ("channel;address;client\n", "(the separator is the comma; lists inside a cell use ';')"),
        ("channel,address,client,lang,lang\n", "line 1: column(s) named twice: lang;"),
        ("", "line 1: no header row (expected: channel,address,client,"),
    ],
)
def test_a_header_that_cannot_be_read_is_one_clear_line(
    header: str, says: str, tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path / "h.csv", header + "telegram,1,X\n" if header else "")
    assert main(["subscribers", "import", str(csv), "--db", url]) == 1
    first, last = capsys.readouterr().err.splitlines()
    assert says in first and last.startswith("nothing imported: 1 problem(s)")


def test_a_file_that_cannot_be_read_is_one_line(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subscribers", "import", str(tmp_path / "none.csv"), "--db", url]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"prodouane-relay subscribers import: cannot read {tmp_path / 'none.csv'}: No such file or directory"
    ]
    (tmp_path / "latin1.csv").write_bytes((HEADER + "telegram,1,Société Générale\n").encode("latin-1"))
    assert main(["subscribers", "import", str(tmp_path / "latin1.csv"), "--db", url]) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err


def test_a_spreadsheets_byte_order_mark_is_not_part_of_the_first_column(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "excel.csv").write_bytes(("\ufeff" + HEADER + ROWS).replace("\n", "\r\n").encode("utf-8"))
    assert main(["subscribers", "import", str(tmp_path / "excel.csv"), "--db", url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "5 added, 0 updated, 0 unchanged"


def test_dry_run_says_what_would_change_and_writes_nothing(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path / "clients.csv", HEADER + ROWS)
    assert main(["subscribers", "import", str(csv), "--dry-run", "--db", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "line 2: add (Transit Dupont, telegram -1001234567890)"
    assert "line 4: add (Plateforme EDI, webhook https://edi.example.fr/…)" in out
    assert "line 5: add (Client SA, apprise mailtos://smtp.example.org/…)" in out
    assert out[-1] == "5 added, 0 updated, 0 unchanged (dry run: nothing written)"
    assert not (tmp_path / "relay.sqlite3").exists()

    assert main(["subscribers", "import", str(csv), "--db", url]) == 0
    capsys.readouterr()
    write(csv, HEADER + ROWS.replace("Export team,,,,en,", "Export team,,,,fr,DELTA G"))
    before = everyone(url)
    assert main(["subscribers", "import", str(csv), "--dry-run", "--db", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "line 3: update subscriber 2 (Export team, slack C0123ABCD): lang, services" in out
    assert "line 2: unchanged subscriber 1 (Transit Dupont, telegram -1001234567890)" in out
    assert out[-1] == "0 added, 1 updated, 4 unchanged (dry run: nothing written)"
    assert everyone(url) == before


def test_a_removed_subscriber_in_the_file_comes_back(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write(tmp_path / "clients.csv", HEADER + ROWS)
    assert main(["subscribers", "import", str(csv), "--db", url]) == 0
    assert main(["subscribers", "remove", "C0123ABCD", "--db", url]) == 0
    capsys.readouterr()
    assert main(["subscribers", "import", str(csv), "--dry-run", "--db", url]) == 0
    assert (
        "line 3: update subscriber 2 (Export team, slack C0123ABCD): reactivated" in capsys.readouterr().out
    )
    assert main(["subscribers", "import", str(csv), "--db", url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 added, 1 updated, 4 unchanged"
    assert all(s.active for s in everyone(url))


def test_imported_subscribers_are_caught_up_on_what_is_already_open(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store.open(url)  # mid-outage: DELTA G and ICS2 alerts open
    now = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    for page in sorted(SCENARIO.glob("0[1-4]*.html")):
        store.record_poll("meteo", page.name, read_page(page.name, page.read_bytes()), now=now)
    opened = {e.id: e.services for _, e in store.events(kinds=("alert_opened",))}
    store.close()
    assert sorted(opened.values()) == [("DELTA G",), ("ICS2",)]
    csv = write(
        tmp_path / "clients.csv",
        HEADER + "console,desk-a,Everything,,,,fr,,,,\nconsole,desk-b,ICS2 only,,,,fr,ICS2,,,\n",
    )
    assert main(["subscribers", "import", str(csv), "--db", url]) == 0
    out = capsys.readouterr().out
    assert "message(s) about what is already open or planned are queued for them" in out
    store = Store.open(url, schema="as_is")
    try:
        with store.sessions() as session:
            owed = {(row.subscriber_id, row.event_id) for row in session.query(DeliveryRow)}
    finally:
        store.close()
    ics2 = next(i for i, services in opened.items() if services == ("ICS2",))
    assert {(1, event_id) for event_id in opened} <= owed
    assert (2, ics2) in owed and not {(2, i) for i in opened if i != ics2} & owed


def test_export_then_import_into_an_empty_store_is_a_round_trip(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subscribers", "import", str(write(tmp_path / "in.csv", HEADER + ROWS)), "--db", url]) == 0
    assert main(["subscribers", "remove", "42424242", "--db", url]) == 0  # not a subscriber any more
    capsys.readouterr()
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    previous = os.umask(0)  # even with nothing masked, the backup is the owner's only
    try:
        assert main(["subscribers", "export", str(first), "--db", url]) == 0
    finally:
        os.umask(previous)
    assert capsys.readouterr().out.startswith(f"4 subscriber(s) written to {first}")
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    text = first.read_text(encoding="utf-8")
    assert text.startswith(HEADER) and "42424242" not in text
    # full addresses (a backup), but no signing secret
    assert "https://edi.example.fr/hooks/douane?token=s3cr3t-value" in text and "pa55word" in text
    assert "whsec_" not in text

    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert main(["subscribers", "import", str(first), "--db", other]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "4 added, 0 updated, 0 unchanged"
    assert main(["subscribers", "export", str(second), "--db", other]) == 0
    assert second.read_bytes() == first.read_bytes()
    # the webhook subscriber the import created signs with a secret of its own
    store = Store.open(other, schema="as_is")
    try:
        hook = next(s for s in subs.all_subscribers(store) if s.channel == "webhook")
        assert (webhook_secrets.shown(store, hook.id) or "").startswith("whsec_")
    finally:
        store.close()


def test_export_replaces_a_file_and_refuses_a_folder(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subscribers", "import", str(write(tmp_path / "in.csv", HEADER + ROWS)), "--db", url]) == 0
    old = write(tmp_path / "backup.csv", "old")
    old.chmod(0o644)
    assert main(["subscribers", "export", str(old), "--db", url]) == 0
    assert stat.S_IMODE(old.stat().st_mode) == 0o600 and old.read_text().startswith(HEADER)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")] == []  # no leftover
    capsys.readouterr()
    assert main(["subscribers", "export", str(tmp_path), "--db", url]) == 2
    assert capsys.readouterr().err.strip().endswith("it is a folder")
    assert main(["subscribers", "export", str(tmp_path / "no" / "x.csv"), "--db", url]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_dry_run_on_a_fresh_machine_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRODOUANE_RELAY_DATA_DIR", str(tmp_path / "data"))
    csv = write(tmp_path / "clients.csv", HEADER + ROWS)
    assert main(["subscribers", "import", str(csv), "--dry-run"]) == 0
    assert (
        capsys.readouterr().out.splitlines()[-1]
        == "5 added, 0 updated, 0 unchanged (dry run: nothing written)"
    )
    assert not (tmp_path / "data").exists()
    assert main(["subscribers", "import", str(csv)]) == 0  # the first import creates the store
    assert capsys.readouterr().out.splitlines()[-1] == "5 added, 0 updated, 0 unchanged"
