"""Fetching the météo page politely with httpx: conditional GET, gzip, a named User-Agent.

Each answer (a 200, a 304, an error status) carries its pacing headers (``Cache-Control``, ``Age``,
``Retry-After``, ``Date``) so that the poller never asks again sooner than the server allows
(``relays.cadence``).

Network trouble is translated at this boundary into :class:`~relays.errors.FetchError` with a
short reason (``timeout``, ``network``, ``truncated``, ``http 503``…), always chained to the httpx
error, so the poller can count a bad poll without knowing httpx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from . import __version__
from .errors import FetchError

__all__ = ["PACE_HEADERS", "USER_AGENT", "FetchError", "Fetched", "Fetcher"]

#: The answer's headers that say when we may ask again (kept, in lower case, on every answer).
PACE_HEADERS = ("cache-control", "age", "retry-after", "date")

USER_AGENT = (
    f"prodouane-relay/{__version__} (+https://github.com/prodouane-relay; alert relay for EDI providers)"
)


@dataclass(frozen=True, slots=True)
class Fetched:
    location: str
    status: int
    body: bytes  # empty on 304
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    pace: Mapping[str, str] = field(default_factory=dict)  # PACE_HEADERS present in the answer

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """One shared AsyncClient; pass ``transport`` in tests only if a local server will not do."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        user_agent: str = USER_AGENT,
        client: httpx.AsyncClient | None = None,
        max_bytes: int = 20_000_000,
    ) -> None:
        self.total_timeout = timeout
        self.max_bytes = max_bytes
        self._own = client is None
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,application/rss+xml,"
                "application/atom+xml;q=0.9,*/*;q=0.5",
                "Accept-Language": "fr-FR,fr;q=0.9",
            },
            follow_redirects=True,
        )

    async def aclose(self) -> None:
        if self._own:
            await self.client.aclose()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET ``url`` within ``timeout`` seconds in all (a server trickling bytes cannot hold the poll
        forever) and at most ``max_bytes`` of body."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self.total_timeout):
                return await self._get(url, headers, etag, last_modified)
        except TimeoutError as exc:
            raise FetchError("timeout", f"{url} did not answer in {self.total_timeout:g} s") from exc
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"{url} did not answer in time") from exc
        except httpx.RemoteProtocolError as exc:
            raise FetchError("truncated", f"{url}: {exc}") from exc
        except httpx.DecodingError as exc:
            raise FetchError("garbled", f"{url}: {exc}") from exc
        except httpx.TransportError as exc:
            raise FetchError("network", f"{url}: {exc}") from exc
        except httpx.TooManyRedirects as exc:
            raise FetchError("redirect loop", f"{url}: {exc}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError("bad url", f"{url}: {exc}") from exc
        except httpx.HTTPError as exc:  # anything else httpx can raise is still a bad poll
            raise FetchError("http error", f"{url}: {exc}") from exc

    async def _get(
        self, url: str, headers: dict[str, str], etag: str | None, last_modified: str | None
    ) -> Fetched:
        async with self.client.stream("GET", url, headers=headers) as response:
            pace = _pace(response.headers)
            if response.status_code == 304:  # a 304 may carry newer validators (RFC 9110 §15.4.5)
                return Fetched(
                    url,
                    304,
                    b"",
                    etag=response.headers.get("etag") or etag,
                    last_modified=response.headers.get("last-modified") or last_modified,
                    pace=pace,
                )
            if response.status_code >= 400:
                raise FetchError(f"http {response.status_code}", url, headers=pace)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError("too large", f"{url} sent more than {self.max_bytes} bytes")
                chunks.append(chunk)
            return Fetched(
                location=url,
                status=response.status_code,
                body=b"".join(chunks),
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                pace=pace,
            )


def _pace(headers: httpx.Headers) -> dict[str, str]:
    return {name: headers[name] for name in PACE_HEADERS if name in headers}
