"""The fake météo server behaves like the HTTP peer the poller's tests rely on."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.meteo_server import MeteoServer

PAGE = "<html><body><h1>Météo des services en ligne</h1>" + "<p>Disponible</p>" * 200 + "</body></html>"
BODY = PAGE.encode("utf-8")


@pytest.fixture
def srv() -> Iterator[MeteoServer]:
    with MeteoServer() as server:
        server.set_page(BODY, etag='"v1"', last_modified="Wed, 02 Dec 2026 15:00:00 GMT")
        yield server


def test_serves_the_page_with_its_validators(srv: MeteoServer) -> None:
    response = httpx.get(srv.url)
    assert response.status_code == 200
    assert response.text == PAGE
    assert response.headers["etag"] == '"v1"'
    assert response.headers["last-modified"] == "Wed, 02 Dec 2026 15:00:00 GMT"
    assert srv.url.startswith("http://127.0.0.1:")


def test_matching_etag_gets_304_and_another_etag_gets_the_page(srv: MeteoServer) -> None:
    assert httpx.get(srv.url, headers={"If-None-Match": '"v1"'}).status_code == 304
    assert httpx.get(srv.url, headers={"If-None-Match": 'W/"v1"'}).status_code == 304
    assert httpx.get(srv.url, headers={"If-None-Match": '"v0"'}).status_code == 200
    srv.set_page(BODY + b"<!-- v2 -->", etag='"v2"')
    assert httpx.get(srv.url, headers={"If-None-Match": '"v1"'}).status_code == 200


def test_if_modified_since_gets_304_unless_the_page_is_newer(srv: MeteoServer) -> None:
    def status(since: str) -> int:
        return httpx.get(srv.url, headers={"If-Modified-Since": since}).status_code

    assert status("Wed, 02 Dec 2026 15:00:00 GMT") == 304
    assert status("Wed, 02 Dec 2026 14:59:59 GMT") == 200
    srv.set_page(BODY, last_modified=dt.datetime(2026, 12, 3, 10, 32, tzinfo=dt.UTC))
    response = httpx.get(srv.url, headers={"If-Modified-Since": "Wed, 02 Dec 2026 15:00:00 GMT"})
    assert response.status_code == 200
    assert response.headers["last-modified"] == "Thu, 03 Dec 2026 10:32:00 GMT"


def test_gzip_only_when_the_client_accepts_it(srv: MeteoServer) -> None:
    zipped = httpx.get(srv.url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(BODY)
    assert zipped.text == PAGE  # httpx decodes it
    with httpx.stream("GET", srv.url, headers={"Accept-Encoding": "gzip"}) as raw:
        assert gzip.decompress(b"".join(raw.iter_raw())) == BODY

    plain = httpx.get(srv.url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == BODY


def test_queued_responses_are_served_once_in_order(srv: MeteoServer) -> None:
    srv.queue(status=500)
    srv.queue(status=503, headers={"Retry-After": "120"})
    srv.queue(body=b"\x00\xffgarbage", content_type="application/octet-stream")
    assert srv.pending == 3

    assert httpx.get(srv.url).status_code == 500
    unavailable = httpx.get(srv.url)
    assert unavailable.status_code == 503
    assert unavailable.headers["retry-after"] == "120"
    garbage = httpx.get(srv.url)
    assert garbage.status_code == 200
    assert garbage.headers["content-type"] == "application/octet-stream"
    assert garbage.content == b"\x00\xffgarbage"
    assert httpx.get(srv.url).content == BODY
    assert srv.pending == 0


def test_truncated_response_raises_remote_protocol_error(srv: MeteoServer) -> None:
    srv.queue(truncate=True)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(srv.url)
    assert httpx.get(srv.url).content == BODY  # the next request is whole again


def test_delay_makes_a_short_timeout_expire(srv: MeteoServer) -> None:
    srv.queue(delay=5.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(srv.url, timeout=httpx.Timeout(5.0, read=0.2))


def test_records_requests(srv: MeteoServer) -> None:
    httpx.get(srv.url + "?x=1", headers={"If-None-Match": '"v1"', "User-Agent": "prodouane-relay/test"})
    httpx.head(srv.url)
    assert [(r.method, r.path) for r in srv.requests] == [("GET", "/meteo?x=1"), ("HEAD", "/meteo")]
    first = srv.requests[0]
    assert first.headers["if-none-match"] == '"v1"'
    assert first.headers["User-Agent"] == "prodouane-relay/test"
    assert first.at <= srv.requests[1].at
    assert first.wall.tzinfo is not None
    srv.clear_requests()
    assert srv.requests == []


def test_set_page_reads_a_path(srv: MeteoServer, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes("<p>Publi\xe9 le 03/12/2026</p>".encode("cp1252"))
    srv.set_page(page, content_type="text/html; charset=windows-1252")
    response = httpx.get(srv.url)
    assert response.content == page.read_bytes()
    assert response.headers["content-type"] == "text/html; charset=windows-1252"


async def test_usable_from_async_tests() -> None:
    async with MeteoServer() as server:
        server.set_page(BODY, etag='"a"')
        async with httpx.AsyncClient() as client:
            first = await client.get(server.url)
            again = await client.get(server.url, headers={"If-None-Match": first.headers["etag"]})
    assert (first.status_code, again.status_code) == (200, 304)
