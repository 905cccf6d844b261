"""Shared set-up for delivery tests: a store with subscribers, and pages to replay into it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from relays.store import Store

SAMPLES = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"
PAGES = sorted(str(p) for p in SAMPLES.glob("*.html"))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'relay.sqlite3'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def hostile_alert_page() -> bytes:
    """An alert whose CID text carries markup that must reach people as text, never as markup."""
    text = (
        "Incident <b>grave</b> & <script>alert(1)</script> — voir <https://evil.example|ici> <!channel> "
        "@here *gras* _it_"
    )
    return f"""<html><body><h2>Messages</h2><article><h3>ALERTE - DELTA G - EDI</h3>
    <p>Publié le 03/12/2026 à 10h32</p><p>{text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}</p>
    </article></body></html>""".encode()
