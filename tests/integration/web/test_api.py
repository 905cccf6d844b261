"""The routes for machines over HTTP: the Atom feed read by feedparser, the calendar by icalendar,
the JSON API's cursor and filters, ETags, and who may read them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar

from bot.bootstrap import bootstrap
from bot.settings import Settings
from bot.web import build_web_app
from relays.store import Store

from .conftest import LOOKED_AT, SCENARIO, Clock, fill, record

TOKEN = "status-page-token-0123456789"
GAMMA_NOTICE = """<html><body><h2>Messages</h2><article><h3>Interruption programmée - GAMMA</h3>
<p>Publié le 03/12/2026 à 14h00</p>
<p>Le téléservice GAMMA sera interrompu le jeudi 10 décembre 2026 de 20h00 à 23h00.</p>
</article></body></html>""".encode()
Client = TestClient[web.Request, web.Application]


def app_for(store: Store, clock: Clock, *, token: str | None = None, public: bool = False) -> web.Application:
    settings = Settings.defaults(status_token=token, api_public=public, poll_interval=60.0)
    return build_web_app(bootstrap(settings, store=store, clock=clock))


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


@pytest.fixture
async def client(store: Store, clock: Clock, client_for: Any) -> Client:
    """The first four sample pages recorded (one subscriber deactivated on the way: an admin
    event the machines must never see), the API public."""
    await fill(store, clock)
    made: Client = await client_for(app_for(store, clock, public=True))
    return made


async def test_the_atom_feed_is_read_by_feedparser_newest_first(client: Client) -> None:
    response = await client.get("/feed.atom")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(await response.read())
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10" and feed.feed.title.startswith("Météo des téléservices")
    titles = [e.title for e in feed.entries]
    assert titles == [
        "ℹ️ BIP N°2 — DELTA G (EDI) · ALERTE ROUGE",
        "⚫ ALERTE NOIRE — ICS2 (EDI/DTI)",
        "ℹ️ BIP N°1 — DELTA G (EDI) · ALERTE ROUGE",
        "🔴 ALERTE ROUGE — DELTA G (EDI)",
        "🛠 INTERRUPTION PROGRAMMÉE — DELTA G, DELTA X Import, DELTA X Export, DELTA T, ICS2 (EDI/DTI)",
    ]
    first = feed.entries[0]
    assert first.id == "urn:prodouane-relay:event:Af2379c0f8f991e07:bip:2"
    assert "Un correctif est en cours de déploiement" in first.content[0].value
    assert {t.term for t in first.tags} == {"bulletin", "DELTA G"}
    assert first.updated_parsed[:5] == (2026, 12, 3, 12, 33)


async def test_the_feed_filters_by_service_and_mode_and_speaks_english(client: Client) -> None:
    response = await client.get("/feed.atom", params=[("service", "ics2"), ("lang", "en")])
    feed = feedparser.parse(await response.read())
    assert [e.title for e in feed.entries] == [
        "⚫ BLACK ALERT — ICS2 (EDI/DTI)",
        "🛠 PLANNED INTERRUPTION — DELTA G, DELTA X Import, DELTA X Export, DELTA T, ICS2 (EDI/DTI)",
    ]
    dti = feedparser.parse(await (await client.get("/feed.atom?mode=DTI")).read())
    assert len(dti.entries) == 2  # DELTA G's alert is EDI only


async def test_the_calendar_is_read_by_icalendar(client: Client) -> None:
    response = await client.get("/interruptions.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(await response.read())
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == "I4d4e3e9471622c74@prodouane-relay"
    assert event.decoded("DTSTART") == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (0, "CONFIRMED")


async def test_a_withdrawn_interruption_is_cancelled_in_the_calendar_and_leaves_the_status(
    store: Store, clock: Clock, client_for: Any
) -> None:
    calm = (SCENARIO / "01-calme.html").read_text(encoding="utf-8")
    record(store, "calme", calm.encode(), datetime(2026, 12, 2, 15, 5, tzinfo=UTC))
    withdrawn = calm.replace(
        "Interruption programmée des services en ligne",
        "Interruption programmée des services en ligne annulée",
    ).replace("est prévue le", "initialement prévue le")
    withdrawn = withdrawn.replace("</h3>", "</h3><p>Cette interruption est annulée.</p>", 1)
    record(store, "annulation", withdrawn.encode(), datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    clock.now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    client = await client_for(app_for(store, clock, public=True))
    events = (await (await client.get("/api/v1/events")).json())["events"]
    kinds = [e["kind"] for e in events]
    assert kinds == ["interruption_planned", "interruption_cancelled"], kinds
    assert events[1]["interruption_id"] == events[0]["id"]
    (event,) = Calendar.from_ical(await (await client.get("/interruptions.ics")).read()).walk("VEVENT")
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (1, "CANCELLED")
    status = await (await client.get("/api/v1/status")).json()
    assert status["upcoming_interruptions"] == []


async def test_events_follow_a_cursor_and_never_show_admin_events(client: Client) -> None:
    seen: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = await (await client.get("/api/v1/events", params={"after": cursor, "limit": 2})).json()
        seen += page["events"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert [e["kind"] for e in seen] == [
        "interruption_planned",
        "alert_opened",
        "bulletin",
        "alert_opened",
        "bulletin",
    ]
    assert [e["cursor"] for e in seen] == sorted(e["cursor"] for e in seen)
    again = await (await client.get("/api/v1/events", params={"after": cursor})).json()
    assert again == {"events": [], "cursor": cursor, "more": False}
    bip = seen[2]
    assert (bip["alert_id"], bip["number"], bip["level"]) == ("Af2379c0f8f991e07", 1, "red")


async def test_events_filter_by_date_service_mode_and_kind(client: Client) -> None:
    async def kinds(**params: Any) -> list[str]:
        body = await (await client.get("/api/v1/events", params=params)).json()
        return [e["kind"] + ":" + ",".join(e["services"][:1]) for e in body["events"]]

    assert await kinds(since="2026-12-03T10:00:00Z") == [
        "bulletin:DELTA G",
        "alert_opened:ICS2",
        "bulletin:DELTA G",
    ]
    assert await kinds(since="2026-12-03T11:00:00+01:00") == [
        "bulletin:DELTA G",
        "alert_opened:ICS2",
        "bulletin:DELTA G",
    ]
    assert await kinds(service="Delt@ G", kind="alert_opened") == ["alert_opened:DELTA G"]
    assert await kinds(service="SOPRANO") == []  # a name the table does not know: kept as written
    assert await kinds(mode="dti") == ["interruption_planned:DELTA G", "alert_opened:ICS2"]


@pytest.mark.parametrize(
    "query",
    ["after=-1", "after=x", "limit=0", "limit=501", "since=yesterday", "mode=FAX", "kind=source_degraded"],
)
async def test_a_parameter_that_cannot_be_read_is_a_400_that_says_which(client: Client, query: str) -> None:
    response = await client.get(f"/api/v1/events?{query}")
    assert response.status == 400
    body = await response.json()
    assert body["error"].startswith("bad_") and query.split("=")[0] in body["detail"]


async def test_status_shows_open_alerts_upcoming_interruptions_and_the_source(client: Client) -> None:
    body = await (await client.get("/api/v1/status")).json()
    assert body["source"] == {
        "state": "ok",
        "last_ok_at": "2026-12-03T12:33:00+00:00",
        "consecutive_bad": 0,
        "bad_since": None,
    }
    assert [(a["services"], a["level"], a["bulletins"]) for a in body["open_alerts"]] == [
        (["DELTA G"], "red", 2),
        (["ICS2"], "black", 0),
    ]
    assert body["open_alerts"][0]["latest_bulletin"]["number"] == 2
    (interruption,) = body["upcoming_interruptions"]
    assert interruption["starts_at"] == "2026-12-08T08:00:00+00:00" and interruption["sequence"] == 0
    assert "subscribers" not in str(body) and "Ancien client" not in str(body)


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/status", "/feed.atom", "/interruptions.ics"])
async def test_an_unchanged_answer_is_a_304_until_something_changes(
    store: Store, clock: Clock, client_for: Any, path: str
) -> None:
    await fill(store, clock)
    client = await client_for(app_for(store, clock, public=True))
    first = await client.get(path)
    tag = first.headers["ETag"]
    assert first.status == 200 and first.headers["Cache-Control"] == "no-cache"
    again = await client.get(path, headers={"If-None-Match": tag})
    assert again.status == 304 and again.headers["ETag"] == tag and await again.read() == b""
    other = await client.get(path, headers={"If-None-Match": '"stale", W/' + tag})
    assert other.status == 304  # a list, and a weak copy of the same tag, still match
    record(store, "gamma", GAMMA_NOTICE, LOOKED_AT + timedelta(minutes=1))
    clock.now = LOOKED_AT + timedelta(minutes=2)
    changed = await client.get(path, headers={"If-None-Match": tag})
    assert changed.status == 200 and changed.headers["ETag"] != tag


async def test_a_private_api_wants_the_status_token_by_header_or_query(
    store: Store, clock: Clock, client_for: Any
) -> None:
    await fill(store, clock)
    client = await client_for(app_for(store, clock, token=TOKEN))
    for path in (
        "/api/v1/events",
        "/api/v1/status",
        "/api/v1/openapi.json",
        "/feed.atom",
        "/interruptions.ics",
    ):
        denied = await client.get(path)
        assert denied.status == 401 and denied.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await denied.json())["error"] == "unauthorized"
        wrong = await client.get(path, headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401
        by_header = await client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert by_header.status == 200 and by_header.headers["Cache-Control"] == "private, no-cache"
        assert "Access-Control-Allow-Origin" not in by_header.headers
        by_query = await client.get(path, params={"token": TOKEN})  # calendar apps, feed readers
        assert by_query.status == 200
    feed = await (await client.get("/feed.atom", params={"token": TOKEN, "service": "ICS2"})).text()
    assert TOKEN not in feed and "service=ICS2" in feed  # the self link never carries the token
    assert (await client.get("/")).status == 401  # the status page keeps its own rule


async def test_a_public_api_is_open_while_the_status_page_keeps_its_token(
    store: Store, clock: Clock, client_for: Any
) -> None:
    await fill(store, clock)
    client = await client_for(app_for(store, clock, token=TOKEN, public=True))
    response = await client.get("/api/v1/status")
    assert response.status == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    assert (await client.get("/")).status == 401


async def test_the_openapi_document_describes_every_machine_route(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/api/v1/events",
        "/api/v1/status",
        "/api/v1/openapi.json",
        "/feed.atom",
        "/interruptions.ics",
    }


async def test_a_store_that_cannot_be_read_is_a_503(tmp_path: Path, clock: Clock, client_for: Any) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'gone.sqlite3'}")
    client = await client_for(app_for(store, clock, public=True))
    store.engine.dispose()
    (tmp_path / "gone.sqlite3").unlink()
    (tmp_path / "gone.sqlite3").mkdir()  # the file is now a directory: nothing can open it
    response = await client.get("/api/v1/events")
    assert response.status == 503 and (await response.json())["error"] == "unavailable"
