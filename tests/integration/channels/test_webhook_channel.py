"""WebhookChannel against a local receiver that verifies with the reference ``standardwebhooks``
library: the signature, the headers, and what each answer of the receiver becomes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from relays.channels.base import AuthError, BlockedError, Channel, Outgoing, TransientError
from relays.channels.webhook import WebhookChannel, masked_url, url_problem
from relays.cloudevents import envelope
from relays.events import AlertOpened
from relays.webhook_secrets import new_secret
from tests.fakes.webhook_receiver import WebhookReceiver

SECRET = new_secret()
OPENED = AlertOpened(
    id="Af2379c0f8f991e07:opened",
    source="https://www.douane.gouv.fr/meteo",
    detected_at=datetime(2026, 12, 3, 9, 35, tzinfo=UTC),
    alert_id="Af2379c0f8f991e07",
    services=("DELTA G",),
    modes=("EDI",),
    level="red",
    title="ALERTE - DELTA G - EDI",
    text="Les messages de validation ne sont pas traités.",
    published_at=datetime(2026, 12, 3, 9, 32, tzinfo=UTC),
)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as fake:
        fake.expect("/hooks/edi", SECRET)
        yield fake


@pytest.fixture
async def webhook(receiver: WebhookReceiver) -> AsyncIterator[WebhookChannel]:
    secrets = {f"{receiver.url}/hooks/edi": SECRET}
    async with WebhookChannel(secrets.get, timeout=2.0) as channel:
        yield channel


def outgoing(receiver: WebhookReceiver, text: str | None = None, path: str = "/hooks/edi") -> Outgoing:
    body = envelope(OPENED, "notify") if text is None else text
    return Outgoing(address=f"{receiver.url}{path}", text=body, format="cloudevents")


async def test_a_post_is_a_cloudevent_signed_per_standard_webhooks(
    receiver: WebhookReceiver, webhook: WebhookChannel
) -> None:
    assert isinstance(webhook, Channel)
    ref = await webhook.send(outgoing(receiver))
    (got,) = receiver.received
    assert got.verified and got.status == 200
    assert got.content_type == "application/cloudevents+json; charset=utf-8"
    document = got.document
    assert document is not None and ref == got.webhook_id == document["id"]
    assert document["specversion"] == "1.0" and document["type"] == "prodouane_relay.alert_opened"
    assert document["source"] == "urn:prodouane-relay" and document["subject"] == "Af2379c0f8f991e07"
    assert document["time"] == "2026-12-03T09:35:00+00:00"
    assert document["data"]["services"] == ["DELTA G"] and document["data"]["level"] == "red"


async def test_the_same_message_keeps_its_webhook_id_and_body_across_attempts(
    receiver: WebhookReceiver, webhook: WebhookChannel
) -> None:
    receiver.fail_next(1, status=503)
    with pytest.raises(TransientError):
        await webhook.send(outgoing(receiver))
    await webhook.send(outgoing(receiver))
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id and first.document == second.document


async def test_a_forged_or_foreign_signature_does_not_verify(receiver: WebhookReceiver) -> None:
    other = {f"{receiver.url}/hooks/edi": new_secret()}
    async with WebhookChannel(other.get) as channel:
        with pytest.raises(TransientError, match="401"):
            await channel.send(outgoing(receiver))
    assert [r.verified for r in receiver.received] == [False]


async def test_a_410_gone_ends_the_subscription(receiver: WebhookReceiver, webhook: WebhookChannel) -> None:
    receiver.gone("/hooks/edi")
    with pytest.raises(BlockedError) as caught:
        await webhook.send(outgoing(receiver))
    assert caught.value.reason == "gone"


@pytest.mark.parametrize(
    ("status", "headers", "retry_after"),
    [
        (500, {}, None),
        (502, {}, None),
        (503, {"Retry-After": "7"}, 7.0),
        (429, {"Retry-After": "999999"}, 3600.0),  # a receiver cannot park a message for days
        (404, {}, None),  # every non-2xx is a failure to retry (Standard Webhooks)
        (301, {"Location": "https://elsewhere.example/"}, None),  # redirects are not followed
    ],
)
async def test_other_answers_are_retried_after_the_wait_the_receiver_asks_for(
    receiver: WebhookReceiver,
    webhook: WebhookChannel,
    status: int,
    headers: dict[str, str],
    retry_after: float | None,
) -> None:
    receiver.fail_next(1, status=status, headers=headers)
    with pytest.raises(TransientError) as caught:
        await webhook.send(outgoing(receiver))
    assert caught.value.reason == f"http_{status}" and caught.value.retry_after == retry_after
    assert len(receiver.received) == 1


async def test_a_receiver_that_does_not_answer_in_time_is_retried_later(receiver: WebhookReceiver) -> None:
    receiver.delay(1.0)
    secrets = {f"{receiver.url}/hooks/edi": SECRET}
    async with WebhookChannel(secrets.get, timeout=0.2) as channel:
        with pytest.raises(TransientError) as caught:
            await channel.send(outgoing(receiver))
    assert caught.value.reason == "timeout"


async def test_a_refused_connection_is_retried_later() -> None:
    with WebhookReceiver() as gone:
        address = f"{gone.url}/hooks/edi"
    async with WebhookChannel({address: SECRET}.get) as channel:
        with pytest.raises(TransientError) as caught:
            await channel.send(Outgoing(address=address, text=envelope(OPENED, "notify")))
    assert caught.value.reason == "unreachable"


async def test_without_a_secret_nothing_is_posted(receiver: WebhookReceiver) -> None:
    async with WebhookChannel(lambda address: None) as channel:
        with pytest.raises(AuthError):
            await channel.send(outgoing(receiver))
    assert receiver.received == []


async def test_free_text_is_wrapped_in_a_message_cloudevent(
    receiver: WebhookReceiver, webhook: WebhookChannel
) -> None:
    await webhook.send(outgoing(receiver, text="Message de test de prodouane-relay"))
    (document,) = receiver.verified()
    assert document["type"] == "prodouane_relay.message"
    assert document["data"] == {"text": "Message de test de prodouane-relay"}


async def test_the_signature_is_the_reference_librarys(receiver: WebhookReceiver) -> None:
    """Byte for byte: what we send is what standardwebhooks would sign for the same id and time."""
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(204)

    async with WebhookChannel(
        lambda address: SECRET, transport=httpx.MockTransport(handler), clock=lambda: 1764754500.9
    ) as channel:
        await channel.send(Outgoing(address="https://edi.example.fr/hooks", text=envelope(OPENED, "notify")))
    (request,) = captured
    assert request.headers["webhook-timestamp"] == "1764754500"
    expected = Webhook(SECRET).sign(
        request.headers["webhook-id"], datetime.fromtimestamp(1764754500, UTC), request.content.decode()
    )
    assert request.headers["webhook-signature"] == expected
    assert json.loads(request.content)["id"] == request.headers["webhook-id"]
    assert "." not in request.headers["webhook-id"]


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("https://edi.example.fr/hooks/douane", True),
        ("https://edi.example.fr:8443/h?key=x", True),
        ("http://127.0.0.1:8080/hook", True),
        ("http://localhost/hook", True),
        ("http://[::1]:9000/hook", True),
        ("http://edi.example.fr/hooks", False),  # plain http leaves this machine: no
        ("ftp://edi.example.fr/x", False),
        ("https:///nohost", False),
        ("https://edi.example.fr/a b", False),
        ("edi.example.fr/hooks", False),
    ],
)
def test_webhook_addresses_are_https_urls_or_this_machine(address: str, ok: bool) -> None:
    assert (url_problem(address) is None) is ok


def test_addresses_are_shown_without_what_may_be_credentials() -> None:
    assert masked_url("https://user:pw@edi.example.fr/h?token=abc") == "https://edi.example.fr/…"
    assert masked_url("https://edi.example.fr:8443/hooks/catch/123/abc") == "https://edi.example.fr:8443/…"
    assert masked_url("https://edi.example.fr") == "https://edi.example.fr"
