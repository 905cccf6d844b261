"""Lifecycle events: the durable facts the relay delivers, one small frozen dataclass each.

An event's ``id`` is deterministic (derived from what the SAU published, never from when we saw
it), so re-polling a page, restarting, or a page that reorders its items yields the same ids and
the store refuses the duplicates. ``source`` is where the poll that produced it looked (a URL,
or the page argument of ``replay``).

    Event
     ├── AlertOpened          an alert published by the CID for some téléservices/modes
     ├── AlertUpdated         an open alert requalified (red ↔ black) or widened to more services/modes
     ├── BulletinPublished    a numbered BIP about an open alert
     ├── AlertClosed          a fin d'alerte (or, marked ``inferred``, a silent disappearance)
     ├── InterruptionPlanned  a planned interruption announced with its window
     ├── InterruptionCancelled an announced interruption withdrawn ("… est annulée")
     ├── SourceDegraded       the page could not be read for a while (admins only)
     ├── SourceRecovered      the page can be read again (admins only)
     ├── UnattributedMessage  a message naming no téléservice we can identify (admins only)
     └── SubscriberDeactivated a subscriber's address refused delivery for good (admins only)
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    id: str
    source: str
    detected_at: datetime
    kind: ClassVar[str] = "event"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEvent(Event):
    """Something about one alert; carries the alert's services, modes and level."""

    alert_id: str
    services: tuple[str, ...]
    modes: tuple[str, ...]
    level: str | None = None
    title: str = ""
    text: str = ""
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertOpened(AlertEvent):
    kind: ClassVar[str] = "alert_opened"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertUpdated(AlertEvent):
    """The alert's state after the change; ``changes`` names what changed ("level", "services",
    "modes"), ``published_at`` is the publication of the message that said so."""

    changes: tuple[str, ...] = ()
    kind: ClassVar[str] = "alert_updated"


@dataclass(frozen=True, slots=True, kw_only=True)
class BulletinPublished(AlertEvent):
    number: int | None = None
    kind: ClassVar[str] = "bulletin"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertClosed(AlertEvent):
    inferred: bool = False
    kind: ClassVar[str] = "alert_closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptionPlanned(Event):
    services: tuple[str, ...]
    modes: tuple[str, ...]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    published_at: datetime | None = None
    title: str = ""
    text: str = ""
    kind: ClassVar[str] = "interruption_planned"


@dataclass(frozen=True, slots=True, kw_only=True)
class InterruptionCancelled(Event):
    """``interruption_id`` names the ``InterruptionPlanned`` event it withdraws."""

    interruption_id: str
    services: tuple[str, ...]
    modes: tuple[str, ...]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    published_at: datetime | None = None
    title: str = ""
    text: str = ""
    kind: ClassVar[str] = "interruption_cancelled"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceDegraded(Event):
    reason: str
    failures: int
    since: datetime
    kind: ClassVar[str] = "source_degraded"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRecovered(Event):
    since: datetime  # when it had started to fail
    kind: ClassVar[str] = "source_recovered"


@dataclass(frozen=True, slots=True, kw_only=True)
class UnattributedMessage(Event):
    """A message that is clearly an alert, bulletin, end or notice but names no téléservice the
    relay can identify: shown to the admins with its page, never relayed to clients."""

    item_kind: str
    title: str = ""
    text: str = ""
    published_at: datetime | None = None
    kind: ClassVar[str] = "unattributed_message"


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriberDeactivated(Event):
    subscriber_id: int
    client: str
    channel: str
    address: str
    reason: str
    kind: ClassVar[str] = "subscriber_deactivated"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreRecovered(Event):
    """The store could not be written for a while (a full disk, writes refused…) and can again:
    for the admins. What the page said meanwhile was read again and recorded; nothing was lost."""

    since: datetime  # when the first write failed
    reason: str  # the fault's reason code (relays.storage): full, read_only, unreachable…
    error: str = ""  # the last error, in one line
    kind: ClassVar[str] = "store_recovered"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        AlertOpened,
        AlertUpdated,
        BulletinPublished,
        AlertClosed,
        InterruptionPlanned,
        InterruptionCancelled,
        SourceDegraded,
        SourceRecovered,
        UnattributedMessage,
        SubscriberDeactivated,
        StoreRecovered,
    )
}
#: Chat buttons carry an index into this tuple: new kinds go at the end.
CLIENT_KINDS: tuple[str, ...] = (
    "alert_opened",
    "bulletin",
    "alert_closed",
    "interruption_planned",
    "alert_updated",
    "interruption_cancelled",
)
ADMIN_KINDS: tuple[str, ...] = (
    "source_degraded",
    "source_recovered",
    "unattributed_message",
    "subscriber_deactivated",
    "store_recovered",
)


def stable_id(*parts: object) -> str:
    """A short deterministic id from the parts (None and tuples are written out canonically)."""
    text = "\x1f".join("" if p is None else ",".join(p) if isinstance(p, tuple) else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def to_record(event: Event) -> dict[str, Any]:
    """The public JSON shape of ``replay --json`` (absent values are null)."""

    def get(name: str) -> Any:
        return getattr(event, name, None)

    title, text = get("title"), get("text")
    if isinstance(event, SourceDegraded):
        title, text = "Source dégradée", event.reason
    elif isinstance(event, SourceRecovered):
        title, text = "Source rétablie", None
    elif isinstance(event, SubscriberDeactivated):
        title, text = f"Abonné désactivé : {event.client}", event.reason
    elif isinstance(event, StoreRecovered):
        title, text = "Stockage rétabli", event.error
    return {
        "kind": event.kind,
        "id": event.id,
        "alert_id": get("alert_id"),
        "services": list(get("services") or []),
        "modes": list(get("modes") or []),
        "level": get("level"),
        "published_at": _iso(get("published_at")),
        "starts_at": _iso(get("starts_at")),
        "ends_at": _iso(get("ends_at")),
        "number": get("number"),
        "inferred": get("inferred") if isinstance(event, AlertClosed) else None,
        "title": title,
        "text": text,
        "source": event.source,
        "detected_at": _iso(event.detected_at),
    }


def dump(event: Event) -> dict[str, Any]:
    """Every field of the event, JSON-ready, for the store."""
    out: dict[str, Any] = {"kind": event.kind}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def load(data: dict[str, Any]) -> Event:
    """The inverse of :func:`dump`."""
    cls = EVENT_TYPES[data["kind"]]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if isinstance(value, str) and f.name in {
            "detected_at",
            "published_at",
            "starts_at",
            "ends_at",
            "since",
        }:
            value = datetime.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)
