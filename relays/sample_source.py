"""The bundled sample scenario, served on 127.0.0.1 like the real météo page.

``demo`` and the tests poll it through the real pipeline (httpx → parser → lifecycle → store)
with no network and no tokens. Each GET serves the next page of the scenario (the last one then
repeats), with an ETag so conditional GETs get their 304s.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from aiohttp import web


def sample_pages(directory: Path | None = None) -> list[tuple[str, bytes]]:
    """(name, body) of every page of the scenario, in name order."""
    if directory is not None:
        return [(p.name, p.read_bytes()) for p in sorted(directory.glob("*.html"))]
    root = resources.files("relays") / "samples" / "scenario"
    names = sorted(e.name for e in root.iterdir() if e.name.endswith(".html"))
    return [(n, (root / n).read_bytes()) for n in names]


class SampleSite:
    """An aiohttp server on 127.0.0.1 stepping through pages, one per request."""

    def __init__(self, pages: list[tuple[str, bytes]]) -> None:
        if not pages:
            raise ValueError("no sample pages")
        self.pages = pages
        self.index = 0  # the page the next request gets
        self.served: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def finished(self) -> bool:
        return self.index >= len(self.pages)

    async def _handle(self, request: web.Request) -> web.Response:
        name, body = self.pages[min(self.index, len(self.pages) - 1)]
        self.index += 1
        self.served.append(name)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="text/html", charset="utf-8", headers={"ETag": etag})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/meteo", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/meteo"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
