"""The planned interruptions as an iCalendar (RFC 5545): a team subscribes once and sees every one.

Each planned interruption is one VEVENT whose UID never changes. DGDDI sometimes announces an
interruption again with a new window (extended, shortened, postponed); the lifecycle then records
a new ``interruption_planned`` (a new window is a new announcement), and here the two are linked
into one *series*: the VEVENT moves to the new window and its SEQUENCE goes up by one. A notice
withdrawing the window (``interruption_cancelled``, whose ``interruption_id`` names the
withdrawn announcement) turns the VEVENT to ``STATUS:CANCELLED``, SEQUENCE up by one again.

When is a later announcement the same interruption? :func:`continues` decides, from the two
announcements alone (a pure rule, one test row per verdict). The later one continues the earlier
one when all of these hold:

1. the same téléservices and the same modes;
2. it was first seen in a *later* poll (two windows on one page are two interruptions);
3. the earlier window was not over yet when it was seen (a monthly maintenance is not a move
   of last month's);
4. the earlier series was not withdrawn;
5. and either the two windows overlap (extended, shortened, shifted by some hours), or the later
   notice says it replaces one ("reportée", "décalée", "initialement prévue", "nouvelle date",
   "postponed", "rescheduled"…).

So a postponement to another day that does not say so stays a separate VEVENT, and the old one
stays in the calendar until a notice withdraws it: a stale maintenance is a smaller harm than a
real one missing (two separate maintenances of the same services, the second announced while
the first is ahead, must both show). When several open series could be continued, the most
recently announced wins.

Times are written in UTC (``…Z``). DTSTAMP and LAST-MODIFIED are when the relay recorded the
series' last change, CREATED when it recorded its first announcement — never "now", so an
unchanged calendar is byte-identical and keeps its ETag.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .events import Event, InterruptionCancelled, InterruptionPlanned

__all__ = ["Series", "continues", "ical", "series", "upcoming"]

#: Words by which a notice says it moves an interruption announced earlier (accents folded).
_REPLACES = re.compile(
    r"\b(reportee?s?|report de|decalee?s?|deplacee?s?|initialement|au lieu d|nouvelle date"
    r"|nouveaux horaires|modifiee?s?|prolongee?s?|postponed|rescheduled|new date|instead of"
    r"|originally planned|extended)\b"
)
#: Windows that ended longer ago than this leave the calendar.
KEEP_PAST = timedelta(days=90)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def says_it_replaces(notice: InterruptionPlanned) -> bool:
    """Whether the notice's words say it moves an interruption announced earlier."""
    return bool(_REPLACES.search(_fold(f"{notice.title}\n{notice.text}")))


def _end(notice: InterruptionPlanned) -> datetime | None:
    return notice.ends_at or notice.starts_at


def _overlap(a: InterruptionPlanned, b: InterruptionPlanned) -> bool:
    if a.starts_at is None or b.starts_at is None:
        return False
    a_end, b_end = a.ends_at or a.starts_at, b.ends_at or b.starts_at
    return a.starts_at <= b_end and b.starts_at <= a_end


def continues(earlier: InterruptionPlanned, later: InterruptionPlanned) -> bool:
    """Whether ``later`` announces ``earlier``'s interruption again, with a new window (rules 1–3
    and 5 of the module docstring; rule 4, a withdrawn series, is the caller's)."""
    if later.id == earlier.id:
        return False
    if set(later.services) != set(earlier.services) or set(later.modes) != set(earlier.modes):
        return False
    if later.detected_at <= earlier.detected_at:
        return False
    over = _end(earlier)
    if over is None or later.detected_at >= over:
        return False
    return _overlap(earlier, later) or says_it_replaces(later)


@dataclass(slots=True)
class Series:
    """One planned interruption: its announcements in order, and whether it was withdrawn."""

    notices: list[InterruptionPlanned] = field(default_factory=list)
    cancelled_by: InterruptionCancelled | None = None

    @property
    def uid(self) -> str:
        return f"{self.notices[0].id}@prodouane-relay"

    @property
    def current(self) -> InterruptionPlanned:
        return self.notices[-1]

    @property
    def sequence(self) -> int:
        return len(self.notices) - 1 + (1 if self.cancelled_by is not None else 0)

    @property
    def cancelled(self) -> bool:
        return self.cancelled_by is not None

    @property
    def created(self) -> datetime:
        return self.notices[0].detected_at

    @property
    def modified(self) -> datetime:
        last = self.cancelled_by.detected_at if self.cancelled_by else self.current.detected_at
        return max(last, self.current.detected_at)


def series(events: Iterable[Event]) -> list[Series]:
    """Link announcements and withdrawals (in the order they were recorded) into series."""
    out: list[Series] = []
    by_notice: dict[str, Series] = {}
    for event in events:
        if isinstance(event, InterruptionPlanned):
            if event.id in by_notice:
                continue
            candidates = [s for s in out if not s.cancelled and continues(s.current, event)]
            found = candidates[-1] if candidates else None
            if found is None:
                found = Series()
                out.append(found)
            found.notices.append(event)
            by_notice[event.id] = found
        elif isinstance(event, InterruptionCancelled):
            found = by_notice.get(event.interruption_id)
            # withdrawing a window the series has already moved away from changes nothing
            if found is not None and not found.cancelled and found.current.id == event.interruption_id:
                found.cancelled_by = event
    return out


def upcoming(all_series: Iterable[Series], now: datetime) -> list[Series]:
    """Series not withdrawn whose current window is not over (by its end, else its start), soonest first."""
    ahead = [s for s in all_series if not s.cancelled and (end := _end(s.current)) is not None and end > now]
    return sorted(ahead, key=lambda s: s.current.starts_at or s.current.ends_at or now)


def _summary(notice: InterruptionPlanned, lang: str) -> str:
    services = ", ".join(notice.services)
    modes = f" ({'/'.join(notice.modes)})" if notice.modes else ""
    head = "Interruption programmée" if lang == "fr" else "Planned interruption"
    return f"{head} — {services}{modes}"


def _description(s: Series, lang: str) -> str:
    notice = s.current
    parts = [p for p in (notice.title, notice.text) if p]
    if s.cancelled:
        parts.insert(0, "Interruption annulée par la DGDDI." if lang == "fr" else "Withdrawn by DGDDI.")
    if notice.ends_at is None:
        parts.append("Fin non précisée." if lang == "fr" else "End not stated.")
    parts.append(
        "Source : météo des téléservices (DGDDI), relayée par prodouane-relay."
        if lang == "fr"
        else "Source: DGDDI météo des téléservices, relayed by prodouane-relay."
    )
    return "\n\n".join(parts)


def ical(all_series: Iterable[Series], *, now: datetime, lang: str = "fr", name: str | None = None) -> bytes:
    """The iCalendar: one VEVENT per series that has a start, ended at most ``KEEP_PAST`` ago."""
    from icalendar import Calendar  # when a calendar is asked for, not at start-up
    from icalendar import Event as VEvent

    cal = Calendar()
    cal.add("prodid", "-//prodouane-relay//interruptions programmées//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    title = name or (
        "Interruptions programmées — téléservices douane"
        if lang == "fr"
        else "Planned interruptions — French customs online services"
    )
    cal.add("name", title)
    cal.add("x-wr-calname", title)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for s in sorted(all_series, key=lambda s: (s.created, s.uid)):
        notice = s.current
        if notice.starts_at is None:
            continue  # no window to put in a calendar
        end = _end(notice)
        if end is not None and end < now - KEEP_PAST:
            continue
        vevent = VEvent()
        vevent.add("uid", s.uid)
        vevent.add("dtstamp", s.modified.astimezone(UTC))
        vevent.add("created", s.created.astimezone(UTC))
        vevent.add("last-modified", s.modified.astimezone(UTC))
        vevent.add("sequence", s.sequence)
        vevent.add("status", "CANCELLED" if s.cancelled else "CONFIRMED")
        vevent.add("dtstart", notice.starts_at.astimezone(UTC))
        if notice.ends_at is not None and notice.ends_at > notice.starts_at:
            vevent.add("dtend", notice.ends_at.astimezone(UTC))
        vevent.add("summary", _summary(notice, lang))
        vevent.add("description", _description(s, lang))
        vevent.add("categories", list(notice.services))
        vevent.add("transp", "OPAQUE")
        if notice.source.startswith(("http://", "https://")):
            vevent.add("url", notice.source)
        cal.add_component(vevent)
    return bytes(cal.to_ical())
