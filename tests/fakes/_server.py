"""The plumbing shared by the fake chat APIs: an aiohttp app on 127.0.0.1 in a background thread.

Tests, benchmarks and the chat-bot tests drive the *real* client libraries (python-telegram-bot,
slack_sdk) against these fakes, from sync code and from async code alike. So each fake owns its
own event loop in a daemon thread and never touches the caller's loop; everything the caller
reads (recordings) or scripts (failures, pushed updates) goes through one re-entrant lock, and a
condition on that lock lets ``wait_for`` sleep until the server has handled something.

Windows are *exact sliding-window logs*, the strictest reading of a platform's published limit:
a request at ``t`` is accepted only if fewer than ``rate`` accepted requests lie in ``(t - per, t]``.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = ["BackgroundServer", "SlidingLog", "read_params", "retry_after_seconds"]


class SlidingLog:
    """Accepted-request timestamps for one window; not thread-safe (callers hold the lock)."""

    __slots__ = ("per", "rate", "_times")

    def __init__(self, rate: int, per: float) -> None:
        self.rate = rate
        self.per = per
        self._times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more request fits (0.0 if it fits now)."""
        while self._times and self._times[0] <= now - self.per:
            self._times.popleft()
        if len(self._times) < self.rate:
            return 0.0
        return self._times[-self.rate] + self.per - now

    def add(self, now: float) -> None:
        self._times.append(now)


def retry_after_seconds(wait: float) -> int:
    """What a server says in ``retry_after``: whole seconds, at least one."""
    return max(1, math.ceil(wait))


class BackgroundServer:
    """Runs ``self.build_app()`` on an ephemeral 127.0.0.1 port in its own thread and loop."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._delay = 0.0

    # -- to be provided by subclasses ------------------------------------------------------

    def build_app(self) -> web.Application:
        raise NotImplementedError

    def on_stopping(self) -> None:
        """Called on the server loop before shutdown (wake long polls here)."""

    # -- address ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._port}"

    base_url = url

    # -- scripting shared by both fakes ----------------------------------------------------

    def delay(self, seconds: float) -> None:
        """Answer every request ``seconds`` late (after processing it), to provoke timeouts."""
        with self._cond:
            self._delay = seconds

    async def _respond_late(self) -> None:
        with self._cond:
            delay = self._delay
        if delay > 0:
            await asyncio.sleep(delay)

    def _notify(self) -> None:
        """Wake ``wait_for`` callers; call after every change to the recordings."""
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block until ``predicate()`` is true (re-checked after each handled request).

        Do not call this from the event loop that runs the client being observed: it blocks
        that loop. Use :meth:`wait_for_async` there.
        """
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise TimeoutError(f"condition not met within {timeout}s")

    async def wait_for_async(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """:meth:`wait_for` without blocking the caller's event loop."""
        await asyncio.to_thread(self.wait_for, predicate, timeout)

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` on the server loop (thread-safe); no-op when stopped."""
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(callback)

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self._runner = web.AppRunner(self.build_app(), shutdown_timeout=0.5, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
            self._port = int(self._runner.addresses[0][1])

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serve())
            except BaseException as exc:  # reported to the starting thread, not lost
                failure.append(exc)
                ready.set()
                return
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = self._loop = None
            loop.close()
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            self.on_stopping()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None
        self._runner = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string, then a JSON object body or a form body (what API clients send)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        raw = await request.text()
        body = json.loads(raw) if raw.strip() else {}
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params
