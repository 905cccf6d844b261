"""Fan-out to Slack (real slack_sdk client, fake Web API) and to Apprise URLs (a local webhook)."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from relays import subscribers as subs
from relays.channels.apprise_channel import AppriseChannel
from relays.channels.slack import SlackChannel
from relays.fanout import enqueue_hook
from relays.lifecycle import Rules
from relays.poller import read_page
from relays.sender import Sender
from relays.store import Store
from tests.fakes.slack_api import FakeSlack

from .conftest import PAGES, hostile_alert_page


def record(store: Store, page: str | bytes) -> None:
    body = Path(page).read_bytes() if isinstance(page, str) else page
    store.record_poll(
        "meteo",
        "page",
        read_page("page", body),
        now=datetime.now(UTC),
        rules=Rules(),
        on_events=enqueue_hook(),
    )


async def test_slack_messages_thread_under_the_alert_and_escape_mentions(store: Store) -> None:
    subs.add(store, channel="slack", address="C0ALERTS", client="Canal")
    with FakeSlack() as sl:
        async with SlackChannel(sl.token, base_url=f"{sl.url}/api/") as channel:
            sender = Sender(store, {"slack": channel})
            record(store, hostile_alert_page())
            await sender.drain()
            record(
                store,
                hostile_alert_page().replace(
                    b"</article>",
                    b"<div><h4>BIP n\xc2\xb01 du 03/12/2026 \xc3\xa0 11h00</h4><p>Suite.</p></div></article>",
                ),
            )
            await sender.drain()
        alert, bip = sl.sent_to("C0ALERTS")
        assert sl.throttled == 0
    assert alert["text"].startswith("🔴 *ALERTE — DELTA G (EDI)*")  # no level stated: none invented
    assert "&lt;!channel&gt;" in alert["text"] and "<!channel>" not in alert["text"]
    assert "&lt;https://evil.example|ici&gt;" in alert["text"]
    assert "&lt;script&gt;" in alert["text"]
    assert bip.get("thread_ts") == alert["ts"]


async def test_an_archived_slack_channel_is_deactivated_and_the_others_still_get_the_alert(
    store: Store,
) -> None:
    gone = subs.add(store, channel="slack", address="C0GONE00", client="Archivé")
    subs.add(store, channel="slack", address="C0LIVE00", client="Vivant")
    with FakeSlack() as sl:
        sl.archive("C0GONE00")
        async with SlackChannel(sl.token, base_url=f"{sl.url}/api/") as channel:
            record(store, PAGES[1])
            report = await Sender(store, {"slack": channel}).drain()
        assert len(sl.sent_to("C0LIVE00")) == 2
    assert report.failed == 1 and report.deactivated == ["Archivé"]
    after = subs.find(store, str(gone.id))
    assert after is not None and not after.active


async def test_slack_rate_limits_are_retried_not_lost(store: Store) -> None:
    subs.add(store, channel="slack", address="C0RATE00", client="C")
    with FakeSlack() as sl:
        sl.fail_next(2, status=429, retry_after=1)
        async with SlackChannel(sl.token, base_url=f"{sl.url}/api/") as channel:
            record(store, PAGES[1])
            report = await Sender(store, {"slack": channel}).drain()
        assert len(sl.sent_to("C0RATE00")) == 2
    assert report.sent == 2 and report.retried == 2


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


async def test_an_apprise_webhook_subscriber_gets_plain_text(
    store: Store, webhook: tuple[str, list[dict[str, object]]]
) -> None:
    url, received = webhook
    subs.add(store, channel="apprise", address=url, client="Webhook", kinds=["alert_opened"])
    record(store, hostile_alert_page())
    report = await Sender(store, {"apprise": AppriseChannel()}).drain()
    assert report.sent == 1
    (posted,) = received
    assert "ALERTE — DELTA G" in str(posted["message"]) and "<script>alert(1)</script>" in str(
        posted["message"]
    )
