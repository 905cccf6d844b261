"""The iCalendar of planned interruptions: when two announcements are one interruption (a table,
one row per verdict), how series carry SEQUENCE and STATUS, and the calendar read back with the
``icalendar`` library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from relays.calendar import continues, ical, series, upcoming
from relays.events import InterruptionCancelled, InterruptionPlanned

GROUP = ("DELTA G", "ICS2")
MODES = ("EDI", "DTI")


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def notice(
    iid: str,
    *,
    seen: datetime,
    starts: datetime | None,
    ends: datetime | None,
    services: tuple[str, ...] = GROUP,
    modes: tuple[str, ...] = MODES,
    title: str = "Interruption programmée des services en ligne",
    text: str = "Maintenance du réseau.",
) -> InterruptionPlanned:
    return InterruptionPlanned(
        id=iid,
        source="https://www.douane.gouv.fr/meteo",
        detected_at=seen,
        services=services,
        modes=modes,
        starts_at=starts,
        ends_at=ends,
        published_at=seen - timedelta(minutes=5),
        title=title,
        text=text,
    )


def cancel(of: InterruptionPlanned, seen: datetime) -> InterruptionCancelled:
    return InterruptionCancelled(
        id=f"{of.id}:cancelled",
        source=of.source,
        detected_at=seen,
        interruption_id=of.id,
        services=of.services,
        modes=of.modes,
        starts_at=of.starts_at,
        ends_at=of.ends_at,
        title="Annulation de l'interruption programmée",
    )


FIRST = notice("I1", seen=at(1, 10), starts=at(8, 8), ends=at(8, 16))

CASES = [
    # (why, later announcement, same interruption?)
    (
        "the window extended, seen in a later poll",
        notice("I2", seen=at(2, 10), starts=at(8, 8), ends=at(8, 20)),
        True,
    ),
    (
        "shifted by two hours: the windows overlap",
        notice("I2", seen=at(2, 10), starts=at(8, 10), ends=at(8, 18)),
        True,
    ),
    (
        "moved to another day, and the notice says so",
        notice(
            "I2",
            seen=at(2, 10),
            starts=at(9, 8),
            ends=at(9, 16),
            text="L'interruption est reportée au 9 décembre.",
        ),
        True,
    ),
    (
        "moved, said in English",
        notice(
            "I2", seen=at(2, 10), starts=at(10, 8), ends=at(10, 16), title="Planned interruption rescheduled"
        ),
        True,
    ),
    (
        "another day, nothing says it moves: a second interruption",
        notice("I2", seen=at(2, 10), starts=at(15, 8), ends=at(15, 16)),
        False,
    ),
    (
        "both windows on the same page: two interruptions",
        notice("I2", seen=at(1, 10), starts=at(8, 8), ends=at(8, 20)),
        False,
    ),
    (
        "announced after the first one was over",
        notice("I2", seen=at(8, 17), starts=at(8, 15), ends=at(8, 20), text="Prolongée."),
        False,
    ),
    (
        "other téléservices",
        notice("I2", seen=at(2, 10), starts=at(8, 8), ends=at(8, 20), services=("GAMMA",)),
        False,
    ),
    ("other modes", notice("I2", seen=at(2, 10), starts=at(8, 8), ends=at(8, 20), modes=("EDI",)), False),
    (
        "'reporter vos formalités' is advice, not a move",
        notice(
            "I2", seen=at(2, 10), starts=at(15, 8), ends=at(15, 16), text="Pensez à reporter vos formalités."
        ),
        False,
    ),
    (
        "a notice without a window overlaps nothing",
        notice("I2", seen=at(2, 10), starts=None, ends=None),
        False,
    ),
]


@pytest.mark.parametrize(("why", "later", "same"), CASES, ids=[c[0] for c in CASES])
def test_when_a_later_announcement_is_the_same_interruption(
    why: str, later: InterruptionPlanned, same: bool
) -> None:
    assert continues(FIRST, later) is same


def test_a_re_announced_window_keeps_its_uid_and_raises_the_sequence() -> None:
    moved = notice("I2", seen=at(2, 10), starts=at(8, 8), ends=at(8, 20))
    again = notice("I3", seen=at(3, 10), starts=at(8, 9), ends=at(8, 21))
    (one,) = series([FIRST, moved, again])
    assert (one.uid, one.sequence, one.current.id, one.cancelled) == ("I1@prodouane-relay", 2, "I3", False)


def test_a_withdrawal_cancels_the_current_window_only() -> None:
    moved = notice("I2", seen=at(2, 10), starts=at(8, 8), ends=at(8, 20))
    stale = series([FIRST, moved, cancel(FIRST, at(3, 10))])  # the window already moved away
    assert [(s.sequence, s.cancelled) for s in stale] == [(1, False)]
    withdrawn = series([FIRST, moved, cancel(moved, at(3, 10))])
    assert [(s.sequence, s.cancelled) for s in withdrawn] == [(2, True)]


def test_a_withdrawn_series_is_not_continued_by_a_later_window() -> None:
    later = notice("I2", seen=at(3, 10), starts=at(8, 8), ends=at(8, 20))
    found = series([FIRST, cancel(FIRST, at(2, 10)), later])
    assert [(s.uid, s.cancelled) for s in found] == [
        ("I1@prodouane-relay", True),
        ("I2@prodouane-relay", False),
    ]
    assert [s.uid for s in upcoming(found, at(4))] == ["I2@prodouane-relay"]


def test_upcoming_is_by_the_end_of_the_current_window() -> None:
    weekly = notice("I9", seen=at(2, 10), starts=at(15, 8), ends=at(15, 16))
    found = series([FIRST, weekly])
    assert [s.current.id for s in upcoming(found, at(8, 12))] == ["I1", "I9"]  # under way, then ahead
    assert [s.current.id for s in upcoming(found, at(8, 17))] == ["I9"]


def read(body: bytes) -> list[dict[str, object]]:
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and str(calendar["PRODID"]).startswith("-//prodouane-relay")
    return [
        {
            "uid": str(e["UID"]),
            "sequence": int(e["SEQUENCE"]),
            "status": str(e["STATUS"]),
            "start": e.decoded("DTSTART"),
            "end": e.decoded("DTEND") if "DTEND" in e else None,
            "summary": str(e["SUMMARY"]),
            "stamp": e.decoded("DTSTAMP"),
        }
        for e in calendar.walk("VEVENT")
    ]


def test_the_calendar_reads_back_with_utc_times_and_one_vevent_per_interruption() -> None:
    moved = notice("I2", seen=at(2, 10), starts=at(8, 8), ends=at(8, 20))
    weekly = notice("I9", seen=at(2, 11), starts=at(15, 8), ends=at(15, 16), services=("GAMMA",), modes=())
    body = ical(series([FIRST, moved, weekly, cancel(weekly, at(4, 9))]), now=at(5))
    assert b"DTSTART:20261208T080000Z" in body and b"DTEND:20261208T200000Z" in body
    events = read(body)
    assert [(e["uid"], e["sequence"], e["status"]) for e in events] == [
        ("I1@prodouane-relay", 1, "CONFIRMED"),
        ("I9@prodouane-relay", 1, "CANCELLED"),
    ]
    assert events[0]["start"] == at(8, 8) and events[0]["end"] == at(8, 20)
    assert events[0]["stamp"] == at(2, 10)  # when the relay recorded the last change, never "now"
    assert events[0]["summary"] == "Interruption programmée — DELTA G, ICS2 (EDI/DTI)"


def test_an_unchanged_calendar_is_byte_identical_and_old_windows_leave_it() -> None:
    found = series([FIRST])
    assert ical(found, now=at(5)) == ical(found, now=at(6))
    assert read(ical(found, now=at(8) + timedelta(days=91))) == []
    no_window = notice("I5", seen=at(2, 10), starts=None, ends=None)
    assert read(ical(series([no_window]), now=at(5))) == []
