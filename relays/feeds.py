"""Public events as data for machines: one JSON shape, the filters, the Atom feed, ETags.

Machines read what the relay knows through the web side (``bot.api``): a JSON API, an Atom feed,
an iCalendar of planned interruptions (:mod:`relays.calendar`) and signed webhooks
(:mod:`relays.cloudevents`). They all speak of the same *public* events — what the CID published
and the relay made of it — and never of subscribers, deliveries or the source's admins::

    public kinds  alert_opened, alert_updated, bulletin, alert_closed,
                  interruption_planned, interruption_cancelled        (events.CLIENT_KINDS)
    never         source_degraded, source_recovered, unattributed_message, subscriber_deactivated

:func:`record` is the one JSON shape of an event for machines (the API's items and the webhooks'
``data``): ``replay --json``'s record plus what a machine needs to link events (``changes`` of an
``alert_updated``, ``interruption_id`` of an ``interruption_cancelled``). :func:`atom` writes the
feed with feedgen; :func:`etag` makes the validator every machine route answers ``If-None-Match``
with. Bodies are deterministic (no "now" in them) so an unchanged state keeps its ETag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .calendar import Series
from .events import (
    CLIENT_KINDS,
    AlertUpdated,
    Event,
    InterruptionCancelled,
    to_record,
)
from .queries import Alert, Health
from .render import render

__all__ = [
    "PUBLIC_KINDS",
    "Filter",
    "alert_record",
    "atom",
    "entry_id",
    "etag",
    "etag_matches",
    "health_record",
    "interruption_record",
    "is_public",
    "record",
]

#: The kinds a machine may read; everything else is for the admins only.
PUBLIC_KINDS: tuple[str, ...] = CLIENT_KINDS
#: The feed's date when it has no entry yet (feedgen would otherwise write "now", changing the ETag).
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def is_public(event: Event) -> bool:
    return event.kind in PUBLIC_KINDS


def record(event: Event) -> dict[str, Any]:
    """The JSON shape of a public event for machines (absent values are null)."""
    out = to_record(event)
    out["changes"] = list(event.changes) if isinstance(event, AlertUpdated) else None
    out["interruption_id"] = event.interruption_id if isinstance(event, InterruptionCancelled) else None
    return out


@dataclass(frozen=True, slots=True)
class Filter:
    """What a machine asked for: téléservices, modes and kinds (empty: everything public)."""

    services: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def matches(self, event: Event) -> bool:
        """Public, of a wanted kind, and naming one of the wanted services and one of the modes.

        An event that names no mode concerns both; one that names no service is never public."""
        if not is_public(event) or (self.kinds and event.kind not in self.kinds):
            return False
        services = set(getattr(event, "services", ()) or ())
        if self.services and not services & set(self.services):
            return False
        modes = set(getattr(event, "modes", ()) or ())
        return not (self.modes and modes and not modes & set(self.modes))


def etag(body: bytes) -> str:
    """A strong validator for ``body``."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, current: str) -> bool:
    """Whether an ``If-None-Match`` header names ``current`` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = current.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def entry_id(event_id: str) -> str:
    """A stable, global id for one event (the Atom entry's id)."""
    return "urn:prodouane-relay:event:" + quote(event_id, safe=":@+-_.")


def _link(source: str) -> str | None:
    return source if source.startswith(("http://", "https://")) else None


def atom(events: Sequence[Event], *, self_url: str, lang: str = "fr", title: str | None = None) -> bytes:
    """An Atom 1.0 feed of ``events`` (newest first), each written as a subscriber would read it."""
    from feedgen.feed import FeedGenerator  # (and lxml) when a feed is asked for, not at start-up

    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(
        title
        or (
            "Météo des téléservices — alertes relayées"
            if lang == "fr"
            else "Customs online services — relayed alerts"
        )
    )
    fg.subtitle(
        "Alertes, bulletins (BIP), fins d'alerte et interruptions programmées de la DGDDI, "
        "relayés par prodouane-relay"
        if lang == "fr"
        else "DGDDI alerts, bulletins, ends of alert and planned interruptions, relayed by prodouane-relay"
    )
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.author(name="prodouane-relay")
    fg.language(lang)
    fg.updated(max((e.detected_at for e in events), default=EPOCH))
    for event in reversed(events):  # feedgen prepends: add oldest first to write newest first
        text = render(event, "notify", lang=lang, fmt="plain")
        first, _, _ = text.partition("\n")
        entry = fg.add_entry()
        entry.id(entry_id(event.id))
        entry.title(first.strip() or event.kind)
        entry.updated(event.detected_at)
        published = getattr(event, "published_at", None)
        entry.published(published or event.detected_at)
        entry.content(text, type="text")
        link = _link(event.source)
        if link:
            entry.link(href=link, rel="alternate")
        entry.category(term=event.kind, scheme="urn:prodouane-relay:kind")
        for service in getattr(event, "services", ()) or ():
            entry.category(term=service, scheme="urn:prodouane-relay:service")
    return bytes(fg.atom_str(pretty=True))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def alert_record(alert: Alert) -> dict[str, Any]:
    """An open alert for ``/api/v1/status``."""
    latest = alert.latest_bulletin
    return {
        "id": alert.id,
        "services": list(alert.services),
        "modes": list(alert.modes),
        "level": alert.level,
        "title": alert.title,
        "text": alert.text,
        "published_at": _iso(alert.published_at),
        "opened_at": alert.opened_at.isoformat(),
        "bulletins": len(alert.bulletins),
        "latest_bulletin": None
        if latest is None
        else {"number": latest.number, "published_at": _iso(latest.published_at), "text": latest.text},
    }


def interruption_record(series: Series) -> dict[str, Any]:
    """A planned interruption (its current window) for ``/api/v1/status``."""
    notice = series.current
    return {
        "uid": series.uid,
        "id": notice.id,
        "services": list(notice.services),
        "modes": list(notice.modes),
        "starts_at": _iso(notice.starts_at),
        "ends_at": _iso(notice.ends_at),
        "title": notice.title,
        "text": notice.text,
        "sequence": series.sequence,
    }


def health_record(health: Health) -> dict[str, Any]:
    """The source's health for ``/api/v1/status`` (its last error stays on the staff's page)."""
    return {
        "state": str(health.state),
        "last_ok_at": _iso(health.last_ok_at),
        "consecutive_bad": health.consecutive_bad,
        "bad_since": _iso(health.bad_since),
    }
