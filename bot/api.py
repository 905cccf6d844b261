"""The relay for machines: the web routes an EDI platform, a feed reader or a calendar reads.

    GET /api/v1/events        public events, oldest first, from a cursor (`after`) or a date (`since`)
    GET /api/v1/status        open alerts, upcoming interruptions, the source's health
    GET /api/v1/openapi.json  the OpenAPI document of these routes (bot.openapi)
    GET /feed.atom            the 50 newest public events, Atom 1.0 (relays.feeds)
    GET /interruptions.ics    planned interruptions, iCalendar (relays.calendar)

Public events only — never a subscriber, a delivery or an admin event. Every answer carries a
strong ETag computed from its body, and ``If-None-Match`` with the current one gets 304, so a
machine polling every minute costs a few bytes while nothing changes.

Who may read: with ``api_public`` (``PRODOUANE_RELAY_API_PUBLIC=true``) anyone who reaches the
port; otherwise the status page's rule: when ``status_token`` is set, ``Authorization: Bearer
<token>`` or ``?token=<token>`` (calendar apps and feed readers cannot send headers); when it is
not set, the web server is open to whoever reaches it (it listens on 127.0.0.1 by default).
:func:`is_machine_path` tells the status page's guard to leave these routes to this module.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from knowledge.services import canonical, find_services
from relays import calendar, feeds, queries
from relays.errors import StoreError, UsageError
from relays.snapshot import MODES

from .bootstrap import Relay
from .openapi import document

__all__ = ["FEED_SIZE", "add_machine_routes", "is_machine_path"]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"
ROOT_PATHS = ("/feed.atom", "/interruptions.ics")
FEED_SIZE = 50
MAX_LIMIT = 500
MAX_CURSOR = 2**62
READY_INTERVALS = 3  # as the status page: no good read for three poll intervals is "late"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_machine_path(path: str) -> bool:
    """Whether ``path`` is one of this module's routes (they apply their own access rule)."""
    return path in ROOT_PATHS or path.startswith(API_PREFIX)


# --- reading the query ----------------------------------------------------------------------------
def _services(names: list[str]) -> tuple[str, ...]:
    """Téléservices as the store spells them; a name the table does not know is kept as written
    (DGDDI names some we do not know, and the relay keeps those as written too)."""
    out: list[str] = []
    for name in names:
        if not name:
            raise UsageError("service must name a téléservice", reason="bad_service")
        name = name.strip()
        found = canonical(name)
        out.extend([found] if found else find_services(name) or [name])
    return tuple(dict.fromkeys(out))


def _filter(query: MultiMapping[str]) -> feeds.Filter:
    modes = tuple(dict.fromkeys(m.strip().upper() for m in query.getall("mode", [])))
    for mode in modes:
        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r} (EDI or DTI)", reason="bad_mode")
    kinds = tuple(dict.fromkeys(query.getall("kind", [])))
    for kind in kinds:
        if kind not in feeds.PUBLIC_KINDS:
            raise UsageError(
                f"unknown kind {kind!r} (one of {', '.join(feeds.PUBLIC_KINDS)})", reason="bad_kind"
            )
    return feeds.Filter(services=_services(query.getall("service", [])), modes=modes, kinds=kinds)


def _int(query: MultiMapping[str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name} must be an integer", reason=f"bad_{name}") from None
    if not low <= value <= high:
        raise UsageError(f"{name} must be between {low} and {high}", reason=f"bad_{name}")
    return value


_RFC3339 = re.compile(
    r"(?P<year>\d{4})-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:(?P<second>\d{2})(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?"
)


def _moment(raw: str | None) -> datetime | None:
    """An RFC 3339 date-time (``Z`` or an offset; one without is read as UTC). A leap second is
    read as the second before it; year 0000 as the earliest moment."""
    if raw is None:
        return None
    text = raw.strip()
    found = _RFC3339.fullmatch(text)
    if found is None:
        raise UsageError(f"since {raw!r} is not an RFC 3339 date-time", reason="bad_since")
    if found["year"] == "0000":
        return datetime.min.replace(tzinfo=UTC)
    if found["second"] == "60":
        text = text[: found.start("second")] + "59" + text[found.end("second") :]
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise UsageError(f"since {raw!r} is not an RFC 3339 date-time", reason="bad_since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # at the edges of the calendar: before or after everything
        return datetime.min.replace(tzinfo=UTC) if moment.year < 2 else datetime.max.replace(tzinfo=UTC)


def _lang(query: MultiMapping[str]) -> str:
    lang = query.get("lang", "fr")
    if lang not in ("fr", "en"):
        raise UsageError("lang must be fr or en", reason="bad_lang")
    return lang


# --- answering ------------------------------------------------------------------------------------
def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _error(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=_json_bytes({"error": error, "detail": detail}),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _self_url(request: web.Request) -> str:
    """The URL asked for, without the token (it must never be written into a feed)."""
    query = [(k, v) for k, v in request.query.items() if k != "token"]
    return str(request.url.with_query(query))


def add_machine_routes(app: web.Application, relay: Relay) -> None:
    """Add the machine routes to the relay's web app (see the module docstring)."""
    settings, store, clock, source_name = relay.settings, relay.store, relay.clock, relay.source_name
    public = settings.api_public
    token = settings.status_token.get_secret_value() if settings.status_token else None
    max_age = timedelta(seconds=READY_INTERVALS * settings.poll_interval_calm)
    openapi_body = _json_bytes(document())

    def allowed(request: web.Request) -> bool:
        if public or token is None:
            return True
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header[:7].lower() == "bearer " else request.query.get("token", "")
        return hmac.compare_digest(given.encode(), token.encode())

    def answer(request: web.Request, body: bytes, content_type: str) -> web.Response:
        tag = feeds.etag(body)
        headers = {"ETag": tag, "Cache-Control": "no-cache" if public else "private, no-cache"}
        if public:
            headers["Access-Control-Allow-Origin"] = "*"
        if feeds.etag_matches(request.headers.get("If-None-Match"), tag):
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)

    def route(build: Callable[[web.Request], Awaitable[tuple[bytes, str]]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            if not allowed(request):
                return _error(
                    401,
                    "unauthorized",
                    "send Authorization: Bearer <status token> (or ?token=)",
                    {"WWW-Authenticate": 'Bearer realm="prodouane-relay"'},
                )
            try:
                body, content_type = await build(request)
            except UsageError as exc:
                return _error(400, exc.reason, str(exc))
            except StoreError:
                log.exception("%s: the store cannot be read", request.path)
                return _error(503, "unavailable", "the relay's store cannot be read; try again later")
            return answer(request, body, content_type)

        return handler

    async def events(request: web.Request) -> tuple[bytes, str]:
        query = request.query
        wanted = _filter(query)
        after = _int(query, "after", 0, 0, MAX_CURSOR)
        limit = _int(query, "limit", 100, 1, MAX_LIMIT)
        since = _moment(query.get("since"))
        page = await asyncio.to_thread(
            queries.public_events,
            store,
            kinds=feeds.PUBLIC_KINDS,
            keep=wanted.matches,
            after=after,
            since=since,
            limit=limit,
        )
        items = [{"cursor": seq, **feeds.record(event)} for seq, event in page.events]
        cursor = page.events[-1][0] if page.events else after
        return _json_bytes({"events": items, "cursor": cursor, "more": page.more}), "application/json"

    async def status(request: web.Request) -> tuple[bytes, str]:
        now = clock()

        def read() -> dict[str, Any]:
            source = next((s for s in queries.sources(store) if s.name == source_name), None)
            health = queries.health(source, now=now, max_age=max_age)
            alerts = queries.open_alerts(store)
            ahead = calendar.upcoming(calendar.series(queries.interruption_events(store)), now)
            return {
                "source": feeds.health_record(health),
                "open_alerts": [feeds.alert_record(a) for a in alerts],
                "upcoming_interruptions": [feeds.interruption_record(s) for s in ahead],
            }

        return _json_bytes(await asyncio.to_thread(read)), "application/json"

    async def atom(request: web.Request) -> tuple[bytes, str]:
        wanted, lang = _filter(request.query), _lang(request.query)
        page = await asyncio.to_thread(
            queries.public_events,
            store,
            kinds=feeds.PUBLIC_KINDS,
            keep=wanted.matches,
            newest=True,
            limit=FEED_SIZE,
        )
        body = feeds.atom([event for _, event in page.events], self_url=_self_url(request), lang=lang)
        return body, "application/atom+xml"

    async def ics(request: web.Request) -> tuple[bytes, str]:
        lang, now = _lang(request.query), clock()
        found = await asyncio.to_thread(queries.interruption_events, store)
        return calendar.ical(calendar.series(found), now=now, lang=lang), "text/calendar"

    async def openapi(request: web.Request) -> tuple[bytes, str]:
        return openapi_body, "application/json"

    app.router.add_get(API_PREFIX + "events", route(events))
    app.router.add_get(API_PREFIX + "status", route(status))
    app.router.add_get(API_PREFIX + "openapi.json", route(openapi))
    app.router.add_get("/feed.atom", route(atom))
    app.router.add_get("/interruptions.ics", route(ics))
