"""French dates and times as the SAU writes them, read into aware UTC datetimes.

The météo page writes local Paris time in many shapes: "Publié le 03/12/2026 à 10h32",
"du 3 décembre 2026 à 10 h 32", "03/12/26 - 10:32", "le mardi 8 décembre 2026 de 9h00 à 17h00",
"du lundi 14 décembre 2026 à 20h00 au mardi 15 décembre 2026 à 6h00". Everything is stored and
compared as aware UTC; the Europe/Paris offset (winter +01:00, summer +02:00) is applied here and
nowhere else. Functions never raise on odd text: they return None or nothing. A date written
without its year ("le 3 décembre", "le 24/11 à 10h32") is the nearest such day not more than six
months after the *reference day*: the page's own newest full date when the parser sets it with
:func:`around`, else today.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_REFERENCE: ContextVar[Callable[[], date | None] | None] = ContextVar("reference_day", default=None)


@contextmanager
def around(day: Callable[[], date | None]) -> Iterator[None]:
    """Read yearless dates, within the block, as the nearest such day around ``day()`` — asked for
    only when such a date turns up, then kept (None: today)."""
    cache: list[date | None] = []

    def once() -> date | None:
        if not cache:
            cache.append(None)  # while the reference is being found, yearless dates read around today
            cache[0] = day()
        return cache[0]

    token = _REFERENCE.set(once)
    try:
        yield
    finally:
        _REFERENCE.reset(token)


def _reference() -> date:
    day = _REFERENCE.get()
    return (day() if day is not None else None) or datetime.now(UTC).date()


def _yearless(month: int, day: int) -> date:
    today = _reference()
    guess = date(today.year, month, day)
    if guess > today + timedelta(days=183):
        return guess.replace(year=today.year - 1)
    if guess < today - timedelta(days=183):
        return guess.replace(year=today.year + 1)
    return guess


MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "février": 2,
    "fevr": 2,
    "févr": 2,
    "fev": 2,
    "fév": 2,
    "mars": 3,
    "mar": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "août": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "décembre": 12,
    "dec": 12,
    "déc": 12,
    # English, for bilingual pages: "15 September 2026 at 08:50"
    "january": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAYNAME = (
    r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?"
)

# A calendar date: 03/12/2026, 3-12-26, 3.12.2026, 2026-12-03, "3 décembre 2026", "1er août 2023".
DATE_RE = (
    r"(?:(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
    r"|(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4}|\d{2})(?!\d)"
    rf"|{_DAYNAME}(?P<td>\d{{1,2}})(?:er)?\s+(?P<tm>{_MONTH_RE})\.?\s+(?P<ty>\d{{4}})"
    # no year ("publié le 3 décembre à 10h32"): the nearest such day, not more than 6 months ahead
    rf"|{_DAYNAME}(?P<ud>\d{{1,2}})(?:er)?\s+(?P<um>{_MONTH_RE})\b(?!\.?\s*\d{{4}}))"
)
# A clock time: 10h32, 10 h 32, 10h, 10:32, 10H32.
TIME_RE = r"(?P<hh>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<mm>\d{2})?(?![\d])(?:\s*(?P<ap>[ap])\.?m\b\.?)?"

_DATE = re.compile(DATE_RE, re.IGNORECASE)
_DAY_MONTH_TIME = re.compile(
    rf"(?<![\d/.])(?P<nd>\d{{1,2}})/(?P<nm>\d{{1,2}})(?![\d/])\s*(?:à|a|-|,|–)\s*{TIME_RE}", re.IGNORECASE
)
_TIME = re.compile(TIME_RE)
# "DATE [à|-|,] TIME" — the time must follow the date closely to belong to it.
_DATETIME = re.compile(rf"{DATE_RE}(?:\s*(?:à|a|at|-|,|–|T)?\s*(?:{TIME_RE}))?", re.IGNORECASE)


def _date_from(m: re.Match[str]) -> date | None:
    g = m.groupdict()
    try:
        if g.get("iy"):
            return date(int(g["iy"]), int(g["im"]), int(g["id"]))
        if g.get("d"):
            year = int(g["y"])
            if year < 100:
                year += 2000
            return date(year, int(g["m"]), int(g["d"]))
        if g.get("td"):
            month = MONTHS[g["tm"].lower()]
            return date(int(g["ty"]), month, int(g["td"]))
        if g.get("ud"):
            return _yearless(MONTHS[g["um"].lower()], int(g["ud"]))
    except (ValueError, KeyError):
        return None
    return None


def _time_from(hh: str | None, mm: str | None, ap: str | None = None) -> time | None:
    if hh is None:
        return None
    h, mi = int(hh), int(mm or 0)
    if ap and 1 <= h <= 12:  # "4:30 pm" on an English page
        h = (h % 12) + (12 if ap.lower() == "p" else 0)
    if h == 24 and mi == 0:
        return time(23, 59)
    if not (0 <= h < 24 and 0 <= mi < 60):
        return None
    return time(h, mi)


def paris_to_utc(day: date, clock: time | None) -> datetime:
    """A Paris wall-clock moment as aware UTC (midnight when no time is given)."""
    local = datetime.combine(day, clock or time(0, 0), tzinfo=PARIS)
    return local.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Found:
    """A date (and maybe time) found in a text, with where it stood."""

    at: datetime  # aware UTC
    has_time: bool
    start: int
    end: int


def find_datetimes(text: str) -> list[Found]:
    """Every date (with its time when one follows) in ``text``, in reading order."""
    found: list[Found] = []
    position = 0
    while (m := _DATETIME.search(text, position)) is not None:
        day = _date_from(m)
        if day is None:  # "H7 - 31/03/26" read as day 7, month 31: try again one character on
            position = m.start() + 1
            continue
        clock = _time_from(m.group("hh"), m.group("mm"), m.group("ap"))
        found.append(Found(paris_to_utc(day, clock), clock is not None, m.start(), m.end()))
        position = m.end()
    for m in _DAY_MONTH_TIME.finditer(text):  # "le 24/11 à 10h32": only with its time, never "24/7"
        if any(f.start <= m.start() < f.end for f in found):
            continue
        clock = _time_from(m.group("hh"), m.group("mm"), m.group("ap"))
        try:
            day = _yearless(int(m.group("nm")), int(m.group("nd")))
        except ValueError:
            continue
        if clock is not None:
            found.append(Found(paris_to_utc(day, clock), True, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def parse_datetime(text: str) -> datetime | None:
    """The first date-and-time in ``text`` as aware UTC; a bare date counts as local midnight."""
    found = find_datetimes(text)
    with_time = [f for f in found if f.has_time]
    if with_time:
        return with_time[0].at
    return found[0].at if found else None


#: "Publié par la DGDDI le …", "posted by the SAU on …": who published, between the label and the date
_BY = (
    r"(?:\s+(?:par|by)\s+[^\n.:;]{1,40}?"
    r"(?=\s+(?:le|du|on)\s+(?:\d|lun|mar|mer|jeu|ven|sam|dim|mon|tue|wed|thu|fri|sat|sun)))?"
)
_PUBLISHED = re.compile(
    r"(?:date\s+de\s+(?:premi[èe]re\s+)?publication|publi[ée]e?s?|publication|diffus[ée]e?|émis|emis|"
    r"message\s+du|bulletin[^.\n]{0,60}?\bdu|dat[ée]e?\s+du|published|posted)"
    rf"{_BY}\s*(?:le|du|on|:)?\s*:?\s*",
    re.IGNORECASE,
)
_UPDATED = re.compile(
    r"(?:derni[èe]re\s+mise\s+[àa]\s+jour|date\s+de\s+mise\s+[àa]\s+jour|mis\s+[àa]\s+jour|mise\s+[àa]\s+jour"
    r"|modifi[ée]e?|actualis[ée]e?|updated|last\s+updated)"
    rf"{_BY}\s*(?:le|du|on|:)?\s*:?\s*",
    re.IGNORECASE,
)


def _labelled(pattern: re.Pattern[str], text: str) -> Found | None:
    for m in pattern.finditer(text):
        tail = text[m.end() : m.end() + 80]
        found = find_datetimes(tail)
        if found and found[0].start <= 3:
            return found[0]
    return None


def find_published(text: str) -> Found | None:
    """The date a publication label introduces ("Publié le", "Date de publication :"), with whether
    it gives the time — a bare day yields to a timed source that agrees with it."""
    return _labelled(_PUBLISHED, text)


def parse_updated(text: str) -> datetime | None:
    """The moment a message says it was updated: "Mis à jour le …", "Dernière mise à jour : …"."""
    found = _labelled(_UPDATED, text)
    return found.at if found else None


def parse_published(text: str, *, or_updated: bool = True) -> datetime | None:
    """The publication moment: a date introduced by "Publié le", "Date de publication :", "… du";
    failing that (unless ``or_updated`` is false), "Mis à jour le" — a message updated on a date was
    published by then; else None."""
    found = _labelled(_PUBLISHED, text) or (_labelled(_UPDATED, text) if or_updated else None)
    return found.at if found else None


@dataclass(frozen=True, slots=True)
class Window:
    """A planned interval, aware UTC."""

    starts_at: datetime
    ends_at: datetime


_RANGE_SAME_DAY = re.compile(
    rf"(?:{DATE_RE})[^.\d]{{0,80}}?(?:de|entre|à partir de|a partir de|dès|des|from|between)\s*"
    r"(?P<h1>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<m1>\d{2})?(?:\s*(?P<a1>[ap])\.?m\b\.?)?"
    r"\s*(?:à|a|et|-|–|jusqu'à|jusqu’à|to|and|until)\s*"
    r"(?P<h2>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<m2>\d{2})?(?:\s*(?P<a2>[ap])\.?m\b\.?)?",
    re.IGNORECASE,
)
_RANGE_TWO_DAYS = re.compile(
    rf"(?:du|depuis le|à partir du|from)\s+{_DAYNAME}(?P<a>{DATE_RE.replace('?P<', '?P<a_')})"
    r"\s*(?:à|a|at|,|-)?\s*"
    r"(?P<ah>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<am>\d{2})?(?:\s*(?P<aap>[ap])\.?m\b\.?)?\s*"
    rf"(?:au|jusqu'au|jusqu’au|to|until)\s+{_DAYNAME}(?P<b>{DATE_RE.replace('?P<', '?P<b_')})"
    r"\s*(?:à|a|at|,|-)?\s*"
    r"(?P<bh>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<bm>\d{2})?(?:\s*(?P<bap>[ap])\.?m\b\.?)?",
    re.IGNORECASE,
)


_MONTH_GROUP = rf"(?:{_MONTH_RE})"
_RANGE_OVERNIGHT = re.compile(
    rf"\bdu\s+{_DAYNAME}(?P<d1>\d{{1,2}})(?:er)?\s+(?:(?P<m1>{_MONTH_GROUP})\s+)?(?:(?P<y1>\d{{4}})\s+)?"
    rf"au\s+{_DAYNAME}(?P<d2>\d{{1,2}})(?:er)?\s+(?P<m2>{_MONTH_GROUP})\s+(?P<y2>\d{{4}})"
    r"[^.\d]{0,30}?(?:de|entre|à partir de)\s*"
    r"(?P<h1>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<m_1>\d{2})?\s*(?:à|a|et|-|–|jusqu'à|jusqu’à)\s*"
    r"(?P<h2>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<m_2>\d{2})?",
    re.IGNORECASE,
)


def _overnight(text: str) -> Window | None:
    """ "dans la nuit du samedi 9 au dimanche 10 janvier 2027, de 22h00 à 4h00": a start on the
    first day, an end on the second."""
    m = _RANGE_OVERNIGHT.search(text)
    if not m:
        return None
    try:
        m2 = MONTHS[m.group("m2").lower()]
        m1 = MONTHS[m.group("m1").lower()] if m.group("m1") else m2
        y2 = int(m.group("y2"))
        y1 = int(m.group("y1")) if m.group("y1") else (y2 - 1 if m1 > m2 else y2)
        d1, d2 = date(y1, m1, int(m.group("d1"))), date(y2, m2, int(m.group("d2")))
    except (KeyError, ValueError):
        return None
    t1, t2 = _time_from(m.group("h1"), m.group("m_1")), _time_from(m.group("h2"), m.group("m_2"))
    if t1 is None or t2 is None:
        return None
    start, end = paris_to_utc(d1, t1), paris_to_utc(d2, t2)
    return Window(start, end) if end > start else None


_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_WEEKDAY_RANGE = re.compile(
    r"\bdu\s+(?P<d1>lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+(?:à\s+|a\s+)?"
    r"(?P<h1>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<m1>\d{2})?\s*"
    r"(?:au|jusqu'au|jusqu’au)\s+(?P<d2>lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+(?:à\s+|a\s+)?"
    r"(?P<h2>\d{1,2})\s*(?:heures?|h|H|:)\s*(?P<m2>\d{2})?",
    re.IGNORECASE,
)


def _weekday_range(text: str) -> Window | None:
    """ "du vendredi 18h au lundi 6h, soit du vendredi 11 décembre 2026 au lundi 14 décembre 2026":
    days named with their times, and the dates given in the same sentence."""
    m = _WEEKDAY_RANGE.search(text)
    if not m:
        return None
    sentence_end = text.find(".", m.end())
    days = [
        f.at.astimezone(PARIS).date()
        for f in find_datetimes(text[m.end() : sentence_end if sentence_end > 0 else None])
    ]
    first = _WEEKDAYS.index(m.group("d1").lower())
    last = _WEEKDAYS.index(m.group("d2").lower())
    start_day = next((d for d in days if d.weekday() == first), None)
    end_day = next(
        (d for d in days if d.weekday() == last and start_day is not None and d >= start_day), None
    )
    t1, t2 = _time_from(m.group("h1"), m.group("m1")), _time_from(m.group("h2"), m.group("m2"))
    if start_day is None or end_day is None or t1 is None or t2 is None:
        return None
    start, end = paris_to_utc(start_day, t1), paris_to_utc(end_day, t2)
    return Window(start, end) if end > start else None


def _prefixed_date(m: re.Match[str], prefix: str) -> date | None:
    inner = _DATE.fullmatch(m.group(prefix).strip())
    return _date_from(inner) if inner else None


def parse_window(text: str) -> Window | None:
    """A planned interval: "du <date> à 20h00 au <date> à 6h00" or "<date> de 9h00 à 17h00".

    An end before the start on the same day is read as the next day (e.g. "de 22h à 2h"); "la nuit
    du 9 au 10 janvier, de 22h à 4h" starts on the 9th.
    """
    # "de 20h à minuit" ends at the next day's midnight; "jusqu'à midi"
    text = _MIDNIGHT.sub(r"\g<1>24h00", _NOON.sub(r"\g<1>12h00", text))
    overnight = _overnight(text)
    if overnight is not None:
        return overnight
    weekdays = _weekday_range(text)
    if weekdays is not None:
        return weekdays
    m2 = _RANGE_TWO_DAYS.search(text)
    if m2:
        d1, d2 = _prefixed_date(m2, "a"), _prefixed_date(m2, "b")
        t1 = _time_from(m2.group("ah"), m2.group("am"), m2.group("aap"))
        t2 = _time_from(m2.group("bh"), m2.group("bm"), m2.group("bap"))
        if d1 and d2 and t1 and t2:
            start, end = paris_to_utc(d1, t1), paris_to_utc(d2, t2)
            if end > start:
                return Window(start, end)
    m1 = _RANGE_SAME_DAY.search(text)
    if m1:
        day = _date_from(m1)
        t1 = _time_from(m1.group("h1"), m1.group("m1"), m1.group("a1"))
        t2 = _time_from(m1.group("h2"), m1.group("m2"), m1.group("a2"))
        if day and t1 and t2:
            start = paris_to_utc(day, t1)
            end = paris_to_utc(day, t2)
            if m1.group("h2") == "24":  # midnight at the end of the day
                end = paris_to_utc(day + timedelta(days=1), time(0, 0))
            elif end <= start:
                end = paris_to_utc(day + timedelta(days=1), t2)
            return Window(start, end)
    return None


_MIDNIGHT = re.compile(r"(\b(?:à|a|et|jusqu'à|jusqu’à|-|–)\s*)minuit\b", re.IGNORECASE)
_NOON = re.compile(r"(\b(?:à|a|et|de|entre|jusqu'à|jusqu’à|-|–)\s*)midi\b", re.IGNORECASE)
