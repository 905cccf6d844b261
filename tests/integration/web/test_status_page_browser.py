"""The status page in a real headless Chromium: what a person sees, on a phone and on a desktop.

The store is filled through the real pipeline (sample pages → record_poll → outbox → Sender with
in-memory channels); the app is served on 127.0.0.1 and Chromium (Debian's ``chromium`` package)
loads it with ``--dump-dom`` and ``--screenshot``. Skipped when no ``chromium`` binary is on PATH.

Set ``PRODOUANE_UPDATE_SCREENSHOT=1`` to refresh ``docs/status-page.png`` (the README's picture)
from the phone screenshot.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from bs4 import BeautifulSoup

from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.web import build_web_app, start_web, stop_web
from relays.store import Store

from .conftest import Clock, fill

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no `chromium` binary on PATH "
    "(Debian: apt-get install chromium); the browser test needs a real browser",
)
DOCS_SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "status-page.png"
TOKEN = "browser-test-token-42"
PHONE, DESKTOP = (412, 915), (1280, 900)


async def chromium(tmp_path: Path, *args: str, timeout: float = 90.0) -> str:
    """Run headless Chromium with ``args``; its stdout (the DOM for --dump-dom)."""
    assert CHROMIUM is not None
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


def seen(dom: str) -> str:
    """The page's visible text, whitespace collapsed (no head, no style)."""
    soup = BeautifulSoup(dom, "html.parser")
    for hidden in soup(["head", "style", "script"]):
        hidden.decompose()
    return re.sub(r"\s+", " ", soup.get_text(" ")).strip()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
async def base_url(store: Store, clock: Clock) -> AsyncIterator[str]:
    await fill(store, clock)
    relay = bootstrap(Settings.defaults(status_token=TOKEN, poll_interval=60.0), store=store, clock=clock)
    app: web.Application = build_web_app(relay)
    runner = await start_web(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await stop_web(runner)


async def test_staff_see_the_open_alerts_bulletins_interruption_and_outbox(
    base_url: str, tmp_path: Path
) -> None:
    text = seen(await chromium(tmp_path, "--dump-dom", f"{base_url}/?token={TOKEN}"))
    assert "Météo des téléservices lue normalement" in text
    assert "Dernier relevé réussi 03/12/2026 13:33 (heure de Paris), il y a 1 min" in text
    assert "Alertes en cours 2" in text
    assert "DELTA G Alerte rouge" in text and "ICS2 Alerte noire" in text
    assert "Publiée le 03/12/2026 10:32 (heure de Paris) — depuis 3 h 02 min" in text
    assert "BIP n°2 — publié le 03/12/2026 13:30 (heure de Paris)" in text
    assert "Un correctif est en cours de déploiement." in text
    assert "Interruptions programmées 1" in text
    assert "Du 08/12/2026 09:00 au 08/12/2026 17:00 (heure de Paris), dans 4 j 19 h" in text
    assert "9 envoyés" in text and "2 en échec définitif" in text and "6 rappels programmés" in text
    assert (
        "Échecs définitifs 2" in text and "Ancien client" in text and "programmed permanent failure" in text
    )
    assert "1 slack" in text and "2 telegram" in text
    assert "Derniers événements 5" in text


async def test_the_alert_page_shows_the_delivery_audit(base_url: str, tmp_path: Path, store: Store) -> None:
    delta_g = next(a for a in store.open_alerts() if a.services == ("DELTA G",))
    text = seen(await chromium(tmp_path, "--dump-dom", f"{base_url}/alerts/{delta_g.id}?token={TOKEN}"))
    assert "Envois par abonné 2" in text
    assert "Transitaire Dupont (EDI)" in text and "Commissionnaire Martin" in text
    assert "envoyé 03/12/2026 10:35" in text and "2 envoyés" in text and "alerte en cours" in text


async def test_without_the_token_the_browser_gets_the_refusal(base_url: str, tmp_path: Path) -> None:
    text = seen(await chromium(tmp_path, "--dump-dom", f"{base_url}/"))
    assert "Accès refusé" in text and "DELTA G" not in text


async def test_the_page_renders_on_a_phone_and_a_desktop(base_url: str, tmp_path: Path) -> None:
    shots = {}
    for name, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        shot = tmp_path / f"{name}.png"
        await chromium(
            tmp_path, f"--screenshot={shot}", f"--window-size={width},{height}", f"{base_url}/?token={TOKEN}"
        )
        assert png_size(shot) == (width, height)
        assert shot.stat().st_size > 10_000  # something was drawn, not a blank page
        shots[name] = shot
    if os.environ.get("PRODOUANE_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shots["phone"], DOCS_SCREENSHOT)
