"""AppriseChannel against a local webhook receiver (json:// and form://), never an external host."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from relays.channels.apprise_channel import AppriseChannel
from relays.channels.base import Channel, NotFoundError, Outgoing, PermanentError, TransientError

HOSTILE = "<script>alert(1)</script> & *gras* {{ x }} \u202e \U0001f6a8 ligne\nsuivante"


@dataclass
class Receiver:
    """Records what Apprise posts; answers ``status``."""

    port: int = 0
    status: int = 200
    posts: list[tuple[str, str, str]] = field(default_factory=list)

    def url(self, scheme: str, path: str = "/hook", auth: str = "") -> str:
        return f"{scheme}://{auth}127.0.0.1:{self.port}{path}"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recorder = Receiver()

    async def record(request: web.Request) -> web.Response:
        recorder.posts.append((request.path, request.content_type, await request.text()))
        return web.Response(status=recorder.status, text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    recorder.port = int(runner.addresses[0][1])
    yield recorder
    await runner.cleanup()


async def test_json_webhook_receives_the_text_exactly_as_given(receiver: Receiver) -> None:
    channel = AppriseChannel()
    ref = await channel.send(Outgoing(receiver.url("json"), HOSTILE))

    [(path, content_type, body)] = receiver.posts
    assert isinstance(channel, Channel) and ref.startswith("apprise:")
    assert (path, content_type) == ("/hook", "application/json")
    assert json.loads(body)["message"] == HOSTILE


async def test_form_webhook_and_title(receiver: Receiver) -> None:
    await AppriseChannel(title="Prodouane").send(Outgoing(receiver.url("form", "/form"), "a & b <c>"))

    [(path, content_type, body)] = receiver.posts
    assert (path, content_type) == ("/form", "application/x-www-form-urlencoded")
    assert "message=a+%26+b+%3Cc%3E" in body and "title=Prodouane" in body


async def test_a_url_apprise_cannot_parse_is_permanent(receiver: Receiver) -> None:
    with pytest.raises(NotFoundError) as caught:
        await AppriseChannel().send(Outgoing("nosuchscheme://secret@host", "x"))
    assert isinstance(caught.value, PermanentError) and caught.value.reason == "invalid_address"
    assert "secret" not in str(caught.value) and receiver.posts == []


async def test_a_failed_notify_is_transient_and_never_shows_the_secret(receiver: Receiver) -> None:
    receiver.status = 500
    with pytest.raises(TransientError) as caught:
        await AppriseChannel().send(Outgoing(receiver.url("json", auth="user:hunter2@"), "x"))

    assert len(receiver.posts) == 1  # Apprise did not retry on its own
    assert caught.value.reason == "notify_failed" and caught.value.retry_after is None
    assert "hunter2" not in str(caught.value) and "hunter2" not in caught.value.address
    assert "500" in str(caught.value) or "JSON" in str(caught.value)


async def test_an_unknown_format_is_a_programming_error(receiver: Receiver) -> None:
    with pytest.raises(ValueError, match="mrkdwn"):
        await AppriseChannel().send(Outgoing(receiver.url("json"), "x", format="mrkdwn"))
