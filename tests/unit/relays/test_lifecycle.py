"""The lifecycle rules that protect users, on the real store (SQLite in a temporary folder)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from relays.events import AlertClosed, AlertOpened, BulletinPublished, Event, SourceDegraded, SourceRecovered
from relays.lifecycle import Failure, Rules
from relays.meteo import parse_page
from relays.store import Store

SAMPLES = Path(__file__).resolve().parents[3] / "relays" / "samples" / "scenario"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    yield s
    s.close()


class Feed:
    """Plays pages into the store like successive polls, a minute apart."""

    def __init__(self, store: Store, rules: Rules = Rules()) -> None:
        self.store, self.rules, self.polls = store, rules, 0

    def __call__(self, page: str | bytes | Failure) -> list[Event]:
        self.polls += 1
        now = T0 + timedelta(minutes=self.polls)
        if isinstance(page, Failure):
            observation: object = page
        else:
            body = (SAMPLES / page).read_bytes() if isinstance(page, str) and page.endswith(".html") else page
            observation = parse_page(body, location=str(page)[:40])
        return self.store.record_poll("meteo", f"poll-{self.polls}", observation, now=now, rules=self.rules)  # type: ignore[arg-type]


def kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


def alert_page(
    extra: str = "", title: str = "ALERTE - DELTA G - EDI", published: str = "03/12/2026 à 10h32"
) -> bytes:
    return f"""<html><body><h2>Messages</h2>
    <article><h3>{title}</h3><p>Publié le {published}</p><p>Panne.</p>{extra}</article>
    <article><h3>Interruption programmée</h3><p>Publié le 02/12/2026 à 16h00</p>
    <p>Maintenance prévue le 8 décembre 2026 de 9h00 à 17h00 pour DELTA T.</p></article>
    </body></html>""".encode()


QUIET = b"""<html><body><h2>Messages</h2><article><h3>Interruption programmee</h3><p>Publie le 02/12/2026 a 16h00</p>
<p>Maintenance prevue le 8 decembre 2026 de 9h00 a 17h00 pour DELTA T.</p></article></body></html>"""


def test_repolling_the_same_page_produces_no_new_event(store: Store) -> None:
    feed = Feed(store)
    assert kinds(feed("03-bip-1.html")) == ["alert_opened", "bulletin", "interruption_planned"]
    assert feed("03-bip-1.html") == []
    assert feed("03-bip-1.html") == []


def test_a_restart_on_the_same_store_produces_no_new_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    first = Store.open(url)
    assert len(Feed(first)("04-bip-2-et-ics2.html")) == 5
    first.close()
    second = Store.open(url)
    try:
        assert Feed(second)("04-bip-2-et-ics2.html") == []
        assert len(second.open_alerts()) == 2
    finally:
        second.close()


def test_a_page_that_reorders_its_items_produces_no_new_event(store: Store) -> None:
    feed = Feed(store)
    original = (SAMPLES / "04-bip-2-et-ics2.html").read_text("utf-8")
    feed(original.encode())
    articles = original.split('<article class="message')
    head, *messages = articles
    reordered = head + "".join('<article class="message' + m for m in reversed(messages))
    assert feed(reordered.encode()) == []


def test_the_sample_scenario_opens_bulletins_and_closes(store: Store) -> None:
    feed = Feed(store)
    produced = [e for name in sorted(p.name for p in SAMPLES.glob("*.html")) for e in feed(name)]
    assert kinds(produced) == [
        "interruption_planned",
        "alert_opened",
        "bulletin",
        "alert_opened",
        "bulletin",
        "alert_closed",
        "alert_closed",
    ]
    closes = [e for e in produced if isinstance(e, AlertClosed)]
    assert [c.inferred for c in closes] == [False, False]
    opened = {e.alert_id: e for e in produced if isinstance(e, AlertOpened)}
    assert {c.alert_id for c in closes} == set(opened)
    assert store.open_alerts() == []


@pytest.mark.parametrize("bad", [Failure("timeout"), b"", b"<html><body><p>captcha</p></body></html>"])
def test_bad_polls_never_close_an_alert_and_degrade_after_three(store: Store, bad: object) -> None:
    feed = Feed(store)
    feed("02-alerte-delta-g.html")
    events: list[Event] = []
    for _ in range(5):
        events += feed(bad if isinstance(bad, Failure) else _as_failure(bad))  # type: ignore[arg-type]
    assert [type(e) for e in events] == [SourceDegraded]
    assert events[0].failures == 3  # type: ignore[attr-defined]
    assert len(store.open_alerts()) == 1
    assert kinds(feed("02-alerte-delta-g.html")) == ["source_recovered"]


def _as_failure(body: bytes) -> Failure:
    from relays.poller import read_page

    result = read_page("bad", body)
    assert isinstance(result, Failure)
    return result


def test_a_page_with_no_message_while_an_alert_is_open_is_a_bad_poll(store: Store) -> None:
    feed = Feed(store, Rules(degraded_after=1))
    feed(alert_page())
    table_only = b"""<html><body><table><tr><th>Service</th><th>EDI</th></tr>
    <tr><td>DELTA G</td><td>Perturbe</td></tr><tr><td>GAMMA</td><td>Disponible</td></tr></table></body></html>"""
    events = feed(table_only)
    assert [type(e) for e in events] == [SourceDegraded]
    assert len(store.open_alerts()) == 1


def test_an_alert_that_vanishes_closes_only_after_three_healthy_polls_and_says_it_was_inferred(
    store: Store,
) -> None:
    feed = Feed(store)
    feed(alert_page())
    assert feed(QUIET) == []
    assert feed(QUIET) == []
    (closed,) = feed(QUIET)
    assert isinstance(closed, AlertClosed) and closed.inferred and closed.published_at is None


def test_an_alert_that_comes_back_resets_its_absence_count(store: Store) -> None:
    feed = Feed(store)
    feed(alert_page())
    feed(QUIET)
    feed(QUIET)
    feed(alert_page())
    assert feed(QUIET) == [] and feed(QUIET) == []
    assert kinds(feed(QUIET)) == ["alert_closed"]


def test_an_end_of_alert_published_before_a_new_alert_does_not_close_it(store: Store) -> None:
    feed = Feed(store)
    old_end = (
        "<article><h3>FIN D'ALERTE - DELTA G - EDI</h3><p>Publié le 02/12/2026 à 18h00</p>"
        "<p>Résolu.</p></article>"
    )
    events = feed(alert_page() + old_end.encode())
    assert kinds(events) == ["alert_opened", "interruption_planned"]
    assert len(store.open_alerts()) == 1


def test_a_stale_page_does_not_reopen_a_closed_alert(store: Store) -> None:
    feed = Feed(store)
    feed("04-bip-2-et-ics2.html")
    feed("05-fin-delta-g.html")
    assert feed("04-bip-2-et-ics2.html") == []  # an old cached copy comes back
    assert [a.services for a in store.open_alerts()] == [("ICS2",)]


def test_a_new_bulletin_is_linked_to_its_alert_and_numbered(store: Store) -> None:
    feed = Feed(store)
    opened = feed(alert_page())[0]
    bip = "<div><h4>BIP n°3 du 03/12/2026 à 12h00</h4><p>Toujours en cours.</p></div>"
    (bulletin,) = feed(alert_page(extra=bip))
    assert isinstance(bulletin, BulletinPublished)
    assert bulletin.alert_id == opened.alert_id  # type: ignore[attr-defined]
    assert bulletin.number == 3 and bulletin.services == ("DELTA G",) and bulletin.modes == ("EDI",)


def test_an_alert_republished_with_an_edited_time_is_the_same_alert(store: Store) -> None:
    feed = Feed(store)
    feed(alert_page())
    assert feed(alert_page(published="03/12/2026 à 10h35")) == []


def test_recovery_is_reported_once(store: Store) -> None:
    feed = Feed(store, Rules(degraded_after=2))
    feed("01-calme.html")
    out = feed(Failure("network")) + feed(Failure("network")) + feed(Failure("network"))
    assert [type(e) for e in out] == [SourceDegraded]
    back = feed("01-calme.html") + feed("01-calme.html")
    assert [type(e) for e in back] == [SourceRecovered]


def _history_page(fin_at: str, *, extra: str = "") -> bytes:
    """A page updated on 13/04/2026 at 18h00 listing a finished DELTA G incident, a past planned
    interruption, and whatever ``extra`` adds."""
    return f"""<html><body><h1>Météo</h1><p>Mis à jour le 13/04/2026 à 18h00</p>{extra}
    <article><h3>FIN D'ALERTE - DELTA G - EDI</h3><p>Publié le {fin_at}</p><p>Rétabli.</p></article>
    <article><h3>BIP n°1 - DELTA G - EDI</h3><p>Publié le 08/04/2026 à 11h00</p><p>Analyse.</p></article>
    <article><h3>ALERTE - DELTA G - EDI</h3><p>Publié le 08/04/2026 à 09h20</p><p>Alerte rouge.</p></article>
    <article><h3>Interruption programmée - GUN</h3><p>Publié le 01/04/2026 à 10h00</p>
    <p>GUN sera indisponible le 4 avril 2026 de 8h00 à 12h00.</p></article>
    </body></html>""".encode()


def test_a_first_poll_tells_nobody_about_incidents_that_ended_days_ago(store: Store) -> None:
    """A relay started on a page listing past incidents sends nothing for them, then or later."""
    poll = Feed(store)
    assert poll(_history_page("08/04/2026 à 15h45")) == []
    assert poll(_history_page("08/04/2026 à 15h45")) == []
    assert queries_open(store) == []


def test_a_first_poll_within_a_day_of_a_fin_still_tells_it(store: Store) -> None:
    """The reintegration deadline runs for 24 hours from the fin: a relay started within that day
    tells the alert and its fin."""
    events = Feed(store)(_history_page("13/04/2026 à 09h00"))
    assert kinds(events) == ["alert_opened", "bulletin", "alert_closed"]


def test_a_new_alert_on_a_page_full_of_history_is_told(store: Store) -> None:
    new = """<article><h3>ALERTE - ICS2 - EDI</h3><p>Publié le 13/04/2026 à 17h30</p><p>Alerte rouge.</p></article>"""
    events = Feed(store)(_history_page("08/04/2026 à 15h45", extra=new))
    assert kinds(events) == ["alert_opened"] and events[0].services == ("ICS2",)  # type: ignore[attr-defined]


def test_history_is_only_for_the_first_poll_an_alert_and_fin_seen_together_later_are_told(store: Store) -> None:
    """A short outage that opened and ended between two polls is news: clients must hear of the fin."""
    poll = Feed(store)
    poll(b"<html><body><h1>M\xc3\xa9t\xc3\xa9o</h1><p>Aucune alerte en cours.</p></body></html>")
    events = poll(_history_page("08/04/2026 à 15h45"))
    assert "alert_opened" in kinds(events) and "alert_closed" in kinds(events)


def test_a_withdrawal_without_a_window_withdraws_the_announcement_beside_it(store: Store) -> None:
    notice = """<article><h3>Interruption programmée - NCTS-P5 et ECS</h3><p>Publié le 15/06/2026 à 16h30</p>
    <p>NCTS-P5 et ECS seront indisponibles le 20 juin 2026 de 22h00 à 23h30.</p></article>"""
    withdrawal = """<article><h3>ANNULATION - Interruption programmée NCTS-P5 et ECS du 20 juin</h3>
    <p>Publié le 18/06/2026 à 10h02</p><p>L'interruption annoncée le 15 juin est annulée.</p></article>"""
    poll = Feed(store)
    first = poll(f"<html><body><h1>Météo</h1>{notice}</body></html>".encode())
    assert kinds(first) == ["interruption_planned"]
    later = poll(f"<html><body><h1>Météo</h1>{withdrawal}{notice}</body></html>".encode())
    assert kinds(later) == ["interruption_cancelled"]
    assert later[0].interruption_id == first[0].id and later[0].starts_at == first[0].starts_at  # type: ignore[attr-defined]
    assert poll(f"<html><body><h1>Météo</h1>{withdrawal}{notice}</body></html>".encode()) == []


def queries_open(store: Store) -> list[object]:
    return list(store.open_alerts())


def test_a_bulletin_whose_title_names_another_mode_widens_its_alert_first(store: Store) -> None:
    alert = "<article><h3>ALERTE ROUGE - NCTS-P5 - EDI</h3><p>Publié le 03/12/2026 à 08h40</p><p>Panne.</p></article>"
    bip = """<article><h3>BIP n°1 - NCTS-P5 - EDI et DTI</h3><p>Publié le 03/12/2026 à 10h15</p>
    <p>Le dysfonctionnement s'étend au mode DTI.</p></article>"""
    poll = Feed(store)
    poll(f"<html><body><h1>Météo</h1>{alert}</body></html>".encode())
    events = poll(f"<html><body><h1>Météo</h1>{bip}{alert}</body></html>".encode())
    assert kinds(events) == ["alert_updated", "bulletin"]
    assert all(e.modes == ("EDI", "DTI") for e in events)  # type: ignore[attr-defined]
