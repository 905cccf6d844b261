"""`prodouane-relay run` as a real process for the tests that need one (signals, sockets, logs).

with RelayProcess(env, log=tmp_path / "run.log") as relay:
    wait_for(f"{relay.base}/readyz", lambda r: r.status_code == 200)
assert relay.code == 0            # stopped with SIGTERM on leaving the block
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["RelayProcess", "free_port", "wait_for", "wait_until"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    url: str, predicate: Callable[[httpx.Response], bool], timeout: float = 30.0, **kwargs: object
) -> httpx.Response:
    """GET ``url`` until ``predicate`` holds for the response (``kwargs`` go to ``httpx.get``)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2, **kwargs)  # type: ignore[arg-type]
            if predicate(response):
                return response
            last = (response.status_code, response.text[:300])
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{url} never satisfied the check (last: {last})")


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} never came true within {timeout} s")


class RelayProcess:
    """``python -m bot.cli run`` with ``env`` (over the test's environment), stderr to ``log``."""

    def __init__(self, env: Mapping[str, str], *, log: Path, port: int | None = None) -> None:
        self.port = port if port is not None else free_port()
        self.env = {**os.environ, "PRODOUANE_RELAY_WEB_PORT": str(self.port), **env}
        self.log = log
        self.base = f"http://127.0.0.1:{self.port}"
        self.code: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RelayProcess:
        with open(self.log, "w") as err:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._proc is not None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        try:
            self.code = self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self.code = self._proc.wait()

    def text(self) -> str:
        return self.log.read_text()
