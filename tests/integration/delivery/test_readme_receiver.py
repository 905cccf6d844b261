"""The README's ten-line webhook receiver, run as written (secret and port filled in) against the
relay's outbox: it prints each verified event once and refuses a forged post."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from relays import subscribers as subs
from relays import webhook_secrets
from relays.channels.base import Outgoing
from relays.channels.webhook import WebhookChannel
from relays.cloudevents import envelope
from relays.fanout import enqueue_hook
from relays.poller import read_page
from relays.sender import Sender
from relays.store import Store

from .conftest import PAGES

README = Path(__file__).resolve().parents[3] / "README.md"


def receiver_source() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("A receiver in ten lines") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None, "the README lost its receiver example"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_readme_receiver_is_ten_lines() -> None:
    assert len(receiver_source().strip().splitlines()) == 10


async def test_the_readme_receiver_verifies_and_prints_each_event_once(store: Store, tmp_path: Path) -> None:
    port = free_port()
    address = f"http://127.0.0.1:{port}/hooks/douane"
    subscriber = subs.add(store, channel="webhook", address=address, client="Plateforme EDI")
    secret = webhook_secrets.shown(store, subscriber.id)
    assert secret is not None
    source = receiver_source().replace("whsec_…", secret).replace("8000", str(port))
    script = tmp_path / "receiver.py"
    script.write_text(source, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                forged = httpx.post(address, content=b"{}", headers={"webhook-id": "x"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the README receiver did not start"
                time.sleep(0.05)
        assert forged.status_code == 401
        now = datetime.now(UTC)
        page = PAGES[1]
        store.record_poll(
            "meteo", page, read_page(page, Path(page).read_bytes()), now=now, on_events=enqueue_hook()
        )
        async with WebhookChannel(lambda a: webhook_secrets.secret_for(store, a)) as channel:
            report = await Sender(store, {"webhook": channel}).drain()
            assert report.sent == 2
            # the same message once more, as after a crash: accepted, and printed once all the same
            (event,) = [e for _, e in store.events() if e.kind == "alert_opened"]
            await channel.send(Outgoing(address=address, text=envelope(event, "notify")))
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert out.splitlines() == [
        "prodouane_relay.alert_opened ['DELTA G']",
        "prodouane_relay.interruption_planned ['DELTA G', 'DELTA X Import', 'DELTA X Export', 'DELTA T', 'ICS2']",
    ]
