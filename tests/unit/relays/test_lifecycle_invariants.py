"""The lifecycle's invariants, checked on generated snapshots with the pure ``observe()`` alone.

No parser and no database: a tiny in-memory fold of ``Outcome`` into the next ``Prior`` stands for
the store, so a failing example shrinks to a handful of items and reproduces exactly. Whatever the
page shows, in whatever order, the relay never tells a client of an alert with no téléservice,
never says the same thing twice, never closes anything on a bad poll, and reads the same page the
same way however its messages are ordered.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from relays.events import (
    CLIENT_KINDS,
    AlertClosed,
    AlertOpened,
    AlertUpdated,
    BulletinPublished,
    Event,
)
from relays.lifecycle import AlertState, Failure, Prior, Rules, SourceState, observe
from relays.snapshot import Item, ItemKind, ServiceState, ServiceStatus, Snapshot

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
SERVICES = ("DELTA G", "DELTA X Import", "ICS2", "GAMMA")


@dataclass
class Memory:
    """What the store would hold after each poll: alerts, event ids, the source's health."""

    alerts: dict[str, AlertState] = field(default_factory=dict)
    event_ids: set[str] = field(default_factory=set)
    source: SourceState = field(default_factory=lambda: SourceState(name="meteo"))
    polls: int = 0

    def prior(self) -> Prior:
        alerts = tuple(self.alerts.values())
        return Prior(
            source=self.source,
            open_alerts=tuple(a for a in alerts if a.status == "open"),
            known_alerts=alerts,
            recent_closed=tuple(a for a in alerts if a.status == "closed"),
            known_event_ids=frozenset(self.event_ids),
        )

    def poll(self, observation: Snapshot | Failure) -> list[Event]:
        self.polls += 1
        outcome = observe(
            self.prior(), observation, location=f"p{self.polls}", now=T0 + timedelta(minutes=self.polls)
        )
        for alert in outcome.alerts:
            self.alerts[alert.id] = alert
        self.event_ids |= {e.id for e in outcome.events}
        self.source = outcome.source
        return list(outcome.events)


moments = st.one_of(st.none(), st.integers(0, 12).map(lambda n: T0 + timedelta(minutes=30 * n)))
service_sets = st.lists(st.sampled_from(SERVICES), max_size=2, unique=True).map(tuple)
mode_sets = st.sampled_from([(), ("EDI",), ("DTI",), ("EDI", "DTI")])


@st.composite
def items(draw: st.DrawFn) -> Item:
    kind = draw(st.sampled_from(list(ItemKind)))
    published = draw(moments)
    starts = T0 + timedelta(days=draw(st.integers(1, 3)))
    return Item(
        kind=kind,
        services=draw(service_sets),
        modes=draw(mode_sets),
        title=draw(st.sampled_from(["ALERTE", "BIP", "FIN D'ALERTE", "Interruption", "Info"])),
        text=draw(st.sampled_from(["", "Panne.", "Suite."])),
        published_at=published,
        level=draw(st.sampled_from([None, "red", "black"]))
        if kind in (ItemKind.ALERT, ItemKind.BULLETIN)
        else None,
        number=draw(st.integers(1, 3)) if kind is ItemKind.BULLETIN else None,
        starts_at=starts if kind is ItemKind.PLANNED else None,
        ends_at=starts + timedelta(hours=8) if kind is ItemKind.PLANNED else None,
    )


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    found = draw(st.lists(items(), max_size=6))
    linked = []
    for index, item in enumerate(found):  # a bulletin may be nested in an alert listed before it
        alerts = [i for i in range(index) if found[i].kind is ItemKind.ALERT]
        if item.kind is ItemKind.BULLETIN and alerts and draw(st.booleans()):
            item = replace(item, parent=draw(st.sampled_from(alerts)))
        linked.append(item)
    down = draw(st.lists(st.sampled_from(SERVICES), max_size=2, unique=True))
    statuses = tuple(
        ServiceStatus(s, m, ServiceState.DOWN if s in down else ServiceState.OK)
        for s in SERVICES
        for m in ("EDI", "DTI")
    )
    stamps = [m for i in linked for m in (i.published_at, i.updated_at) if m is not None]
    return Snapshot(
        location="page",
        items=tuple(linked),
        statuses=statuses if draw(st.booleans()) else (),
        newest=max(stamps) if stamps else None,
    )


observations = st.lists(st.one_of(snapshots(), st.just(Failure("timeout"))), min_size=1, max_size=6)


def client_events(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind in CLIENT_KINDS]


@given(observations)
def test_no_client_is_ever_told_of_something_that_names_no_teleservice(run: list[Snapshot | Failure]) -> None:
    memory = Memory()
    for observation in run:
        for event in client_events(memory.poll(observation)):
            assert getattr(event, "services", ()), (
                f"{event.kind} with no téléservice reached clients: {event}"
            )


@given(observations)
def test_nothing_is_said_twice(run: list[Snapshot | Failure]) -> None:
    memory = Memory()
    said: set[str] = set()
    for observation in run:
        for event in memory.poll(observation):
            assert event.id not in said, f"said twice: {event}"
            said.add(event.id)


@given(observations, snapshots())
def test_polling_the_same_page_again_says_nothing_new(run: list[Snapshot | Failure], page: Snapshot) -> None:
    memory = Memory()
    for observation in run:
        memory.poll(observation)
    memory.poll(page)
    again = client_events(memory.poll(page))
    assert not [e for e in again if not isinstance(e, AlertClosed) or not e.inferred], again


@given(observations)
def test_a_bad_poll_adds_nothing_and_closes_nothing(run: list[Snapshot | Failure]) -> None:
    memory = Memory()
    for observation in run:
        memory.poll(observation)
    still_open = {a.id for a in memory.alerts.values() if a.status == "open"}
    assert client_events(memory.poll(Failure("truncated"))) == []
    assert {a.id for a in memory.alerts.values() if a.status == "open"} == still_open


@given(observations, snapshots(), st.randoms(use_true_random=False))
def test_the_order_of_the_messages_on_the_page_does_not_matter(
    run: list[Snapshot | Failure], page: Snapshot, rnd: object
) -> None:
    order = list(range(len(page.items)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    where = {old: new for new, old in enumerate(order)}
    shuffled = replace(
        page,
        items=tuple(
            replace(
                page.items[old],
                parent=where[page.items[old].parent] if page.items[old].parent is not None else None,
            )
            for old in order
        ),
    )
    first, second = Memory(), Memory()
    for observation in run:
        first.poll(observation)
        second.poll(observation)
    assert {e.id for e in first.poll(page)} == {e.id for e in second.poll(shuffled)}


@given(observations)
def test_every_bulletin_update_and_end_is_about_an_alert_that_was_opened(
    run: list[Snapshot | Failure],
) -> None:
    memory = Memory()
    opened: set[str] = set()
    for observation in run:
        for event in memory.poll(observation):
            if isinstance(event, AlertOpened):
                opened.add(event.alert_id)
            elif isinstance(event, BulletinPublished | AlertUpdated | AlertClosed):
                assert event.alert_id in opened, event


def test_rules_default_to_the_documented_values() -> None:
    assert Rules() == Rules(degraded_after=3, close_after_absent=3)


def _item(kind: ItemKind, *services: str, number: int | None = None) -> Item:
    return Item(kind=kind, services=services, modes=(), title="ALERTE", text="", number=number)


def test_a_copy_of_a_told_bip_naming_one_more_service_is_not_told_again_once_its_alert_closes() -> None:
    # found by the property above: BIP n°2 told for the DELTA X Import alert, then a copy of it
    # naming DELTA G too beside the fin of DELTA X Import; polled again, it must not be told to
    # the DELTA G alert as that alert's BIP n°2
    memory = Memory()
    memory.poll(Snapshot(location="page", items=(_item(ItemKind.ALERT, "DELTA X Import"),)))
    memory.poll(
        Snapshot(
            location="page",
            items=(
                _item(ItemKind.ALERT, "DELTA X Import"),
                _item(ItemKind.ALERT, "DELTA G"),
                _item(ItemKind.BULLETIN, "DELTA X Import", number=2),
            ),
        )
    )
    page = Snapshot(
        location="page",
        items=(
            _item(ItemKind.BULLETIN, "DELTA G", "DELTA X Import", number=2),
            _item(ItemKind.END, "DELTA X Import"),
        ),
    )
    memory.poll(page)
    again = client_events(memory.poll(page))
    assert not [e for e in again if not isinstance(e, AlertClosed) or not e.inferred], again
