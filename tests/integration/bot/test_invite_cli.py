"""``prodouane-relay invite``: prints a code and the exact /start line; the code then enrols a chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from relays.invites import list_invites, redeem
from relays.store import Store


def test_invite_prints_the_start_line_and_stores_the_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    assert main(["invite", "Transit SA", "--eori", "FR123", "--phone", "+33 1", "--db", url]) == 0
    out = capsys.readouterr().out
    store = Store.open(url)
    try:
        [invite] = list_invites(store)
        assert f"/start {invite.code}\n" in out
        assert invite.profile == {"eori": "FR123", "company": "Transit SA", "phone": "+33 1"}
        assert redeem(store, invite.code, "telegram", "42").eori == "FR123"
    finally:
        store.close()
    assert main(["invite", "--db", url]) == 2
