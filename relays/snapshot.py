"""What one look at the météo page saw: typed, immutable, independent of the page's markup.

The parser (``relays/meteo/``) produces a :class:`Snapshot`; the lifecycle (``relays/lifecycle/``) diffs it
against the store. Keeping this boundary typed and frozen means the lifecycle never sees HTML and
a redesign of the page only ever touches the parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ItemKind(StrEnum):
    """What a message on the page is, read from its meaning rather than its styling."""

    ALERT = "alert"
    BULLETIN = "bulletin"
    END = "end"
    PLANNED = "planned"
    INFORMATION = "information"


class ServiceState(StrEnum):
    """One cell of the status table."""

    OK = "ok"
    ALERT = "alert"  # degraded / perturbed (a red alert)
    DOWN = "down"  # unavailable (a black alert)
    PLANNED = "planned"  # announced maintenance
    UNKNOWN = "unknown"


MODES: tuple[str, ...] = ("EDI", "DTI")


@dataclass(frozen=True, slots=True)
class Item:
    """One message of the SAU: an alert, a BIP, an end of alert, a planned interruption, a note."""

    kind: ItemKind
    services: tuple[str, ...]
    modes: tuple[str, ...]
    title: str
    text: str
    published_at: datetime | None = None
    updated_at: datetime | None = None  # "Mis à jour le …", when the message says it
    level: str | None = None  # "red" | "black" | None: an alert's level, or the level a BIP announces
    number: int | None = None  # BIP number
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    parent: int | None = None  # index in Snapshot.items of the alert a BIP belongs to
    cancelled: bool = False  # a notice withdrawing a planned interruption
    #: where each reading came from (``poll --once --explain``): (what, "value: element and words")
    why: tuple[tuple[str, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """The state shown for one téléservice in one transmission mode."""

    service: str
    mode: str
    state: ServiceState
    label: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A healthy, parsed page. Unhealthy pages never become snapshots (see ``meteo.PageError``)."""

    location: str
    items: tuple[Item, ...]
    statuses: tuple[ServiceStatus, ...] = ()
    size: int = 0
    all_clear: bool = field(default=False)  # the page says in words that nothing is wrong
    newest: datetime | None = None  # the latest publication or update date the page shows

    def unattributed(self) -> list[Item]:
        """Messages that are clearly alerts, bulletins, ends or notices but name no téléservice."""
        return [
            i
            for i in self.items
            if not i.services
            and i.kind is not ItemKind.INFORMATION
            and not (i.kind is ItemKind.BULLETIN and i.parent is not None)
        ]

    def alerts(self) -> list[Item]:
        return [i for i in self.items if i.kind is ItemKind.ALERT]

    def state_of(self, service: str, mode: str) -> ServiceState:
        for status in self.statuses:
            if status.service == service and status.mode == mode:
                return status.state
        return ServiceState.UNKNOWN

    def table_all_ok(self) -> bool:
        return bool(self.statuses) and all(s.state is ServiceState.OK for s in self.statuses)
