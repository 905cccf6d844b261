"""Small helpers the command handlers share: user errors, cleaning input, times, service phrases."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from knowledge.services import find_services
from relays.dates import PARIS
from relays.errors import UsageError

MAX_INPUT = 4000  # characters of one incoming message we look at
MAX_QUESTION = 1000  # a question longer than this is refused politely


class UserError(UsageError):
    """Something the user typed cannot be done; ``fr``/``en`` say why, and the router replies with it."""

    def __init__(self, fr: str, en: str | None = None) -> None:
        super().__init__(fr, reason="chat")
        self.fr = fr
        self.en = en or fr

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb]"
)


def clean(text: str) -> str:
    """NFC, without control or bidi-override characters, lone surrogates, or surrounding blanks."""
    text = text[: MAX_INPUT * 2].encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFC", text)
    return _CONTROL.sub("", text).replace("\r\n", "\n").strip()


def fold_word(word: str) -> str:
    """Lower case without accents, for matching command names and keywords."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("'", "").replace("’", "")


def duration(delta: timedelta, lang: str) -> str:
    """ "2 h 05 min", "3 j 4 h" / "3 d 4 h", "12 min"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} {'d' if lang == 'en' else 'j'} {hours} h"
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


def ago(moment: datetime | None, now: datetime, lang: str) -> str:
    if moment is None:
        return ""
    if moment > now:
        return (
            f"in {duration(moment - now, lang)}" if lang == "en" else f"dans {duration(moment - now, lang)}"
        )
    return f"{duration(now - moment, lang)} ago" if lang == "en" else f"il y a {duration(now - moment, lang)}"


_DATE = re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{2,4}))?$")
_TIME = re.compile(r"^(?P<h>\d{1,2})(?:[:h](?P<mi>\d{2})?)$", re.IGNORECASE)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def take_when(words: list[str], now: datetime) -> tuple[datetime | None, list[str]]:
    """A Paris date and/or time at the start of ``words`` ("14:30", "03/12/2026 14h30", ISO).

    Returns the moment (aware) and the words left; (None, words) when they do not start with one.
    Raises :class:`UserError` for a date or time that does not exist.
    """
    local = now.astimezone(PARIS)
    if words and _ISO.match(words[0]):
        try:
            moment = datetime.fromisoformat(words[0].replace("Z", "+00:00"))
        except ValueError as exc:
            raise UserError(f"date invalide : {words[0]}", f"invalid date: {words[0]}") from exc
        return _near(moment if moment.tzinfo else moment.replace(tzinfo=PARIS), now, words[0]), words[1:]
    day = None
    rest = list(words)
    if rest and (m := _DATE.match(rest[0])):
        year = int(m["y"]) if m["y"] else local.year
        year = year + 2000 if year < 100 else year
        day = (year, int(m["m"]), int(m["d"]))
        rest = rest[1:]
    hour, minute = None, 0
    if rest and (t := _TIME.match(rest[0])) and (day is not None or ":" in rest[0] or "h" in rest[0].lower()):
        hour, minute = int(t["h"]), int(t["mi"] or 0)
        rest = rest[1:]
    if day is None and hour is None:
        return None, words
    y, mo, d = day or (local.year, local.month, local.day)
    shown = " ".join(words[: len(words) - len(rest)])
    try:
        moment = datetime(y, mo, d, hour or 0, minute, tzinfo=PARIS)
    except ValueError as exc:
        raise UserError(f"date ou heure invalide : {shown}", f"invalid date or time: {shown}") from exc
    return _near(moment, now, shown), rest


#: How far from now a date typed in a chat may be: an outage's day, not the year 9999.
NEAR = timedelta(days=3660)


def _near(moment: datetime, now: datetime, shown: str) -> datetime:
    """``moment`` when it is within :data:`NEAR` of ``now`` (and Paris time can show it), else the
    same "date invalide" reply as an impossible date — rather than an overflow further on."""
    try:
        moment.astimezone(PARIS)
        far = abs(moment - now) > NEAR
    except (OverflowError, ValueError):
        far = True
    if far:
        raise UserError(f"date invalide : {shown}", f"invalid date: {shown}")
    return moment


_CONNECTORS = frozenset({"", "et", "and", "&", "/", ",", "-", "x", "import", "export", "imp", "exp"})


def take_services(words: list[str]) -> tuple[list[str], list[str]]:
    """The téléservices named by the first words ("DELTA G", "Delta X import, ICS2") and the words left."""
    best: list[str] = []
    used = 0
    previous: list[str] = []
    for k in range(1, min(len(words), 12) + 1):
        found = find_services(" ".join(words[:k]))
        word = words[k - 1].strip(",;/&").lower()
        if found and found != previous:
            best, used = found, k
        elif not ((found and word in _CONNECTORS) or (not found and k <= 2)):
            break
        previous = found
    return best, words[used:]


def small_int(text: str, limit: int = 10**9) -> int | None:
    """``text`` as a non-negative int below ``limit`` (ASCII digits only), else None."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value < limit else None
