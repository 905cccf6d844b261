"""The relay's web side, served by ``run``: health for the orchestrator, metrics, a status page for staff.

    GET /healthz        200 "ok" while the process runs (liveness)                      open
    GET /readyz         200 when the store answers and the last good poll is recent      open
    GET /metrics        Prometheus text format (relays.metrics)                          open
    GET /               status page: source health, open alerts, interruptions, outbox   token
    GET /alerts/{id}    one alert's bulletins and per-subscriber delivery audit          token
    GET /api/v1/…, /feed.atom, /interruptions.ics   for machines (bot.api)   token unless api_public

When ``status_token`` is set the two pages want it (compared in constant time) as
``Authorization: Bearer …`` or as the session cookie it is exchanged for: a link with
``?token=…`` is answered by a redirect to the same page without it, setting an HttpOnly,
SameSite=Strict cookie (an HMAC of the token, never the token itself), so the token does not stay
in the address bar, the history or a proxy's log. The probes and metrics stay open because
orchestrators and Prometheus scrape them without credentials and they show no client data; the
chat platforms' webhooks (``routes``) stay open too, because they verify their own signatures
(Telegram's secret token, Slack's signing secret) and never carry the status token — bind the port
to a private network or put it behind a proxy if even those must be hidden. ``run`` refuses to
serve beyond loopback without a token unless ``status_public`` says it is meant.

Pages are server-rendered Jinja2 with autoescape on (alert texts come from a scraped page and
subscribers' names from users: everything is escaped), inline CSS and no script or external asset,
so they render offline and on a phone; a Content-Security-Policy forbids anything else. The store
is synchronous, so every read runs in a worker thread. The access log never records query strings
(they may carry the token).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from relays import queries
from relays.errors import ConfigError, StoreError
from relays.render import paris
from relays.store import Store

from .api import add_machine_routes, is_machine_path
from .bootstrap import Relay

log = logging.getLogger(__name__)

READY_INTERVALS = 3  # the last good poll may be this many poll intervals old
TEMPLATES = Path(__file__).with_name("templates")
PROBES = ("/healthz", "/readyz", "/metrics")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a ?token= URL must not leak through links
    "Cache-Control": "no-store",
}
#: A POST route the web server serves for a chat front-end (its webhook): path, handler.
Route = tuple[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


@dataclass(frozen=True, slots=True)
class Readiness:
    """What ``/readyz`` needs besides the store: when the source was last read successfully."""

    last_success: datetime | None


def store_readiness(store: Store, source_name: str = "meteo") -> Callable[[], Readiness]:
    """Readiness from the store's record of the source (right across restarts and instances)."""

    def read() -> Readiness:
        return Readiness(last_success=queries.last_success(store, source_name))

    return read


# --- formatting for the templates -------------------------------------------------------------
#: The source's health as staff read it.
HEALTH_LABELS = {
    queries.HealthState.NEVER: "Aucun relevé réussi de la météo des téléservices",
    queries.HealthState.DEGRADED: "Source dégradée : la page ne peut plus être lue",
    queries.HealthState.LATE: "Relevés en retard",
    queries.HealthState.OK: "Météo des téléservices lue normalement",
}
KIND_LABELS = {
    "alert_opened": "Alerte ouverte",
    "bulletin": "Bulletin d'information",
    "alert_closed": "Fin d'alerte",
    "interruption_planned": "Interruption programmée",
    "source_degraded": "Source dégradée",
    "source_recovered": "Source rétablie",
    "subscriber_deactivated": "Abonné désactivé",
    "store_recovered": "Stockage rétabli",
}
LEVELS = {"red": "Alerte rouge", "black": "Alerte noire"}
#: A storage fault's reason (relays.storage) as staff read it.
FAULTS = {
    "full": "Le disque est plein.",
    "read_only": "La base refuse les écritures (lecture seule ou droits retirés).",
    "corrupt": "Le fichier de la base est endommagé : restaurez une sauvegarde.",
    "io_error": "Le disque a refusé une lecture ou une écriture.",
    "unreachable": "La base ne répond pas.",
    "auth": "La base refuse les identifiants du relais.",
}
#: A delivery status as staff read it, and the badge colour class the template gives it.
DELIVERY_STATUS = {
    "sent": ("envoyé", "sent"),
    "pending": ("en attente", "pending"),
    "sending": ("en cours", "pending"),
    "failed": ("refusé", "dead"),
    "dead": ("échec", "dead"),
    "skipped": ("annulé", "none"),
    "none": ("aucun", "none"),
    "pending alert": ("alerte en cours", "none"),
}


def event_label(line: queries.HistoryLine | queries.DeadLetter) -> str:
    """``BIP n°2``, ``Fin d'alerte (déduite)``, ``Alerte ouverte``…"""
    if line.kind == "bulletin" and line.number is not None:
        return f"BIP n°{line.number}"
    if line.kind == "alert_closed" and line.inferred:
        return "Fin d'alerte (déduite)"
    return KIND_LABELS.get(line.kind, line.kind)


def duration(delta: timedelta) -> str:
    """``3 j 4 h``, ``2 h 05 min``, ``12 min``, ``40 s`` (absolute value)."""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} j {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min" if minutes else f"{secs} s"


def age(moment: datetime | None, now: datetime) -> str:
    """``il y a 2 h 05 min`` or, for a moment ahead, ``dans 3 j 4 h``."""
    if moment is None:
        return "—"
    delta = now - moment
    return f"il y a {duration(delta)}" if delta >= timedelta(0) else f"dans {duration(delta)}"


def since(moment: datetime, now: datetime) -> str:
    """``depuis 2 h 05 min``; for a moment ahead of now (the site's or our clock is off), says so
    rather than counting backwards."""
    if moment > now:
        return f"publication datée de {duration(moment - now)} dans le futur (horloge décalée)"
    return f"depuis {duration(now - moment)}"


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        paris=lambda moment: paris(moment) if moment else "—",
        duration=duration,
        fromiso=lambda value: datetime.fromisoformat(value) if value else None,
        delivery=lambda s: DELIVERY_STATUS.get(s, (s, "none")),
        event_label=event_label,
        health_label=HEALTH_LABELS.get,
        level_label=lambda level: LEVELS.get(level or "", "Niveau non précisé"),
        fault_label=lambda reason: FAULTS.get(reason, "La base a échoué."),
    )
    env.globals.update(age=age, since=since)
    return env


# --- the application --------------------------------------------------------------------------
COOKIE = "prodouane_status"
COOKIE_DAYS = 30


def _cookie_value(token: str) -> str:
    """What the session cookie holds: an HMAC of the token (the token itself never leaves the URL)."""
    return hmac.new(token.encode(), b"prodouane-relay status session", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _token_ok(request: web.Request, expected: str) -> bool:
    """The Bearer header or the session cookie (a ``?token=`` link is exchanged first)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return _same(header[7:].strip(), expected)
    return _same(request.cookies.get(COOKIE, ""), _cookie_value(expected))


def _exchange(request: web.Request, token: str) -> web.StreamResponse:
    """A valid ``?token=`` link: the cookie, and a redirect to the same address without the token."""
    query = [(k, v) for k, v in request.query.items() if k != "token"]
    location = request.path + (f"?{urlencode(query)}" if query else "")
    response = web.Response(status=303, headers={"Location": location})
    secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    response.set_cookie(
        COOKIE,
        _cookie_value(token),
        max_age=COOKIE_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
    return response


def build_web_app(
    relay: Relay, *, routes: Sequence[Route] = (), readiness: Callable[[], Readiness] | None = None
) -> web.Application:
    """The aiohttp application of ``run`` on the relay's parts; see the module docstring for its routes.

    ``routes`` are the POST routes the chat front-ends need (their webhooks); ``readiness`` tells
    when the source was last read (by default, from the store).
    """
    store, metrics, clock, source_name = relay.store, relay.metrics, relay.clock, relay.source_name
    settings = relay.settings
    status_token = settings.status_token.get_secret_value() if settings.status_token else None
    poll_interval = settings.poll_interval_calm  # the longest pace when all is well
    readiness = readiness or store_readiness(store, source_name)
    env = templates()
    max_age = timedelta(seconds=READY_INTERVALS * poll_interval)
    refresh = max(30, int(poll_interval))

    def page(name: str, status: int = 200, **context: Any) -> web.Response:
        body = env.get_template(name).render(refresh=refresh, **context)
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")

    open_paths = frozenset(PROBES) | {path for path, _ in routes}

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # probes, the chat platforms' webhooks (they verify their own signatures) and bot.api's
        # routes (they guard themselves: a feed reader can only send ?token=) are not ours to guard
        guarded = request.path not in open_paths and not is_machine_path(request.path)
        given = request.query.get("token")
        response: web.StreamResponse
        if status_token and guarded and given is not None and _same(given, status_token):
            response = _exchange(request, status_token)
        elif status_token and guarded and not _token_ok(request, status_token):
            response = page("denied.html", status=401, now=clock())
            response.headers["WWW-Authenticate"] = 'Bearer realm="prodouane-relay"'
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # 404/405 from the router: same headers, then re-raised
                exc.headers.update(SECURITY_HEADERS)
                raise
        for name, value in SECURITY_HEADERS.items():  # a route may set its own Cache-Control
            response.headers.setdefault(name, value)
        return response

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        store_error = await asyncio.to_thread(queries.ping, store)
        if store_error is not None:
            log.warning("readiness: the store does not answer (%s)", store_error)
        fault = store.health.fault  # a write failed (disk full, writes refused…) and none went through since
        try:
            last = (await asyncio.to_thread(readiness)).last_success
        except Exception as exc:  # a broken readiness source is "not ready", with its reason logged
            log.warning("readiness: cannot tell the last successful poll: %s", exc)
            last = None
        now = clock()
        poll_age = (now - last).total_seconds() if last else None
        poll_ok = last is not None and now - last <= max_age
        store_ok = store_error is None and fault is None
        # A late poll is the store's doing while it cannot be written: blame the store only.
        checks = (("store", store_ok), ("poll", poll_ok or not store_ok))
        failed = [name for name, ok in checks if not ok]
        body = {
            "status": "not ready" if failed else "ready",
            "failed": failed,
            "checks": {
                "store": {
                    "ok": store_ok,
                    "error": store_error or (fault.message if fault else None),
                    "reason": fault.reason if fault else ("unreachable" if store_error else None),
                    "since": fault.since.isoformat() if fault else None,
                },
                "poll": {
                    "ok": poll_ok,
                    "last_success": last.isoformat() if last else None,
                    "age_seconds": poll_age,
                    "max_age_seconds": max_age.total_seconds(),
                },
            },
        }
        return web.json_response(body, status=503 if failed else 200)

    async def metrics_page(request: web.Request) -> web.Response:
        body = await asyncio.to_thread(metrics.render)
        return web.Response(body=body, headers={"Content-Type": metrics.content_type})

    async def status_page(request: web.Request) -> web.Response:
        now = clock()
        try:
            status = await asyncio.to_thread(
                queries.status, store, source_name=source_name, now=now, max_age=max_age
            )
        except StoreError:
            log.exception("status page: the store cannot be read")
            return page("unavailable.html", status=503, now=now)
        return page("status.html", s=status, now=now, fault=store.health.fault)

    async def alert_page(request: web.Request) -> web.Response:
        now = clock()
        try:
            alert_id = request.match_info["alert_id"]
            view = await asyncio.to_thread(queries.alert_page, store, alert_id, now=now)
        except StoreError:
            log.exception("alert page: the store cannot be read")
            return page("unavailable.html", status=503, now=now)
        if view is None:
            return page("not_found.html", status=404, now=now)
        return page("alert.html", v=view, now=now)

    app = web.Application(middlewares=[guard])
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/", status_page)
    app.router.add_get("/alerts/{alert_id}", alert_page)
    add_machine_routes(app, relay)
    for path, handler in routes:  # the chat platforms' webhooks (they verify their own secrets)
        app.router.add_post(path, handler)
    return app


class AccessLogger(AbstractAccessLogger):
    """One line per request without the query string (it may carry the token); probes at DEBUG."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        level = logging.DEBUG if request.path in PROBES else logging.INFO
        self.logger.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            response.status,
            extra={"http_status": response.status, "duration_ms": round(time * 1000, 1)},
        )


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve ``app`` on host:port in the running loop; stop it with :func:`stop_web`.

    ``port=0`` picks a free port: read it from ``runner.addresses``.
    """
    runner = web.AppRunner(
        app,
        access_log_class=AccessLogger,
        access_log=logging.getLogger("bot.web.access"),
        handle_signals=False,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:  # the port is taken, the host is not ours: one line, not a traceback
        await runner.cleanup()
        raise ConfigError(
            f"cannot listen on {host}:{port} (PRODOUANE_RELAY_WEB_HOST/WEB_PORT): {exc.strerror or exc}",
            reason="web_port",
        ) from exc
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("web server listening on http://%s:%s", host, bound)
    return runner


async def stop_web(runner: web.AppRunner) -> None:
    """Stop accepting, let requests in flight finish, close the app (idempotent)."""
    await runner.cleanup()
