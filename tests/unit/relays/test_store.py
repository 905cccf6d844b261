"""What one poll records, through the parser, the lifecycle and the store's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relays.events import AlertClosed, AlertOpened, BulletinPublished
from relays.store import Store
from tests.support.pages import alert, end, page, poll


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    yield s
    s.close()


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
