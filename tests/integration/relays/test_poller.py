"""The poller against a real HTTP server on 127.0.0.1: conditional GETs, faults, backoff, schedule."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from relays.fetch import USER_AGENT, Fetcher
from relays.lifecycle import Rules
from relays.poller import Poller
from relays.scheduler import add_poll_job, build_scheduler
from relays.store import Store
from tests.support.meteo_server import MeteoServer

SAMPLES = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"


@pytest.fixture
def server() -> Iterator[MeteoServer]:
    with MeteoServer() as srv:
        yield srv


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    yield s
    s.close()


async def test_a_304_counts_as_a_healthy_poll_that_still_sees_the_open_alert(
    server: MeteoServer, store: Store
) -> None:
    server.set_page(SAMPLES / "02-alerte-delta-g.html", etag='"v1"')
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], rules=Rules(close_after_absent=1))
    try:
        first = await poller.poll_once()
        assert [e.kind for e in first.events] == ["alert_opened", "interruption_planned"]
        for _ in range(3):
            again = await poller.poll_once()
            assert again.failure is None and again.events == ()
    finally:
        await fetcher.aclose()
    assert server.requests[1].headers["If-None-Match"] == '"v1"'
    assert server.requests[0].headers["User-Agent"] == USER_AGENT
    assert "gzip" in server.requests[0].headers["Accept-Encoding"]
    assert len(store.open_alerts()) == 1  # 304s did not make the alert look absent


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500},
        {"status": 503},
        {"delay": 3.0},
        {"truncate": True},
        {"body": b"\x00\xff garbage \x01", "content_type": "application/octet-stream"},
    ],
)
async def test_faults_are_bad_polls_that_back_off_and_never_close(
    server: MeteoServer, store: Store, fault: dict[str, object]
) -> None:
    server.set_page(SAMPLES / "02-alerte-delta-g.html")
    fetcher = Fetcher(timeout=1.0)
    poller = Poller(store, fetcher, [server.url], rules=Rules(degraded_after=2), interval=60)
    try:
        await poller.poll_once()
        server.queue(**fault)  # type: ignore[arg-type]
        server.queue(**fault)  # type: ignore[arg-type]
        one, two = await poller.poll_once(), await poller.poll_once()
        assert one.failure and two.failure
        assert [e.kind for e in two.events] == ["source_degraded"]
        assert poller.failures == 2 and 96 <= poller.backoff_delay() <= 120
        assert await poller.tick() is None  # backing off: the scheduled tick is skipped
        poller.not_before = 0
        back = await poller.poll_once()
        assert [e.kind for e in back.events] == ["source_recovered"]
    finally:
        await fetcher.aclose()
    assert len(store.open_alerts()) == 1


async def test_an_unreachable_server_is_a_bad_poll(store: Store) -> None:
    fetcher = Fetcher(timeout=1.0)
    poller = Poller(store, fetcher, ["http://127.0.0.1:9/meteo"])
    try:
        result = await poller.poll_once()
    finally:
        await fetcher.aclose()
    assert result.failure and result.failure.startswith("network")


async def test_a_secondary_feed_adds_its_bulletins_to_the_page(server: MeteoServer, store: Store) -> None:
    server.set_page(SAMPLES / "02-alerte-delta-g.html")
    with MeteoServer() as feed_server:
        feed_server.set_page(
            """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>BIP</title>
            <item><title>BIP n°1 - DELTA G - EDI</title><description>Publié le 03/12/2026 à 11h30.
            Investigations.</description></item></channel></rss>""".encode(),
            content_type="application/rss+xml",
        )
        fetcher = Fetcher(timeout=5)
        poller = Poller(store, fetcher, [server.url, feed_server.url])
        try:
            result = await poller.poll_once()
        finally:
            await fetcher.aclose()
    assert [e.kind for e in result.events] == ["alert_opened", "bulletin", "interruption_planned"]


async def test_the_scheduled_poll_job_runs_and_never_overlaps(server: MeteoServer, store: Store) -> None:
    server.set_page(SAMPLES / "01-calme.html")
    for _ in range(3):
        server.queue(delay=0.3)
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url])
    running = 0
    peak = 0
    runs = 0

    async def job() -> None:
        nonlocal running, peak, runs
        running += 1
        peak = max(peak, running)
        try:
            await poller.tick()
        finally:
            running -= 1
            runs += 1

    scheduler = build_scheduler()
    add_poll_job(scheduler, job, interval=0.1)
    scheduler.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if runs >= 3:
                break
    finally:
        scheduler.shutdown(wait=False)
        await fetcher.aclose()
    assert runs >= 3 and peak == 1


async def test_a_server_trickling_its_answer_is_a_timeout_not_a_hung_poll(store: Store) -> None:
    import asyncio

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        try:
            for _ in range(100):  # one byte every 0.2 s: each read is fast, the whole never ends
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.2)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    fetcher = Fetcher(timeout=1.0)
    poller = Poller(store, fetcher, [f"http://127.0.0.1:{port}/meteo"])
    try:
        result = await asyncio.wait_for(poller.poll_once(), timeout=10)
    finally:
        await fetcher.aclose()
        server.close()
    assert result.failure and result.failure.startswith("timeout")


async def test_a_redirect_loop_is_a_bad_poll(server: MeteoServer, store: Store) -> None:
    for _ in range(30):
        server.queue(status=302, headers={"Location": "/meteo"})
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], rules=Rules(degraded_after=1))
    try:
        result = await poller.poll_once()
    finally:
        await fetcher.aclose()
    assert result.failure and result.failure.startswith("redirect loop")
    assert [e.kind for e in result.events] == ["source_degraded"]


async def test_a_page_larger_than_the_cap_is_refused(server: MeteoServer, store: Store) -> None:
    server.set_page(b"<html><body>" + b"x" * 50_000 + b"</body></html>")
    fetcher = Fetcher(timeout=5, max_bytes=10_000)
    try:
        result = await Poller(store, fetcher, [server.url]).poll_once()
    finally:
        await fetcher.aclose()
    assert result.failure and result.failure.startswith("too large")
