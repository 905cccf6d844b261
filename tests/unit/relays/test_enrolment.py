"""Enrolling: both doors (the CLI, an invite code) write the subscriber and what it is owed at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relays import invites
from relays import subscribers as subs
from relays.enrolment import enrol, enrol_in
from relays.errors import InviteError, SubscriberError
from relays.poller import read_page
from relays.store import DeliveryRow, Store

SCENARIO = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"
NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """Mid-outage: a planned interruption ahead, DELTA G and ICS2 alerts open."""
    s = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    for page in sorted(SCENARIO.glob("0[1-4]*.html")):
        s.record_poll("meteo", page.name, read_page(page.name, page.read_bytes()), now=NOW)
    yield s
    s.close()


def owed(store: Store, subscriber_id: int) -> list[str]:
    with store.sessions() as session:
        rows = session.query(DeliveryRow).filter(DeliveryRow.subscriber_id == subscriber_id)
        return sorted(row.event_id for row in rows)


def test_a_newcomer_is_owed_what_is_open_or_planned_whichever_door_it_came_through(store: Store) -> None:
    by_cli = enrol(store, subs.new(channel="console", address="desk", client="Desk"), now=NOW)
    code = invites.create_invite(store, "Transit SA")
    by_invite = invites.redeem(store, code, "telegram", "42", now=NOW)
    assert by_cli.owed == 3  # two open alerts and the planned interruption
    assert (
        owed(store, by_cli.subscriber.id) == owed(store, by_invite.id) and len(owed(store, by_invite.id)) == 3
    )


def test_an_address_is_enrolled_once(store: Store) -> None:
    spec = subs.new(channel="console", address="desk", client="Desk")
    enrol(store, spec, now=NOW)
    with pytest.raises(SubscriberError) as caught:
        enrol(store, spec, now=NOW)
    assert caught.value.reason == "already_subscribed"
    assert len(subs.all_subscribers(store)) == 1  # nothing half-written


def test_a_chat_that_left_comes_back_with_its_filters_and_the_new_references(store: Store) -> None:
    first = invites.redeem(store, invites.create_invite(store, "Old name"), "telegram", "42", now=NOW)
    subs.update(store, first.id, services=["ICS2"])
    subs.deactivate(store, "telegram", "42", "the bot was removed from the chat (left)")
    code = invites.create_invite(store, "New name", {"eori": "FR1"})
    back = invites.redeem(store, code, "telegram", "42", lang="en", now=NOW)
    assert (back.id, back.active, back.client, back.eori, back.lang) == (
        first.id,
        True,
        "New name",
        "FR1",
        "en",
    )
    assert back.services == ("ICS2",)


def test_a_chat_subscribed_already_is_refused_with_its_client_named(store: Store) -> None:
    invites.redeem(store, invites.create_invite(store, "Transit SA"), "telegram", "42", now=NOW)
    with pytest.raises(InviteError) as caught:
        invites.redeem(store, invites.create_invite(store, "Other"), "telegram", "42", now=NOW)
    assert (caught.value.reason, caught.value.client) == ("already_subscribed", "Transit SA")
    with store.transaction() as session, pytest.raises(SubscriberError):
        enrol_in(session, subs.new(channel="telegram", address="42", client="X"), now=NOW, reactivate=True)
