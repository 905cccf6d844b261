"""A programmable stand-in for the Prodouane météo page, served on 127.0.0.1.

The poller's integration tests need a real HTTP peer that misbehaves on demand: conditional
requests answered with 304, gzip, 5xx, slow answers (timeouts), connections cut short, garbage.
:class:`MeteoServer` runs an ``aiohttp.web`` application on an ephemeral port in a background
thread with its own event loop, so the same server works from sync tests and from async tests
(whose loop it never touches)::

    with MeteoServer() as srv:
        srv.set_page(Path("tests/fixtures/meteo/redesign/01-calme.html"), etag='"v1"')
        srv.queue(status=500)            # the next request gets a 500 ...
        srv.queue(delay=5.0)             # ... the one after waits 5 s before the page
        httpx.get(srv.url)               # -> 500
        srv.requests[0].headers["accept-encoding"]

Queued responses are served once each, first in first out; when the queue is empty every request
gets the current page (``set_page``), with ``ETag``/``Last-Modified`` if given, a 304 for a
matching ``If-None-Match`` (or, without it, a not-older ``If-Modified-Since``), and gzip when the
client accepts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import gzip
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from aiohttp import web
from multidict import CIMultiDict

__all__ = ["MeteoServer", "QueuedResponse", "RecordedRequest"]

DEFAULT_CONTENT_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server saw it; ``headers`` is case-insensitive, ``at`` is monotonic."""

    method: str
    path: str
    headers: CIMultiDict[str]
    at: float
    wall: dt.datetime


@dataclass(frozen=True, slots=True)
class QueuedResponse:
    """A one-shot answer; fields left as None fall back to the current page."""

    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    delay: float = 0.0
    truncate: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Page:
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = DEFAULT_CONTENT_TYPE


def _http_date(value: str | dt.datetime | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("last_modified must be timezone-aware")
    return email.utils.format_datetime(value.astimezone(dt.UTC), usegmt=True)


def _parse_http_date(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match."""
    if header.strip() == "*":
        return True

    def opaque(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    return any(opaque(tag) == opaque(etag) for tag in header.split(","))


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and float(q[2:] or 0) == 0)
    return False


class MeteoServer:
    """Serves a scripted sequence of responses at ``path`` (default ``/meteo``) on 127.0.0.1."""

    def __init__(self, path: str = "/meteo") -> None:
        self.path = path
        self.requests: list[RecordedRequest] = []
        self._page = _Page()
        self._queue: deque[QueuedResponse] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None

    # -- scripting -------------------------------------------------------------------------

    def set_page(
        self,
        page: bytes | str | Path,
        etag: str | None = None,
        last_modified: str | dt.datetime | None = None,
        content_type: str = DEFAULT_CONTENT_TYPE,
    ) -> None:
        """Serve ``page`` (bytes, or a path to read) from now on; ``str`` is taken as a path."""
        body = page if isinstance(page, bytes) else Path(page).read_bytes()
        with self._lock:
            self._page = _Page(body, etag, _http_date(last_modified), content_type)

    def queue(
        self,
        status: int | None = None,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        delay: float = 0.0,
        truncate: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next unanswered request this way (once); unset fields come from the page.

        ``delay`` waits before answering (to provoke client timeouts); ``truncate`` declares a
        ``Content-Length`` larger than the body it sends, then closes the connection.
        """
        item = QueuedResponse(status, body, content_type, delay, truncate, dict(headers or {}))
        with self._lock:
            self._queue.append(item)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    @property
    def pending(self) -> int:
        """How many queued responses have not been served yet."""
        with self._lock:
            return len(self._queue)

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("MeteoServer is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def url(self) -> str:
        return self.base_url + self.path

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> MeteoServer:
        if self._thread is not None:
            raise RuntimeError("MeteoServer already started")
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to the starting thread, not lost
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="meteo-server", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)
        if failure or self._port is None:
            self._thread.join(timeout=5)
            self._loop.close()
            self._thread = self._loop = None
            raise RuntimeError("MeteoServer failed to start") from (failure[0] if failure else None)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None
        self._port = None

    def __enter__(self) -> MeteoServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> MeteoServer:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # aiohttp exposes no public accessor for the bound port
        assert isinstance(server, asyncio.base_events.Server)
        self._port = server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        assert self._stopping is not None and self._runner is not None
        self._stopping.set()  # wakes handlers sleeping on a queued delay
        await self._runner.cleanup()

    # -- handling --------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    request.method,
                    request.path_qs,
                    CIMultiDict(request.headers),
                    time.monotonic(),
                    dt.datetime.now(dt.UTC),
                )
            )
            scripted = self._queue.popleft() if self._queue else QueuedResponse()
            page = self._page

        if scripted.delay > 0:
            assert self._stopping is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), scripted.delay)

        if scripted.truncate:
            return await self._truncated(request, scripted, page)

        if scripted.status is not None or scripted.body is not None:
            status = scripted.status if scripted.status is not None else 200
            body = scripted.body if scripted.body is not None else b""
            content_type = scripted.content_type or page.content_type
            headers = dict(scripted.headers)
        else:
            not_modified = self._not_modified(request, page)
            headers = dict(scripted.headers)
            if page.etag:
                headers["ETag"] = page.etag
            if page.last_modified:
                headers["Last-Modified"] = page.last_modified
            if not_modified:
                return web.Response(status=304, headers=headers)
            status, body, content_type = 200, page.body, scripted.content_type or page.content_type

        headers["Content-Type"] = content_type
        headers["Vary"] = "Accept-Encoding"
        if body and _accepts_gzip(request.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(status=status, body=body, headers=headers)

    @staticmethod
    def _not_modified(request: web.Request, page: _Page) -> bool:
        if request.method not in ("GET", "HEAD"):
            return False
        inm = request.headers.get("If-None-Match")
        if inm is not None:  # takes precedence over If-Modified-Since (RFC 9110 §13.2.2)
            return page.etag is not None and _etag_matches(inm, page.etag)
        ims = request.headers.get("If-Modified-Since")
        if ims is not None and page.last_modified is not None:
            since, modified = _parse_http_date(ims), _parse_http_date(page.last_modified)
            return since is not None and modified is not None and modified <= since
        return False

    @staticmethod
    async def _truncated(request: web.Request, scripted: QueuedResponse, page: _Page) -> web.StreamResponse:
        full = scripted.body if scripted.body is not None else page.body
        sent = full[: max(0, len(full) // 2)]
        response = web.StreamResponse(status=scripted.status or 200, headers=scripted.headers)
        response.content_type = (scripted.content_type or page.content_type).split(";")[0]
        response.content_length = max(len(full), len(sent) + 1) + 1024
        await response.prepare(request)
        await response.write(sent)
        transport = request.transport
        if transport is not None:
            transport.close()
        raise asyncio.CancelledError  # tells aiohttp the exchange is over; nothing more is sent
