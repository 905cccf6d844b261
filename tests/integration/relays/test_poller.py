"""The poller against a real HTTP server on 127.0.0.1: conditional GETs, faults, backoff, schedule."""

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from relays.cadence import Cadence
from relays.fetch import USER_AGENT, Fetcher
from relays.lifecycle import Rules
from relays.metrics import Metrics
from relays.poller import Poller
from relays.scheduler import add_poll_job, build_scheduler
from relays.store import Store
from tests.support.meteo_server import MeteoServer
from tests.support.pages import alert, page

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
    cadence = Cadence(calm=120, active=60)  # an alert is open: backing off starts from the active pace
    poller = Poller(store, fetcher, [server.url], rules=Rules(degraded_after=2), cadence=cadence)
    try:
        await poller.poll_once()
        server.queue(**fault)  # type: ignore[arg-type]
        server.queue(**fault)  # type: ignore[arg-type]
        one, two = await poller.poll_once(), await poller.poll_once()
        assert one.failure and two.failure
        assert [e.kind for e in two.events] == ["source_degraded"]
        assert poller.failures == 2 and 96 <= two.next_in <= 120
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


# --- conditional GET and the pace of polling ---------------------------------------------------

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # the sample's interruption is on 8 December, 9h-17h (Paris)
BOTH = page(alert("DELTA G", "03/12/2026 à 10h00"), alert("ICS2", "03/12/2026 à 10h05"))
ICS2_ONLY = page(alert("ICS2", "03/12/2026 à 10h05"))


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


async def test_the_last_modified_date_is_sent_back_and_a_304_is_counted(
    server: MeteoServer, store: Store
) -> None:
    server.set_page(SAMPLES / "01-calme.html", last_modified="Thu, 03 Dec 2026 08:00:00 GMT")
    metrics = Metrics.create()
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], clock=at(NOW), metrics=metrics)
    try:
        first, second = await poller.poll_once(), await poller.poll_once()
    finally:
        await fetcher.aclose()
    assert "If-Modified-Since" not in server.requests[0].headers
    assert server.requests[1].headers["If-Modified-Since"] == "Thu, 03 Dec 2026 08:00:00 GMT"
    assert first.failure is None and second.failure is None and second.events == ()
    assert metrics.registry.get_sample_value("prodouane_polls_not_modified_total") == 1
    assert metrics.registry.get_sample_value("prodouane_polls_total", {"outcome": "ok"}) == 2


async def test_a_new_page_after_304s_is_read_and_its_new_validator_used(
    server: MeteoServer, store: Store
) -> None:
    server.set_page(SAMPLES / "01-calme.html", etag='"v1"')
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], clock=at(NOW))
    try:
        await poller.poll_once()
        await poller.poll_once()  # 304
        server.set_page(SAMPLES / "02-alerte-delta-g.html", etag='"v2"')
        changed = await poller.poll_once()
        await poller.poll_once()
    finally:
        await fetcher.aclose()
    assert [e.kind for e in changed.events] == ["alert_opened"]
    assert [r.headers.get("If-None-Match") for r in server.requests] == [None, '"v1"', '"v1"', '"v2"']


async def run_absence(store: Store, etag: str | None) -> tuple[list[list[str]], float | None]:
    """An alert vanishes from the page, which then stays the same for five polls: the events of each
    poll, and how many of them were answered 304."""
    metrics = Metrics.create()
    with MeteoServer() as srv:
        srv.set_page(BOTH, etag=etag)
        fetcher = Fetcher(timeout=5)
        poller = Poller(
            store, fetcher, [srv.url], rules=Rules(close_after_absent=3), clock=at(NOW), metrics=metrics
        )
        try:
            kinds = [[e.kind for e in (await poller.poll_once()).events]]
            srv.set_page(ICS2_ONLY, etag=None if etag is None else etag + "-2")
            for _ in range(5):
                result = await poller.poll_once()
                assert result.failure is None
                kinds.append([e.kind for e in result.events])
        finally:
            await fetcher.aclose()
    return kinds, metrics.registry.get_sample_value("prodouane_polls_not_modified_total")


async def test_a_304_is_the_same_healthy_poll_as_the_unchanged_page(tmp_path: Path) -> None:
    stores = [Store.open(f"sqlite:///{tmp_path / name}") for name in ("plain.sqlite3", "etag.sqlite3")]
    try:
        plain, not_modified = await run_absence(stores[0], None), await run_absence(stores[1], '"v"')
        assert plain[1] == 0 and not_modified[1] == 4  # the second run's last four polls were 304s
        assert plain[0] == not_modified[0]  # the same events, poll by poll
        assert plain[0][:4] == [["alert_opened", "alert_opened"], [], [], ["alert_closed"]]
        assert [a.services for a in stores[0].open_alerts()] == [a.services for a in stores[1].open_alerts()]
        assert [a.services for a in stores[1].open_alerts()] == [("ICS2",)]
    finally:
        for s in stores:
            s.close()


@pytest.mark.parametrize(
    ("page_", "now", "expected"),
    [
        (SAMPLES / "01-calme.html", NOW, 30.0),  # an interruption announced for the 8th: far off
        (SAMPLES / "02-alerte-delta-g.html", NOW, 15.0),  # an alert open
        (SAMPLES / "01-calme.html", datetime(2026, 12, 8, 7, 30, tzinfo=UTC), 15.0),  # 8h30 Paris
        (SAMPLES / "01-calme.html", datetime(2026, 12, 8, 15, 59, tzinfo=UTC), 15.0),  # 16h59 Paris
        (SAMPLES / "01-calme.html", datetime(2026, 12, 8, 16, 0, tzinfo=UTC), 30.0),  # over at 17h
    ],
)
async def test_the_interval_follows_what_is_open(
    server: MeteoServer, store: Store, page_: Path, now: datetime, expected: float
) -> None:
    server.set_page(page_, etag='"v1"')
    metrics = Metrics.create()
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], clock=at(now), metrics=metrics)
    try:
        results = [await poller.poll_once(), await poller.poll_once()]  # the second one a 304
    finally:
        await fetcher.aclose()
    assert [r.next_in for r in results] == [expected, expected]
    assert metrics.registry.get_sample_value("prodouane_poll_interval_seconds") == expected


async def test_the_interval_goes_back_to_calm_when_the_alert_ends(server: MeteoServer, store: Store) -> None:
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], clock=at(NOW), cadence=Cadence(calm=20, active=5))
    paces = []
    try:
        for name in ("01-calme.html", "02-alerte-delta-g.html", "05-fin-delta-g.html", "06-fin-ics2.html"):
            server.set_page(SAMPLES / name)
            paces.append((await poller.poll_once()).next_in)
    finally:
        await fetcher.aclose()
    assert paces == [20.0, 5.0, 5.0, 20.0]  # ICS2 stays open on the third page


@pytest.mark.parametrize(
    ("queued", "at_least"),
    [
        ({"status": 503, "headers": {"Retry-After": "120"}}, 120.0),
        (
            {
                "status": 429,
                "headers": {
                    "Retry-After": "Thu, 03 Dec 2026 09:05:00 GMT",
                    "Date": "Thu, 03 Dec 2026 09:00:00 GMT",
                },
            },
            300.0,
        ),
        ({"headers": {"Cache-Control": "public, max-age=45"}}, 45.0),
        ({"headers": {"Cache-Control": "max-age=90", "Age": "30"}}, 60.0),
    ],
)
async def test_the_server_s_wish_is_never_overtaken(
    server: MeteoServer, store: Store, queued: dict[str, Any], at_least: float
) -> None:
    server.set_page(SAMPLES / "01-calme.html", etag='"v1"')
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], clock=at(NOW))
    try:
        await poller.poll_once()
        server.queue(**queued)
        result = await poller.poll_once()
        assert result.next_in == at_least  # more than the calm 30 s or the first back-off (24-30 s)
        assert poller.until_due() > at_least - 5
        assert await poller.tick() is None  # not due: the scheduled run is skipped, nothing is asked
        assert len(server.requests) == 2
    finally:
        await fetcher.aclose()


async def test_a_304_s_cache_control_is_honoured_too(server: MeteoServer, store: Store) -> None:
    server.set_page(SAMPLES / "01-calme.html", etag='"v1"')
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], clock=at(NOW))
    try:
        await poller.poll_once()
        server.queue(headers={"Cache-Control": "max-age=40"})  # the page is unchanged: a 304 with it
        result = await poller.poll_once()
    finally:
        await fetcher.aclose()
    assert result.failure is None and result.next_in == 40.0


async def test_the_paced_job_polls_when_due_and_not_sooner(server: MeteoServer, store: Store) -> None:
    server.set_page(SAMPLES / "01-calme.html", etag='"v1"')
    fetcher = Fetcher(timeout=5)
    poller = Poller(store, fetcher, [server.url], clock=at(NOW), cadence=Cadence(calm=0.2, active=0.2))
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1
        await poller.tick()

    scheduler = build_scheduler()
    add_poll_job(scheduler, job, interval=5.0, due=poller.until_due)  # the heartbeat is far slower
    scheduler.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if len(server.requests) >= 3:
                break
        assert len(server.requests) >= 3  # the poller's 0.2 s pace, not the 5 s heartbeat
        server.queue(headers={"Cache-Control": "max-age=1"})
        count = len(server.requests)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(server.requests) >= count + 3:
                break
    finally:
        scheduler.shutdown(wait=False)
        await fetcher.aclose()
    times = [r.at for r in server.requests]
    assert runs == len(times)  # every run polled: none came before its time
    waited = [b - a for a, b in zip(times, times[1:], strict=False)]
    # after the max-age=1 answer the next poll waited about a second (not the 0.2 s pace); the times
    # are taken by the server as requests arrive, a few milliseconds from when the poller sent them
    assert max(waited[count - 1 :]) >= 0.95


async def test_a_poll_in_flight_at_shutdown_stops_without_a_logged_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    started = asyncio.Event()

    async def slow_poll() -> None:
        started.set()
        await asyncio.sleep(30)

    scheduler = build_scheduler()
    add_poll_job(scheduler, slow_poll, interval=60, due=lambda: 0.0)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 10)
    scheduler.shutdown(wait=False)  # as `run` stops: the poll in flight is cancelled
    for _ in range(20):
        await asyncio.sleep(0.05)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "poll interrupted by the shutdown" in caplog.text
