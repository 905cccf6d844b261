"""Regressions found in review: each test names the failure it prevents."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from knowledge.services import find_services
from relays import subscribers as subs
from relays.channels.memory import MemoryChannel
from relays.events import AlertClosed, AlertOpened, BulletinPublished
from relays.fanout import enqueue_hook
from relays.lifecycle import Rules
from relays.meteo import classify, parse_page
from relays.sender import Sender
from relays.snapshot import ItemKind
from relays.store import DeliveryRow, Store, SubscriberRow

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")


def memory_subscriber(address: str, client: str) -> SubscriberRow:
    """A subscriber on the in-memory channel (a test-only channel ``subscribers.add`` refuses)."""
    return SubscriberRow(
        channel="memory",
        address=address,
        client=client,
        lang="fr",
        services=[],
        modes=[],
        kinds=[],
        role="client",
        active=True,
        paused=False,
        profile={},
        created_at=T0,
    )


def page(*articles: str) -> bytes:
    body = "".join(f"<article>{a}</article>" for a in articles)
    return f"<html><body><h2>Messages</h2>{body}</body></html>".encode()


def alert(services: str, when: str, modes: str = "EDI") -> str:
    return f"<h3>ALERTE - {services} - {modes}</h3><p>Publié le {when}</p><p>Panne.</p>"


def end(services: str, when: str, modes: str = "EDI") -> str:
    return f"<h3>FIN D'ALERTE - {services} - {modes}</h3><p>Publié le {when}</p><p>Résolu.</p>"


def poll(store: Store, body: bytes, n: int) -> list:  # type: ignore[type-arg]
    return store.record_poll(
        "meteo",
        f"p{n}",
        parse_page(body),
        now=T0 + timedelta(minutes=n),
        rules=Rules(),
        on_events=enqueue_hook(clock=lambda: T0),
    )


@pytest.mark.parametrize(
    "text", ["DELTA X Import/Export", "Delta X import-export", "Delta X Imp./Exp.", "DELTA X Export/Import"]
)
def test_import_slash_export_names_both_services(text: str) -> None:
    assert find_services(text) == ["DELTA X Import", "DELTA X Export"]


def test_a_bulletin_announcing_the_recovery_is_still_a_bulletin() -> None:
    assert classify("BIP n°3 – Rétablissement du service en cours") is ItemKind.BULLETIN
    assert classify("Rétablissement du service en cours") is not ItemKind.END


def test_an_end_naming_one_service_of_two_leaves_the_other_open(store: Store) -> None:
    poll(store, page(alert("DELTA X Import et Export", "03/12/2026 à 10h00")), 1)
    events = poll(store, page(end("DELTA X Import", "03/12/2026 à 12h00")), 2)
    (closed,) = events
    assert isinstance(closed, AlertClosed) and closed.services == ("DELTA X Import",)
    (still,) = store.open_alerts()
    assert still.services == ("DELTA X Export",)
    (final,) = poll(store, page(end("DELTA X Export", "03/12/2026 à 13h00")), 3)
    assert isinstance(final, AlertClosed) and final.services == ("DELTA X Export",)
    assert final.alert_id == closed.alert_id and store.open_alerts() == []


def test_a_new_alert_seen_with_the_old_ones_end_is_a_new_alert(store: Store) -> None:
    poll(store, page(alert("DELTA T", "03/12/2026 à 10h00")), 1)
    events = poll(
        store, page(alert("DELTA T", "03/12/2026 à 15h00"), end("DELTA T", "03/12/2026 à 12h00")), 2
    )
    kinds = [type(e) for e in events]
    assert kinds.count(AlertOpened) == 1 and kinds.count(AlertClosed) == 1
    (still,) = store.open_alerts()
    assert still.published_at == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def test_an_undated_end_does_not_close_an_alert_first_seen_in_the_same_poll(store: Store) -> None:
    undated_end = "<h3>FIN D'ALERTE - DELTA G - EDI</h3><p>Résolu.</p>"
    events = poll(store, page(alert("DELTA G", "03/12/2026 à 10h00"), undated_end), 1)
    assert [type(e) for e in events] == [AlertOpened]


def test_a_yearless_date_is_read() -> None:
    (item,) = parse_page(page("<h3>ALERTE - DELTA G - EDI</h3><p>Publié le 3 décembre à 10h32</p>")).items
    assert item.published_at is not None and (item.published_at.month, item.published_at.hour) == (12, 9)


async def test_an_abandoned_claim_is_taken_back_once_its_lease_expires(store: Store) -> None:
    with store.transaction() as session:
        session.add(memory_subscriber("a", "A"))
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    dead = Sender(store, {"memory": MemoryChannel()}, worker="other-host:1:dead", clock=lambda: T0)
    assert len(dead.claim()) == 1  # claimed, then its process died
    channel = MemoryChannel()
    later = Sender(store, {"memory": channel}, clock=lambda: T0 + timedelta(minutes=5))
    report = await later.drain()
    assert report.sent == 1 and len(channel.sent) == 1


async def test_removed_and_paused_subscribers_get_nothing_more(store: Store) -> None:
    with store.transaction() as session:
        for address in ("gone", "paused", "kept"):
            session.add(memory_subscriber(address, address))
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    gone = subs.find(store, "gone")
    paused = subs.find(store, "paused")
    assert gone and paused
    subs.remove(store, gone.id)
    subs.update(store, paused.id, paused=True)
    channel = MemoryChannel()
    await Sender(store, {"memory": channel}, clock=lambda: T0).drain()
    assert [m.address for m in channel.sent] == ["kept"]
    with store.sessions() as session:
        statuses = {r.subscriber_id: r.status for r in session.query(DeliveryRow)}
    assert statuses[gone.id] == "skipped" and statuses[paused.id] == "skipped"


def test_a_moved_interruption_cancels_the_old_windows_reminders(store: Store) -> None:
    with store.transaction() as session:
        session.add(memory_subscriber("a", "A"))
    notice = (
        "<h3>Interruption programmée</h3><p>Publié le 01/12/2026 à 10h00</p>"
        "<p>DELTA T sera interrompu le {day} décembre 2026 de 9h00 à 17h00.</p>"
    )
    poll(store, page(notice.format(day=8)), 1)
    poll(store, page(notice.format(day=10)), 2)
    with store.sessions() as session:
        pending = [
            (r.purpose, r.due_at)
            for r in session.query(DeliveryRow).filter_by(status="pending")
            if r.purpose != "notify"
        ]
    assert sorted(d.day for _, d in pending) == [9, 10]  # the 10th's reminder (24 h before) and start


def test_apprise_secrets_are_masked() -> None:
    for url in (
        "msteams://TokenA/TokenB/TokenC/",
        "tgram://123456789:AAHxSecretBotToken/987",
        "json://127.0.0.1:9/hook?token=SuperSecret",
        "mailtos://user:pass@smtp.example.org",
    ):
        shown = subs.mask_address("apprise", url)
        assert not any(s in shown for s in ("TokenB", "AAHxSecretBotToken", "SuperSecret", ":pass@")), shown


def test_bulletins_are_linked_to_the_right_alert(store: Store) -> None:
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    events = poll(
        store,
        page(
            alert("DELTA G", "03/12/2026 à 10h00")
            + "<div><h4>BIP n°1 du 03/12/2026 à 11h00</h4><p>Suite.</p></div>"
        ),
        2,
    )
    assert [type(e) for e in events] == [BulletinPublished]


async def test_a_subscriber_joining_mid_outage_is_told_of_the_open_alert_first(store: Store) -> None:
    from relays.fanout import catch_up

    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    late = subs.add(store, channel="console", address="late", client="Late")
    with store.transaction() as session:
        assert catch_up(session, late, now=T0) == 1
        assert catch_up(session, late, now=T0) == 0  # once
    poll(
        store,
        page(
            alert("DELTA G", "03/12/2026 à 10h00"),
            "<h3>BIP n°1 - DELTA G</h3><p>Publié le 03/12/2026 à 11h00</p><p>Suite.</p>",
        ),
        2,
    )
    channel = MemoryChannel(name="console")
    await Sender(store, {"console": channel}, clock=lambda: T0).drain()
    texts = [m.text.splitlines()[0] for m in channel.sent]
    assert texts[0].startswith("🔴 ALERTE — DELTA G") and texts[1].startswith("ℹ️ BIP N°1")
    assert channel.sent[1].thread_ref == channel.delivered[0].ref  # the BIP replies to its copy of the alert


def test_an_alert_closed_by_inference_that_comes_back_is_reopened_and_can_end_again(store: Store) -> None:
    quiet = page(
        "<h3>Interruption programmée</h3><p>Publié le 01/12/2026 à 10h00</p>"
        "<p>DELTA T sera interrompu le 20 décembre 2026 de 9h00 à 17h00.</p>"
    )
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    for n in (2, 3, 4):
        events = poll(store, quiet, n)
    (inferred,) = [e for e in events if isinstance(e, AlertClosed)]
    assert inferred.inferred
    (back,) = poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 5)
    assert (
        isinstance(back, AlertOpened)
        and back.id.endswith(":reopened:1")
        and back.alert_id == inferred.alert_id
    )
    (final,) = poll(store, page(end("DELTA G", "03/12/2026 à 16h00")), 6)
    assert isinstance(final, AlertClosed) and not final.inferred and final.id != inferred.id


def test_an_alert_ended_by_a_fin_is_not_reopened_by_a_stale_page(store: Store) -> None:
    poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 1)
    poll(store, page(end("DELTA G", "03/12/2026 à 16h00")), 2)
    assert poll(store, page(alert("DELTA G", "03/12/2026 à 10h00")), 3) == []
