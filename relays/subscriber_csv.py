"""Subscribers in bulk: a CSV file in (``subscribers import``), the same CSV out (``export``).

One header row, then one subscriber per row::

    channel,address,client,eori,company,phone,lang,services,modes,kinds,admin
    telegram,-1001234567890,Transit Dupont,FR123456789,Dupont SAS,+33 2 35 00 00 00,fr,DELTA G;ICS2,EDI,,no

``channel``, ``address`` and ``client`` are required, the other columns optional (a column may be
left out of the header); lists are separated by ``;``, ``admin`` is yes/no (true/false, oui/non,
1/0, empty: no). Every row is checked as ``subscribers add`` checks its options (the same
:func:`relays.subscribers.new`), and every problem of every row is reported (``line N: …``) before
anything is written: one bad row imports nothing. A row whose channel and address are already
subscribed updates that subscriber — its columns say what it is now (an empty cell clears it), a
removed one is brought back — and one that says nothing new is left unchanged. Everything is
written in one transaction, with what each new (or brought back) subscriber is owed about what is
already open or planned (:func:`relays.fanout.catch_up`, as for ``subscribers add``).

The export writes the active subscribers in the same columns with their full addresses (it is a
backup: the file is created readable by its owner only), so that export → import is a round trip.
Webhook signing secrets are never in the file: a webhook subscriber the import creates gets a new
one, shown by ``subscribers secret ID``. A subscriber's pause, a removed subscriber and the postal
address of an invite's profile are not columns, so not in the file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import SubscriberError, UsageError
from .fanout import catch_up_many
from .logs import register_secrets
from .store import Store, SubscriberRow
from .subscribers import NewSubscriber, Subscriber, address_secrets, checked, from_row, insert_many

__all__ = [
    "COLUMNS",
    "Applied",
    "Plan",
    "Refused",
    "Row",
    "apply",
    "cells",
    "export",
    "plan",
    "read",
    "to_csv",
]

COLUMNS: tuple[str, ...] = (
    "channel",
    "address",
    "client",
    "eori",
    "company",
    "phone",
    "lang",
    "services",
    "modes",
    "kinds",
    "admin",
)
REQUIRED: tuple[str, ...] = ("channel", "address", "client")
SEPARATOR = ";"
#: the columns kept in the subscriber's profile (the invite's fields)
PROFILE_COLUMNS: tuple[str, ...] = ("company", "phone")
_YES = {"yes", "y", "true", "1", "oui", "o", "x"}
_NO = {"", "no", "n", "false", "0", "non"}


class Refused(UsageError):
    """The file cannot be imported: ``problems`` holds one ``line N: …`` per problem found."""

    reason = "bad_csv"

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class Row:
    """One checked row: its line in the file and the subscriber it describes."""

    line: int
    spec: NewSubscriber


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(SEPARATOR) if item.strip()]


def _admin(value: str) -> bool:
    folded = value.strip().lower()
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise SubscriberError(f"admin must be yes or no, not {value!r}", reason="bad_admin")


def _spec(cells: dict[str, str]) -> tuple[NewSubscriber | None, list[str]]:
    """The subscriber a row describes, or every problem it has: the checks of ``subscribers add``
    (:func:`relays.subscribers.checked`), each value on its own."""
    empty = [column for column in REQUIRED if not cells.get(column, "").strip()]
    problems = [f"the {column} is empty" for column in empty]
    try:
        admin = _admin(cells.get("admin", ""))
    except SubscriberError as exc:
        problems.append(str(exc))
        admin = False
    spec, wrong = checked(
        channel=cells.get("channel", "").strip().lower(),
        address=cells.get("address", ""),
        client=cells.get("client", ""),
        eori=cells.get("eori", "").strip() or None,
        lang=cells.get("lang", "").strip().lower() or "fr",
        services=_list(cells.get("services", "")),
        modes=_list(cells.get("modes", "")),
        kinds=_list(cells.get("kinds", "")),
        role="admin" if admin else "client",
        profile={key: cells[key].strip() for key in PROFILE_COLUMNS if cells.get(key, "").strip()},
    )
    said = {"channel": "unknown_channel", "address": "empty_address", "client": "empty_client"}
    problems += [str(exc) for exc in wrong if exc.reason not in {said[column] for column in empty}]
    return (spec if not problems else None), problems


def read(lines: Iterable[str]) -> list[Row]:
    """Every row of a CSV file, checked; :class:`Refused` lists every problem when any is found
    (a missing or unknown column, a row with too many cells, a bad value, an address twice)."""
    reader = csv.reader(lines, strict=True)
    problems: list[str] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise Refused([f"line 1: not CSV ({exc})"]) from exc
    if header is None or not any(cell.strip() for cell in header):
        raise Refused(["line 1: no header row (expected: " + ",".join(COLUMNS) + ")"])
    names = [cell.strip().lower() for cell in header]
    unknown = [name for name in names if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in names]
    twice = sorted({name for name in names if names.count(name) > 1})
    if unknown or missing or twice:
        said = []
        if missing:
            said.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            said.append(f"unknown column(s) {', '.join(repr(n) for n in unknown)}")
        if twice:
            said.append(f"column(s) named twice: {', '.join(twice)}")
        hint = " (the separator is the comma; lists inside a cell use ';')" if ";" in ",".join(header) else ""
        raise Refused([f"line 1: {'; '.join(said)}{hint}; the columns are {','.join(COLUMNS)}"])
    rows: list[Row] = []
    seen: dict[tuple[str, str], int] = {}
    line = reader.line_num
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {start}: not CSV ({exc})")
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) > len(names):
            problems.append(f"line {start}: {len(cells)} cells, the header has {len(names)}")
            continue
        spec, wrong = _spec(dict(zip(names, cells, strict=False)))
        if spec is None:
            problems += [f"line {start}: {problem}" for problem in wrong]
            continue
        key = (spec.channel, spec.address)
        if key in seen:
            problems.append(f"line {start}: {spec.channel} address already on line {seen[key]}")
            continue
        seen[key] = start
        rows.append(Row(start, spec))
    if problems:
        raise Refused(problems)
    return rows


# --- what an import changes ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Plan:
    """What importing the rows does to the store: rows to add, to update (with what changes), and
    left unchanged."""

    added: list[Row] = field(default_factory=list)
    updated: list[tuple[Row, Subscriber, list[str]]] = field(default_factory=list)
    unchanged: list[tuple[Row, Subscriber]] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged"


def _state(s: Subscriber | NewSubscriber) -> dict[str, Any]:
    """A subscriber's values as the CSV's columns say them."""
    profile = s.profile or {}
    return {
        "client": s.client,
        "eori": s.eori or profile.get("eori") or None,
        **{key: profile.get(key) or None for key in PROFILE_COLUMNS},
        "lang": s.lang,
        "services": tuple(s.services),
        "modes": tuple(s.modes),
        "kinds": tuple(s.kinds),
        "role": s.role,
    }


def _changes(row: Row, existing: Subscriber) -> list[str]:
    now, before = _state(row.spec), _state(existing)
    changes = [name for name in now if now[name] != before[name]]
    if not existing.active:
        changes.insert(0, "reactivated")
    return changes


def _existing(session: Session, rows: Sequence[Row]) -> dict[tuple[str, str], SubscriberRow]:
    """The subscribers the rows name, by (channel, address), read at once."""
    found: dict[tuple[str, str], SubscriberRow] = {}
    channels = {row.spec.channel for row in rows}
    for channel in channels:
        addresses = [row.spec.address for row in rows if row.spec.channel == channel]
        for start in range(0, len(addresses), 500):  # stay below the drivers' parameter limits
            query = select(SubscriberRow).where(
                SubscriberRow.channel == channel, SubscriberRow.address.in_(addresses[start : start + 500])
            )
            found.update({(r.channel, r.address): r for r in session.scalars(query)})
    return found


def _plan(session: Session, rows: Sequence[Row]) -> tuple[Plan, dict[tuple[str, str], SubscriberRow]]:
    existing = _existing(session, rows)
    result = Plan()
    for row in rows:
        current = existing.get((row.spec.channel, row.spec.address))
        if current is None:
            result.added.append(row)
            continue
        subscriber = from_row(current)
        changes = _changes(row, subscriber)
        if changes:
            result.updated.append((row, subscriber, changes))
        else:
            result.unchanged.append((row, subscriber))
    return result, existing


def plan(store: Store | None, rows: Sequence[Row]) -> Plan:
    """What :func:`apply` would do (nothing is written); ``store`` None: an empty store."""
    if store is None:
        return Plan(added=list(rows))
    with store.sessions() as session:
        return _plan(session, rows)[0]


@dataclass(frozen=True, slots=True)
class Applied:
    plan: Plan
    #: the subscribers created, in the rows' order
    created: list[Subscriber]
    #: messages queued at once about what is already open or planned
    owed: int


def apply(store: Store, rows: Sequence[Row], *, now: datetime) -> Applied:
    """Import the rows in one transaction: add, update (bring back a removed one), and queue
    for each new or brought-back subscriber what it is owed (the late-subscriber catch-up)."""
    with store.transaction() as session:
        result, existing = _plan(session, rows)
        created = insert_many(session, [row.spec for row in result.added], now=now) if result.added else []
        changed: list[Subscriber] = []
        for row, before, _ in result.updated:
            target = existing[(row.spec.channel, row.spec.address)]
            _update(target, row.spec)
            if not before.active:
                target.active, target.paused = True, False
                target.deactivated_at, target.deactivated_reason = None, None
            register_secrets(address_secrets(row.spec.channel, row.spec.address))
            changed.append(from_row(target))
        session.flush()
        # what is already open or planned, for the newcomers and for those whose filters now
        # match more (a delivery already owed is never queued twice)
        owed = catch_up_many(session, created + changed, now=now)
    return Applied(plan=result, created=created, owed=owed)


def _update(target: SubscriberRow, spec: NewSubscriber) -> None:
    target.client, target.eori, target.lang, target.role = spec.client, spec.eori, spec.lang, spec.role
    target.services, target.modes, target.kinds = list(spec.services), list(spec.modes), list(spec.kinds)
    profile = dict(target.profile or {})
    for key in PROFILE_COLUMNS:
        if spec.profile.get(key):
            profile[key] = spec.profile[key]
        else:
            profile.pop(key, None)
    if "eori" in profile:  # an invite's profile holds it too: the two must not disagree
        if spec.eori:
            profile["eori"] = spec.eori
        else:
            del profile["eori"]
    target.profile = profile


# --- export ------------------------------------------------------------------------------------------
def cells(s: Subscriber) -> list[str]:
    """A subscriber as one row of the CSV (full address: the export is a backup)."""
    state = _state(s)
    return [
        s.channel,
        s.address,
        s.client,
        state["eori"] or "",
        state["company"] or "",
        state["phone"] or "",
        s.lang,
        SEPARATOR.join(s.services),
        SEPARATOR.join(s.modes),
        SEPARATOR.join(s.kinds),
        "yes" if s.role == "admin" else "no",
    ]


def to_csv(subscribers: Iterable[Subscriber]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for s in subscribers:
        if s.active:
            writer.writerow(cells(s))
    return out.getvalue()


def export(subscribers: Iterable[Subscriber], path: Path) -> int:
    """Write the active subscribers to ``path``, created readable and writable by its owner only
    (0600, from its creation: a temporary file in the same folder, renamed over ``path`` once
    complete, so a reader never sees half a file nor a moment of wider permissions). Returns how
    many rows were written."""
    chosen = [s for s in subscribers if s.active]
    text = to_csv(chosen)
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)  # 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(chosen)
