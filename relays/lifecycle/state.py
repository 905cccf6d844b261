"""The state the lifecycle reads and writes: rules, alerts, the source, one poll's work in progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..events import Event
from ..snapshot import Item, Snapshot


@dataclass(frozen=True, slots=True)
class Rules:
    degraded_after: int = 3  # consecutive bad polls before SourceDegraded
    close_after_absent: int = 3  # consecutive healthy polls without an alert before inferring its end


@dataclass(frozen=True, slots=True)
class AlertState:
    id: str
    services: tuple[str, ...]
    modes: tuple[str, ...]
    level: str | None
    title: str
    text: str
    published_at: datetime | None
    status: str = "open"  # "open" | "closed"
    absent_polls: int = 0
    closed_at: datetime | None = None
    inferred_close: bool = False  # closed because it vanished, not by a fin d'alerte
    reopened: int = 0  # times it came back after an inferred close
    #: everything its messages ever announced (a partial end narrows ``services``, not this)
    announced_services: tuple[str, ...] = ()
    announced_modes: tuple[str, ...] = ()
    #: undated fins already on the page when the alert was first seen: they cannot be shown to
    #: come after it, so they never close it (a new undated fin does)
    old_ends: tuple[str, ...] = ()
    #: ids of the other messages taken for this alert (re-dated, re-titled, undated copies), so
    #: the same page read again finds the same alert, open or closed
    aliases: tuple[str, ...] = ()
    #: the bulletins already told for this alert (by what they say), so that a BIP stays with the
    #: alert it was first told for, even once another alert on the same téléservice is the only open one
    bips: tuple[str, ...] = ()
    stated_level: str | None = None  # the level its own message stated when last seen
    level_at: datetime | None = None  # when the message that set the current level was published


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    consecutive_bad: int = 0
    degraded: bool = False
    bad_since: datetime | None = None
    last_error: str | None = None
    last_ok_at: datetime | None = None
    high_water: datetime | None = None  # the newest publication this source has shown


@dataclass(frozen=True, slots=True)
class Prior:
    """What the store knows that the diff needs."""

    source: SourceState
    open_alerts: tuple[AlertState, ...] = ()
    known_alerts: tuple[AlertState, ...] = ()  # alerts (any status) whose ids the snapshot names
    recent_closed: tuple[AlertState, ...] = ()  # alerts closed lately, to recognise their messages
    known_event_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Failure:
    """A poll that produced no trustworthy snapshot."""

    reason: str


@dataclass(frozen=True, slots=True)
class Outcome:
    events: tuple[Event, ...]
    alerts: tuple[AlertState, ...]  # alerts created or changed
    source: SourceState


@dataclass(slots=True)
class Work:
    """The diff in progress: what is open, what each alert item is, what has been said."""

    prior: Prior
    snapshot: Snapshot
    now: datetime
    location: str
    stale: bool
    newest: datetime | None = None  # the page's newest date (publication or update), if believable
    events: list[Event] = field(default_factory=list)
    changed: dict[str, AlertState] = field(default_factory=dict)
    open: dict[str, AlertState] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # open alerts the page shows
    item_alert: dict[int, str] = field(default_factory=dict)  # alert item index -> alert id

    def emit(self, event: Event) -> None:
        if event.id in self.prior.known_event_ids or any(e.id == event.id for e in self.events):
            return
        self.events.append(event)

    def keep(self, alert: AlertState) -> AlertState:
        self.changed[alert.id] = alert
        if alert.status == "open":
            self.open[alert.id] = alert
        else:
            self.open.pop(alert.id, None)
        return alert


def overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return not a or not b or bool(set(a) & set(b))


def moment(item: Item) -> datetime | None:
    return item.updated_at or item.published_at


def union(base: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    return base + tuple(x for x in extra if x not in base)
