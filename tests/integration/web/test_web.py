"""The web side over HTTP: probes, metrics, the token, and a status page that shows text as text."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.web import Readiness, build_web_app, start_web, stop_web, store_readiness
from relays.metrics import Metrics
from relays.store import Store, make_engine

from .conftest import LOOKED_AT, Clock, fill, hostile_page, record

TOKEN = "status-page-token-0123456789"
Client = TestClient[web.Request, web.Application]


def app_for(
    store: Store,
    clock: Clock,
    *,
    token: str | None = None,
    readiness: Callable[[], Readiness] | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    relay = bootstrap(
        Settings.defaults(status_token=token, poll_interval=60.0), store=store, clock=clock, metrics=metrics
    )
    return build_web_app(relay, readiness=readiness)


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., Any]]:
    clients: list[Client] = []

    async def make(app: web.Application) -> Client:
        client: Client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def test_healthz_answers_while_the_process_runs(store: Store, clock: Clock, client_for: Any) -> None:
    client = await client_for(app_for(store, clock, token=TOKEN))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.text() == "ok\n"


async def test_readyz_is_ready_when_the_store_answers_and_the_last_poll_is_recent(
    store: Store, clock: Clock, client_for: Any
) -> None:
    await fill(store, clock)
    client = await client_for(app_for(store, clock))
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 200, body
    assert body["status"] == "ready" and body["failed"] == []
    assert body["checks"]["poll"]["age_seconds"] == 60.0
    assert body["checks"]["poll"]["max_age_seconds"] == 180.0


async def test_readyz_fails_on_the_poll_check_when_the_last_success_is_three_intervals_old(
    store: Store, clock: Clock, client_for: Any
) -> None:
    await fill(store, clock)
    clock.now = LOOKED_AT + timedelta(minutes=3)  # 4 minutes after the last poll, interval 60 s
    client = await client_for(app_for(store, clock))
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 503
    assert body["failed"] == ["poll"]
    assert body["checks"]["store"]["ok"] is True


async def test_readyz_fails_when_the_source_was_never_read(
    store: Store, clock: Clock, client_for: Any
) -> None:
    client = await client_for(app_for(store, clock))
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["checks"]["poll"]["last_success"] is None


async def test_readyz_names_the_store_when_it_does_not_answer(
    tmp_path: Path, clock: Clock, client_for: Any
) -> None:
    broken = Store(make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}"))
    recent = clock.now - timedelta(seconds=5)
    client = await client_for(app_for(broken, clock, readiness=lambda: Readiness(last_success=recent)))
    response = await client.get("/readyz")
    body = await response.json()
    assert response.status == 503
    assert body["failed"] == ["store"]
    assert body["checks"]["store"]["error"] == "OperationalError"


async def test_metrics_expose_every_family_in_prometheus_format(
    store: Store, clock: Clock, client_for: Any
) -> None:
    metrics = Metrics.create(store)
    channels = await fill(store, clock, metrics)
    metrics.record_poll(True)
    metrics.record_poll(False, "captcha")
    metrics.record_events(["alert_opened"])
    client = await client_for(app_for(store, clock, token=TOKEN, metrics=metrics))
    response = await client.get("/metrics")  # open even with a token set
    text = await response.text()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    for line in (
        'prodouane_polls_total{outcome="ok"} 1.0',
        'prodouane_parse_failures_total{reason="captcha"} 1.0',
        'prodouane_events_total{kind="alert_opened"} 1.0',
        f'prodouane_deliveries_total{{channel="telegram",outcome="sent"}} '
        f"{float(len(channels['telegram'].delivered))}",
        f'prodouane_deliveries_total{{channel="slack",outcome="sent"}} '
        f"{float(len(channels['slack'].delivered))}",
        'prodouane_delivery_latency_seconds_count{channel="slack"}',
        'prodouane_outbox_depth{status="dead"} 2.0',
        "prodouane_open_alerts 2.0",
        "prodouane_last_successful_poll_timestamp_seconds 1.79630118e+09",
    ):
        assert line in text


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/", {}, 401),
        ("/?token=wrong", {}, 401),
        ("/", {"Authorization": "Bearer wrong"}, 401),
        (f"/?token={TOKEN}", {}, 200),
        ("/", {"Authorization": f"Bearer {TOKEN}"}, 200),
        ("/", {"Authorization": f"bearer {TOKEN}"}, 200),
        ("/alerts/unknown", {}, 401),
        (f"/alerts/unknown?token={TOKEN}", {}, 404),
        ("/healthz", {}, 200),
        ("/metrics", {}, 200),
    ],
)
async def test_the_token_guards_the_pages_but_not_the_probes(
    store: Store, clock: Clock, client_for: Any, path: str, headers: dict[str, str], status: int
) -> None:
    client = await client_for(app_for(store, clock, token=TOKEN))
    response = await client.get(path, headers=headers)
    assert response.status == status
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Accès refusé" in await response.text()


async def test_without_a_token_the_pages_are_open(store: Store, clock: Clock, client_for: Any) -> None:
    client = await client_for(app_for(store, clock))
    assert (await client.get("/")).status == 200


async def test_a_token_link_is_exchanged_once_for_a_session_cookie_and_a_clean_address(
    store: Store, clock: Clock, client_for: Any
) -> None:
    await fill(store, clock)
    client = await client_for(app_for(store, clock, token=TOKEN))
    alert_id = store.open_alerts()[0].id
    exchange = await client.get(f"/alerts/{alert_id}?token={TOKEN}&x=1", allow_redirects=False)
    assert exchange.status == 303 and exchange.headers["Location"] == f"/alerts/{alert_id}?x=1"
    cookie = exchange.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert TOKEN not in cookie  # the cookie holds an HMAC of the token, not the token
    page = await (await client.get("/")).text()  # the session goes on without the token
    assert f'href="/alerts/{alert_id}"' in page and "token=" not in page
    assert (await client.get(f"/alerts/{alert_id}")).status == 200
    client.session.cookie_jar.clear()
    assert (await client.get("/")).status == 401
    forged = await client.get("/", headers={"Cookie": "prodouane_status=forged"})
    assert forged.status == 401


async def test_hostile_alert_text_is_shown_as_text(store: Store, clock: Clock, client_for: Any) -> None:
    record(store, "hostile", hostile_page(), clock.now)
    client = await client_for(app_for(store, clock))
    response = await client.get("/")
    page = await response.text()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "<script" not in page and "<img" not in page and "<b>gras" not in page
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none' covers it
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    alert_id = store.open_alerts()[0].id
    detail = await (await client.get(f"/alerts/{alert_id}")).text()
    assert "<script" not in detail and "&lt;script&gt;" in detail


async def test_an_alert_published_ahead_of_our_clock_is_not_said_to_be_days_old(
    store: Store, clock: Clock, client_for: Any
) -> None:
    await fill(store, clock)
    delta_g = next(a for a in store.open_alerts() if a.services == ("DELTA G",))
    assert delta_g.published_at is not None
    clock.now = delta_g.published_at - timedelta(days=3)  # our clock, or the site's, is off
    page = await (await (await client_for(app_for(store, clock))).get("/")).text()
    assert "publication datée de 3 j 0 h dans le futur (horloge décalée)" in page
    assert "depuis 3 j" not in page


async def test_the_alert_page_shows_who_was_told(store: Store, clock: Clock, client_for: Any) -> None:
    await fill(store, clock)
    client = await client_for(app_for(store, clock))
    delta_g = next(a for a in store.open_alerts() if a.services == ("DELTA G",))
    page = await (await client.get(f"/alerts/{delta_g.id}")).text()
    assert "Transitaire Dupont (EDI)" in page and "Commissionnaire Martin" in page
    assert "Ancien client" not in page  # subscribed to ICS2 only
    assert "BIP n°1" in page and "BIP n°2" in page
    assert "envoyé" in page and "alerte en cours" in page


async def test_a_store_that_cannot_be_read_gives_a_503_page(
    tmp_path: Path, clock: Clock, client_for: Any
) -> None:
    broken = Store(make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}"))
    client = await client_for(app_for(broken, clock))
    response = await client.get("/")
    assert response.status == 503
    assert "ne répond pas" in await response.text()


async def test_a_real_server_starts_stops_and_never_logs_the_query_token(
    store: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    runner = await start_web(app_for(store, clock, token=TOKEN), "127.0.0.1", 0)
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.DEBUG, logger="bot.web.access"):
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                async with session.get(f"http://127.0.0.1:{port}/?token={TOKEN}") as response:
                    assert response.status == 200 and str(response.url).endswith(f":{port}/")
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200
    finally:
        await stop_web(runner)
    access = [r for r in caplog.records if r.name == "bot.web.access"]
    assert [r.getMessage() for r in access] == ["GET / 303", "GET / 200", "GET /healthz 200"]
    assert [r.levelno for r in access] == [logging.INFO, logging.INFO, logging.DEBUG]
    assert TOKEN not in caplog.text
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz"):
            pass


def test_readiness_from_the_store_reads_the_source_row(store: Store) -> None:
    assert store_readiness(store)().last_success is None
    at = datetime.fromisoformat("2026-12-03T09:35:00+00:00")
    record(store, "page", hostile_page(), at)
    assert store_readiness(store)().last_success == at
