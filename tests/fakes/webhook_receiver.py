"""A webhook receiver on 127.0.0.1, as a provider's EDI platform would run one.

It verifies every post with the reference ``standardwebhooks`` library (signature, timestamp
tolerance) against the secret registered for its path — a post that does not verify is answered
401 and recorded as such — and keeps each verified CloudEvent. It can be told to answer like a
struggling or departed receiver: the next ``n`` posts with a status (503, 429 with Retry-After…),
a path with 410 Gone for good, or every answer late.

    with WebhookReceiver() as receiver:
        receiver.expect("/hooks/a", secret)
        … the relay posts to f"{receiver.url}/hooks/a" …
        receiver.verified("/hooks/a")      # the CloudEvents received, in order
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ._server import BackgroundServer

__all__ = ["Received", "WebhookReceiver"]


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    webhook_id: str
    verified: bool
    status: int  # what the receiver answered
    content_type: str
    document: dict[str, Any] | None


class WebhookReceiver(BackgroundServer):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[Received] = []
        self.in_flight = 0
        self._secrets: dict[str, str] = {}
        self._failures: list[tuple[int, dict[str, str]]] = []
        self._gone: set[str] = set()

    # -- scripting --------------------------------------------------------------------------
    def expect(self, path: str, secret: str) -> None:
        with self._cond:
            self._secrets[path] = secret

    def fail_next(self, n: int, status: int = 503, headers: dict[str, str] | None = None) -> None:
        with self._cond:
            self._failures.extend([(status, dict(headers or {}))] * n)

    def gone(self, path: str) -> None:
        with self._cond:
            self._gone.add(path)

    # -- reading ----------------------------------------------------------------------------
    def verified(self, path: str | None = None) -> list[dict[str, Any]]:
        """The CloudEvents accepted (2xx after a valid signature), in order."""
        with self._cond:
            return [
                r.document
                for r in self.received
                if r.verified and r.status == 200 and r.document is not None and path in (None, r.path)
            ]

    def accepted_ids(self) -> list[tuple[str, str]]:
        with self._cond:
            return [(r.path, r.webhook_id) for r in self.received if r.verified and r.status == 200]

    # -- serving ----------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._hook)
        return app

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._cond:
            self.in_flight += 1
            secret = self._secrets.get(request.path)
            failure = self._failures.pop(0) if self._failures else None
            gone = request.path in self._gone
        try:
            await self._respond_late()
            verified, document = False, None
            if secret is not None:
                try:
                    document = Webhook(secret).verify(body, dict(request.headers))
                    verified = True
                except WebhookVerificationError:
                    document = None
            if gone:
                status, headers = 410, {}
            elif not verified:
                status, headers = 401, {}
            elif failure is not None:
                status, headers = failure
            else:
                status, headers = 200, {}
            with self._cond:
                self.received.append(
                    Received(
                        request.path,
                        request.headers.get("webhook-id", ""),
                        verified,
                        status,
                        request.headers.get("Content-Type", ""),
                        document if isinstance(document, dict) else None,
                    )
                )
            return web.Response(status=status, headers=headers, text=json.dumps({"status": status}))
        finally:
            with self._cond:
                self.in_flight -= 1
            self._notify()
