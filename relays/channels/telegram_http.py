"""python-telegram-bot's networking over aiohttp: the same Bot, a lighter HTTP client.

python-telegram-bot sends through a ``telegram.request.BaseRequest``; its default,
``HTTPXRequest``, costs about 2 ms of CPU per message (httpx and httpcore), most of a fan-out's
budget at 30 msg/s. :class:`AiohttpRequest` is that documented extension point over aiohttp's
client (already ours: the web server runs on aiohttp), with the parameters as one JSON body
(which the Bot API accepts; a form body percent-encodes a 4 KB alert character by character), a
fraction of the cost. Everything else —
building the request, reading Telegram's answer, raising ``RetryAfter``/``Forbidden``/
``BadRequest``… — stays python-telegram-bot's. Connection faults become ``NetworkError`` and
timeouts ``TimedOut``, as with httpx; their messages never quote the URL (it holds the token).

The outbox's messages skip the ``Bot`` method too (:func:`json_body`, sent with ``BaseRequest.post``,
which still maps Telegram's answer to its errors): ``Bot.send_message`` turns each parameter into
a ``RequestParameter`` and the answer into a ``Message`` object with its ``User`` and ``Chat``,
about 0.25 ms a message, of which the outbox keeps one number, the message id.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

__all__ = ["AiohttpRequest", "json_body"]


_HEADERS = {"User-Agent": BaseRequest.USER_AGENT}
_JSON_HEADERS = {**_HEADERS, "Content-Type": "application/json"}


def _seconds(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def json_body(parameters: dict[str, object]) -> RequestData:
    """A request's parameters as python-telegram-bot's ``RequestData`` (sent as one JSON body),
    built directly from JSON's own types — no ``RequestParameter.from_input`` conversion of
    ``TelegramObject``s, dates or files, of which the outbox sends none. ``RequestParameter`` is
    not in ``telegram.request``'s ``__all__`` (it is the type ``RequestData`` holds), hence the
    import from its module; the version is pinned in constraints.txt."""
    return RequestData([RequestParameter(name, value, None) for name, value in parameters.items()])


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` on one ``aiohttp.ClientSession`` (``pool_size`` connections, ``timeout`` s)."""

    __slots__ = ("_pool_size", "_session", "_timeout")

    def __init__(self, *, pool_size: int = 64, timeout: float = 10.0) -> None:
        self._pool_size, self._timeout = pool_size, timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=self._timeout)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size), timeout=timeout
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        if request_data is not None and request_data.contains_files:
            raise NotImplementedError("AiohttpRequest sends no files")
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=_seconds(connect_timeout, self._timeout),
            sock_read=_seconds(read_timeout, self._timeout),
        )
        try:
            async with self._session.request(
                method,
                url,
                data=request_data.json_payload if request_data is not None else None,
                headers=_JSON_HEADERS if request_data is not None else _HEADERS,
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            detail = getattr(exc, "strerror", None) or type(exc).__name__
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {detail}") from exc
