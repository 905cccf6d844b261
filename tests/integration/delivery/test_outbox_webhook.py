"""Signed webhooks through the outbox: the real sender and WebhookChannel against a local receiver
that verifies every post with the reference ``standardwebhooks`` library."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from relays import subscribers as subs
from relays import webhook_secrets
from relays.channels.webhook import WebhookChannel
from relays.cloudevents import message_id
from relays.fanout import enqueue_hook
from relays.lifecycle import Rules
from relays.outbox import Policy
from relays.poller import read_page
from relays.sender import Sender
from relays.store import DeliveryRow, Store
from tests.fakes.webhook_receiver import WebhookReceiver

from .conftest import PAGES

ROOT = Path(__file__).resolve().parents[3]


def record(store: Store, page: str, now: datetime | None = None) -> list[str]:
    body = Path(page).read_bytes()
    at = now or datetime.now(UTC)
    events = store.record_poll(
        "meteo", page, read_page(page, body), now=at, rules=Rules(), on_events=enqueue_hook(clock=lambda: at)
    )
    return [e.kind for e in events]


def hook(store: Store, receiver: WebhookReceiver, name: str, **filters: object) -> subs.Subscriber:
    """A webhook subscriber at ``/hooks/<name>``, its secret registered with the receiver."""
    s = subs.add(store, channel="webhook", address=f"{receiver.url}/hooks/{name}", client=name, **filters)  # type: ignore[arg-type]
    secret = webhook_secrets.shown(store, s.id)
    assert secret is not None and secret.startswith("whsec_")
    receiver.expect(f"/hooks/{name}", secret)
    return s


def channel(store: Store, timeout: float = 5.0) -> WebhookChannel:
    return WebhookChannel(lambda address: webhook_secrets.secret_for(store, address), timeout=timeout)


async def test_each_subscriber_receives_each_event_once_in_order_as_a_verified_cloudevent(
    store: Store,
) -> None:
    with WebhookReceiver() as receiver:
        hook(store, receiver, "all")
        hook(store, receiver, "ics2", services=["ICS2"])
        hook(store, receiver, "ends", kinds=["alert_closed"])
        async with channel(store) as webhook:
            sender = Sender(store, {"webhook": webhook})
            for page in PAGES:
                record(store, page)
                await sender.drain()
            record(store, PAGES[2])  # a stale copy: nothing new, nothing sent
            await sender.drain()
        assert all(r.verified and r.status == 200 for r in receiver.received)
        types = [d["type"].removeprefix("prodouane_relay.") for d in receiver.verified("/hooks/all")]
        assert types == [
            "interruption_planned",
            "alert_opened",
            "bulletin",
            "alert_opened",
            "bulletin",
            "alert_closed",
            "alert_closed",
        ]
        ics2 = receiver.verified("/hooks/ics2")
        assert [d["type"] for d in ics2] == [
            "prodouane_relay.interruption_planned",
            "prodouane_relay.alert_opened",
            "prodouane_relay.alert_closed",
        ]
        assert all("ICS2" in d["data"]["services"] for d in ics2)
        assert [d["data"]["services"] for d in receiver.verified("/hooks/ends")] == [["DELTA G"], ["ICS2"]]
        posts = [(r.path, r.webhook_id) for r in receiver.received]
        assert len(posts) == len(set(posts)) == 12  # each event once per subscriber
        assert len({webhook_id for _, webhook_id in posts}) == 7  # an event's id is the same for all


async def test_a_failing_receiver_is_retried_with_backoff_then_served_once(store: Store) -> None:
    with WebhookReceiver() as receiver:
        hook(store, receiver, "flaky")
        record(store, PAGES[1])
        receiver.fail_next(2, status=503)
        policy = Policy(base_backoff=0.05, max_backoff=0.2)
        async with channel(store) as webhook:
            report = await Sender(store, {"webhook": webhook}, policy=policy).drain()
        statuses = [r.status for r in receiver.received]
        assert statuses[:2] == [503, 503] and statuses.count(200) == 2  # the alert and the interruption
        assert report.sent == 2 and report.retried == 2
        first, second, third = (r.webhook_id for r in receiver.received[:3])
        assert first == second == third  # one idempotency key across the attempts


async def test_a_receiver_that_keeps_failing_ends_in_the_dead_letter_state(store: Store) -> None:
    with WebhookReceiver() as receiver:
        hook(store, receiver, "down")
        record(store, PAGES[1])
        receiver.fail_next(100, status=500)
        receiver.delay(0.0)
        policy = Policy(max_attempts=3, base_backoff=0.05, lease=timedelta(seconds=5))
        async with channel(store) as webhook:
            report = await Sender(store, {"webhook": webhook}, policy=policy).drain()
    assert report.dead == 2 and report.sent == 0
    with store.sessions() as session:
        rows = session.query(DeliveryRow).filter_by(purpose="notify").all()  # reminders wait for their day
    assert {(r.status, r.attempts) for r in rows} == {("dead", 3)}
    assert all("500" in (r.last_error or "") for r in rows)


async def test_a_timeout_is_retried(store: Store) -> None:
    with WebhookReceiver() as receiver:
        hook(store, receiver, "slow")
        record(store, PAGES[1])
        receiver.delay(0.6)
        policy = Policy(max_attempts=2, base_backoff=0.05, lease=timedelta(seconds=5))
        async with channel(store, timeout=0.2) as webhook:
            report = await Sender(store, {"webhook": webhook}, policy=policy).drain()
    assert report.dead == 2 and report.retried == 2
    with store.sessions() as session:
        errors = {r.last_error or "" for r in session.query(DeliveryRow).filter_by(purpose="notify")}
    error = errors.pop()
    assert not errors and error.endswith("/…: the receiver did not answer in time")  # its path never shown
    assert "/hooks/slow" not in error


async def test_a_410_deactivates_that_subscriber_tells_the_admins_and_blocks_no_one_else(
    store: Store,
) -> None:
    with WebhookReceiver() as receiver:
        gone = hook(store, receiver, "gone")
        hook(store, receiver, "stays")
        hook(store, receiver, "admin", role="admin", kinds=["subscriber_deactivated"])
        receiver.gone("/hooks/gone")
        record(store, PAGES[1])
        async with channel(store) as webhook:
            report = await Sender(store, {"webhook": webhook}).drain()
            record(store, PAGES[2])
            await Sender(store, {"webhook": webhook}).drain()
        assert report.failed == 1 and report.deactivated == ["gone"]
        assert subs.find(store, str(gone.id)).active is False  # type: ignore[union-attr]
        assert [r.status for r in receiver.received if r.path == "/hooks/gone"] == [410]
        assert len(receiver.verified("/hooks/stays")) == 3  # interruption, alert, BIP 1
        (notice,) = receiver.verified("/hooks/admin")
        assert notice["type"] == "prodouane_relay.subscriber_deactivated"
        assert notice["data"]["title"].endswith(": gone") and "410" in notice["data"]["text"]


async def test_reminders_are_typed_by_their_purpose(store: Store) -> None:
    with WebhookReceiver() as receiver:
        hook(store, receiver, "ops", kinds=["interruption_planned"])
        record(store, PAGES[0], now=datetime(2026, 12, 2, 15, 5, tzinfo=UTC))
        at_start = datetime(2026, 12, 8, 8, 0, 1, tzinfo=UTC)
        async with channel(store) as webhook:
            await Sender(store, {"webhook": webhook}, clock=lambda: at_start).drain()
        types = sorted(d["type"] for d in receiver.verified())  # both reminders are overdue: any order
        assert types == [
            "prodouane_relay.interruption_planned",
            "prodouane_relay.interruption_reminder",
            "prodouane_relay.interruption_start",
        ]
        assert len({d["id"] for d in receiver.verified()}) == 3


def test_subscribers_add_shows_the_secret_once_and_secret_replaces_it(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with WebhookReceiver() as receiver:
        address = f"{receiver.url}/hooks/cli"
        add = ["subscribers", "add", "--channel", "webhook", "--address", address, "--client", "EDI"]
        assert main([*add, "--db", db_url]) == 0
        out = capsys.readouterr().out
        secret = next(w for w in out.split() if w.startswith("whsec_"))
        assert "never shown again" in out
        assert main(["subscribers", "list", "--db", db_url]) == 0
        assert main(["subscribers", "list", "--json", "--db", db_url]) == 0
        assert "whsec_" not in capsys.readouterr().out

        receiver.expect("/hooks/cli", secret)
        assert main(["subscribers", "test", "1", "--db", db_url]) == 0
        assert [d["type"] for d in receiver.verified()] == ["prodouane_relay.message"]

        assert main(["subscribers", "secret", "1", "--db", db_url]) == 0
        renewed = next(w for w in capsys.readouterr().out.split() if w.startswith("whsec_"))
        assert renewed != secret
        assert main(["subscribers", "test", "1", "--db", db_url]) == 2  # the receiver knows the old one
        assert "401" in capsys.readouterr().err
        receiver.expect("/hooks/cli", renewed)
        assert main(["subscribers", "test", "1", "--db", db_url]) == 0
        assert len(receiver.verified()) == 2


def test_a_plain_http_address_off_this_machine_is_refused(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    address = "http://edi.example.fr/h"
    code = main(
        ["subscribers", "add", "--channel", "webhook", "--address", address, "--client", "X", "--db", db_url]
    )
    err = capsys.readouterr().err
    assert code == 2 and "https://" in err and len(err.strip().splitlines()) == 1


def test_a_process_killed_mid_fan_out_resumes_and_every_repeat_carries_the_same_webhook_id(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    store = Store.open(db)
    with WebhookReceiver() as receiver:
        names = [f"c{i:03d}" for i in range(90)]
        for name in names:
            hook(store, receiver, name)
        store.close()
        receiver.delay(0.05)  # slow enough for the kill to land mid-fan-out
        argv = [sys.executable, "-m", "bot.cli", "replay", "--deliver", "--db", db, PAGES[1]]
        first = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(receiver.accepted_ids()) < 40 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)  # kill -9 in the middle of the fan-out
        first.wait()
        receiver.wait_for(lambda: receiver.in_flight == 0)
        seen_at_kill = set(receiver.accepted_ids())
        store = Store.open(db)
        with store.sessions() as session:
            recorded_at_kill = session.query(DeliveryRow).filter_by(status="sent").count()
        store.close()
        assert 0 < len(seen_at_kill) < 2 * len(names), "the kill must land mid-fan-out"

        receiver.delay(0.0)
        second = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        accepted = receiver.accepted_ids()
        assert all(r.verified for r in receiver.received)
    # Every subscriber got both messages (the alert, the interruption notice): nobody skipped.
    by_path = Counter(path for path, _ in set(accepted))
    assert by_path == {f"/hooks/{name}": 2 for name in names}
    # Only what was on the wire when the process died went out twice — at most the channel's
    # connection pool — and each repeat carried its original webhook-id, so a receiver that keys
    # on it (as Standard Webhooks asks) processes every event exactly once.
    duplicates = len(accepted) - len(set(accepted))
    assert duplicates == len(seen_at_kill) - recorded_at_kill <= 20
    ids = {webhook_id for _, webhook_id in accepted}
    assert len(ids) == 2  # one id per event: the same for every subscriber, and for every repeat
    store = Store.open(db)
    with store.sessions() as session:
        events = {row.event_id for row in session.query(DeliveryRow)}
    store.close()
    assert ids == {message_id(event_id, "notify") for event_id in events}
