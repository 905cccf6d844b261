"""From "what the page shows now" to "what changed": a pure function over the stored state.

:func:`observe` takes what the store knows (open alerts, ids already recorded, the source's health)
and one observation (a snapshot, or the reason a poll failed) and returns the new events and the
new state. It does no I/O, so every rule that protects users is unit-tested directly:

* ids are deterministic, so re-polling, restarting or reordering never yields a new event;
* an alert closes on an explicit fin d'alerte published after it; one that silently vanishes from
  a healthy page closes only after ``close_after_absent`` consecutive healthy polls, and says so
  (``inferred=True``); the status table showing the service still down keeps it open;
* a bad poll (unreachable, empty, truncated, maintenance/captcha, unrecognisable, or a page with
  no message at all while alerts are open) never closes anything: after ``degraded_after``
  consecutive bad polls it raises ``SourceDegraded`` once, and ``SourceRecovered`` when a good
  poll follows;
* a closed alert is never reopened by a stale page showing it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from .events import (
    AlertClosed,
    AlertOpened,
    BulletinPublished,
    Event,
    InterruptionPlanned,
    SourceDegraded,
    SourceRecovered,
    stable_id,
)
from .snapshot import Item, ItemKind, ServiceState, Snapshot


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


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    consecutive_bad: int = 0
    degraded: bool = False
    bad_since: datetime | None = None
    last_error: str | None = None
    last_ok_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Prior:
    """What the store knows that the diff needs."""

    source: SourceState
    open_alerts: tuple[AlertState, ...] = ()
    known_alerts: tuple[AlertState, ...] = ()  # alerts (any status) whose ids the snapshot names
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
class _Work:
    now: datetime
    location: str
    events: list[Event] = field(default_factory=list)
    changed: dict[str, AlertState] = field(default_factory=dict)


def alert_id(item: Item) -> str:
    """An alert is identified by what was published: its services, modes and publication time."""
    if item.published_at is not None:
        return "A" + stable_id(item.services, item.modes, item.published_at.isoformat())
    return "A" + stable_id(item.services, item.modes, item.title, item.text[:200])


def interruption_id(item: Item) -> str:
    starts = item.starts_at.isoformat() if item.starts_at else None
    ends = item.ends_at.isoformat() if item.ends_at else None
    if starts is None:
        return "I" + stable_id(item.services, item.title, item.text[:200])
    return "I" + stable_id(item.services, starts, ends)


def bulletin_id(alert: str, item: Item) -> str:
    if item.number is not None:
        return f"{alert}:bip:{item.number}"
    stamp = item.published_at.isoformat() if item.published_at else stable_id(item.text[:200])
    return f"{alert}:bip@{stamp}"


def candidate_ids(snapshot: Snapshot) -> tuple[set[str], set[str]]:
    """The alert ids and event ids a snapshot could produce, so the store can look them up."""
    alerts = {alert_id(i) for i in snapshot.alerts()}
    events = {f"{a}:opened" for a in alerts} | {
        interruption_id(i) for i in snapshot.items if i.kind is ItemKind.PLANNED
    }
    return alerts, events


def observe(
    prior: Prior, observation: Snapshot | Failure, *, location: str, now: datetime, rules: Rules = Rules()
) -> Outcome:
    """Diff one observation against the prior state. Pure: same inputs, same outcome."""
    work = _Work(now=now, location=location)
    if isinstance(observation, Failure):
        return _bad_poll(prior, observation.reason, work, rules)
    snapshot = observation
    message_items = [i for i in snapshot.items if i.kind is not ItemKind.INFORMATION]
    if prior.open_alerts and not message_items and not (snapshot.table_all_ok() or snapshot.all_clear):
        return _bad_poll(prior, "no recognisable item while alerts are open", work, rules)
    source = _good_poll(prior.source, work)
    _diff(prior, snapshot, work, rules)
    return Outcome(tuple(work.events), tuple(work.changed.values()), source)


def _bad_poll(prior: Prior, reason: str, work: _Work, rules: Rules) -> Outcome:
    source = prior.source
    bad_since = source.bad_since or work.now
    source = replace(
        source, consecutive_bad=source.consecutive_bad + 1, bad_since=bad_since, last_error=reason
    )
    if source.consecutive_bad >= rules.degraded_after and not source.degraded:
        source = replace(source, degraded=True)
        work.events.append(
            SourceDegraded(
                id=f"S{stable_id(source.name)}:degraded:{bad_since.isoformat()}",
                source=work.location,
                detected_at=work.now,
                reason=reason,
                failures=source.consecutive_bad,
                since=bad_since,
            )
        )
    return Outcome(tuple(work.events), (), source)


def _good_poll(source: SourceState, work: _Work) -> SourceState:
    if source.degraded and source.bad_since is not None:
        work.events.append(
            SourceRecovered(
                id=f"S{stable_id(source.name)}:recovered:{source.bad_since.isoformat()}",
                source=work.location,
                detected_at=work.now,
                since=source.bad_since,
            )
        )
    return replace(
        source, consecutive_bad=0, degraded=False, bad_since=None, last_error=None, last_ok_at=work.now
    )


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return not a or not b or bool(set(a) & set(b))


def _diff(prior: Prior, snapshot: Snapshot, work: _Work, rules: Rules) -> None:
    known = {a.id: a for a in prior.known_alerts}
    open_alerts: dict[str, AlertState] = {a.id: a for a in prior.open_alerts}
    seen: set[str] = set()
    item_alert: dict[int, str] = {}  # snapshot index of an alert item -> the alert it is

    # 1. Alerts: new ones open; ones already known are seen.
    for index, item in enumerate(snapshot.items):
        if item.kind is not ItemKind.ALERT:
            continue
        aid = alert_id(item)
        if aid in open_alerts:
            item_alert[index] = aid
            seen.add(aid)
            continue
        if aid in known:  # closed already: a stale page must not reopen it...
            item_alert[index] = aid
            back = known[aid]
            if back.status == "closed" and back.inferred_close and not _ended_on_page(back, snapshot):
                # ...unless we only inferred its end: it is on the page again, so it never ended.
                back = replace(
                    back,
                    status="open",
                    absent_polls=0,
                    closed_at=None,
                    inferred_close=False,
                    reopened=back.reopened + 1,
                )
                open_alerts[aid] = back
                work.changed[aid] = back
                seen.add(aid)
                work.events.append(_opened(f"{aid}:reopened:{back.reopened}", back, item, work))
            continue
        same = next(
            (
                a
                for a in open_alerts.values()
                if a.services == item.services and _overlaps(a.modes, item.modes)
            ),
            None,
        )
        if same is not None and _ended_on_page(same, snapshot):
            same = None  # its fin d'alerte is on the page too: this is a new alert, not a re-publication
        if same is not None:  # the same alert re-published with an edited time or wording
            item_alert[index] = same.id
            seen.add(same.id)
            continue
        state = AlertState(
            id=aid,
            services=item.services,
            modes=item.modes,
            level=item.level,
            title=item.title,
            text=item.text,
            published_at=item.published_at,
        )
        open_alerts[aid] = state
        work.changed[aid] = state
        item_alert[index] = aid
        seen.add(aid)
        if f"{aid}:opened" not in prior.known_event_ids:
            work.events.append(_opened(f"{aid}:opened", state, item, work))

    # 2. Bulletins of open alerts, in number order.
    emitted: set[str] = set()
    bulletins = [(i, it) for i, it in enumerate(snapshot.items) if it.kind is ItemKind.BULLETIN]
    for _, item in sorted(bulletins, key=lambda p: (p[1].number or 0, p[1].published_at or work.now)):
        target = _bulletin_target(item, item_alert, open_alerts)
        if target is None:
            continue
        seen.add(target.id)
        bid = bulletin_id(target.id, item)
        if bid in prior.known_event_ids or bid in emitted:
            continue
        emitted.add(bid)
        work.events.append(
            BulletinPublished(
                id=bid,
                source=work.location,
                detected_at=work.now,
                alert_id=target.id,
                services=target.services,
                modes=target.modes,
                level=target.level,
                title=item.title,
                text=item.text,
                published_at=item.published_at,
                number=item.number,
            )
        )

    # 3. Explicit ends close the open alerts they name, if published after the alert. An end
    # naming only some of an alert's téléservices (or modes) ends those, and the rest stays open.
    opened_now = {e.alert_id for e in work.events if isinstance(e, AlertOpened)}
    for item in snapshot.items:
        if item.kind is not ItemKind.END:
            continue
        for alert in list(open_alerts.values()):
            if not (set(item.services) & set(alert.services)) or not _overlaps(item.modes, alert.modes):
                continue
            if item.published_at and alert.published_at and item.published_at < alert.published_at:
                continue  # the end of an earlier alert for the same service
            if item.published_at is None and alert.id in opened_now:
                continue  # an undated end cannot be shown to come after an alert first seen now
            rest = _remainder(alert, item)
            if rest is None:
                _close(alert, work, open_alerts, item=item, inferred=False)
                seen.discard(alert.id)
            else:
                _close_part(alert, rest, work, open_alerts, item)

    # 4. Open alerts the page no longer shows: counted, closed after N healthy polls.
    for alert in list(open_alerts.values()):
        if alert.id in seen or _still_down_in_table(alert, snapshot):
            if alert.absent_polls:
                work.changed[alert.id] = replace(alert, absent_polls=0)
                open_alerts[alert.id] = work.changed[alert.id]
            continue
        absent = replace(alert, absent_polls=alert.absent_polls + 1)
        open_alerts[alert.id] = absent
        work.changed[alert.id] = absent
        if absent.absent_polls >= rules.close_after_absent:
            _close(absent, work, open_alerts, item=None, inferred=True)

    # 5. Planned interruptions, once each.
    for item in snapshot.items:
        if item.kind is not ItemKind.PLANNED:
            continue
        iid = interruption_id(item)
        if iid in prior.known_event_ids or any(e.id == iid for e in work.events):
            continue
        work.events.append(
            InterruptionPlanned(
                id=iid,
                source=work.location,
                detected_at=work.now,
                services=item.services,
                modes=item.modes,
                starts_at=item.starts_at,
                ends_at=item.ends_at,
                published_at=item.published_at,
                title=item.title,
                text=item.text,
            )
        )


def _bulletin_target(
    item: Item, item_alert: dict[int, str], open_alerts: dict[str, AlertState]
) -> AlertState | None:
    if item.parent is not None and item.parent in item_alert:
        return open_alerts.get(item_alert[item.parent])  # None when that alert is closed
    matches = [a for a in open_alerts.values() if set(item.services) & set(a.services)]
    same_mode = [a for a in matches if item.modes and _overlaps(item.modes, a.modes)]
    matches = same_mode or matches  # "BIP n°2 – ECS – EDI" belongs to the ECS alert in EDI
    if not matches and not item.services and len(open_alerts) == 1:
        matches = list(open_alerts.values())
    if not matches:
        return None
    return max(matches, key=lambda a: a.published_at.isoformat() if a.published_at else "")


def _still_down_in_table(alert: AlertState, snapshot: Snapshot) -> bool:
    bad = (ServiceState.ALERT, ServiceState.DOWN)
    modes = alert.modes or ("EDI", "DTI")
    return any(snapshot.state_of(s, m) in bad for s in alert.services for m in modes)


def _opened(event_id: str, alert: AlertState, item: Item, work: _Work) -> AlertOpened:
    """The event telling that ``alert`` is open, in the words of the message ``item``."""
    return AlertOpened(
        id=event_id,
        source=work.location,
        detected_at=work.now,
        alert_id=alert.id,
        services=alert.services,
        modes=alert.modes,
        level=alert.level,
        title=item.title,
        text=item.text,
        published_at=item.published_at,
    )


def _ended_on_page(alert: AlertState, snapshot: Snapshot) -> bool:
    """Whether the page also shows a fin d'alerte for ``alert``, published after it."""
    for item in snapshot.items:
        if item.kind is not ItemKind.END or not set(item.services) & set(alert.services):
            continue
        if not _overlaps(item.modes, alert.modes):
            continue
        if item.published_at and alert.published_at and item.published_at >= alert.published_at:
            return True
    return False


def _remainder(alert: AlertState, end: Item) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """What an end leaves open: (services, modes), or None when it ends the whole alert."""
    ended_services = set(end.services) & set(alert.services)
    ended_modes = set(end.modes or alert.modes) & set(alert.modes or end.modes)
    all_modes = not alert.modes or not end.modes or set(alert.modes) <= set(end.modes)
    if set(alert.services) <= ended_services and all_modes:
        return None
    if all_modes:  # some téléservices end, in every mode
        return tuple(s for s in alert.services if s not in ended_services), alert.modes
    if set(alert.services) <= ended_services:  # every téléservice, in some modes
        return alert.services, tuple(m for m in alert.modes if m not in ended_modes)
    return None  # a mix the page does not spell out: treat it as the end of the alert


def _close_part(
    alert: AlertState,
    rest: tuple[tuple[str, ...], tuple[str, ...]],
    work: _Work,
    open_alerts: dict[str, AlertState],
    item: Item,
) -> None:
    """End part of an alert: an ``AlertClosed`` for what ended; the alert stays open for the rest."""
    services, modes = rest
    ended_services = tuple(s for s in alert.services if s not in services) or alert.services
    ended_modes = alert.modes
    if services == alert.services:  # the same téléservices stay open in fewer modes
        ended_modes = tuple(m for m in alert.modes if m not in modes)
    part_id = f"{alert.id}:closed:{stable_id(ended_services, ended_modes)}"
    if any(e.id == part_id for e in work.events):
        return
    remaining = replace(alert, services=services, modes=modes)
    open_alerts[alert.id] = remaining
    work.changed[alert.id] = remaining
    work.events.append(
        AlertClosed(
            id=part_id,
            source=work.location,
            detected_at=work.now,
            alert_id=alert.id,
            services=ended_services,
            modes=ended_modes,
            level=alert.level,
            title=item.title,
            text=item.text,
            published_at=item.published_at,
            inferred=False,
        )
    )


def _close(
    alert: AlertState, work: _Work, open_alerts: dict[str, AlertState], *, item: Item | None, inferred: bool
) -> None:
    closed = replace(alert, status="closed", closed_at=work.now, inferred_close=inferred)
    work.changed[alert.id] = closed
    del open_alerts[alert.id]
    work.events.append(
        AlertClosed(
            id=f"{alert.id}:closed" if not alert.reopened else f"{alert.id}:closed:{alert.reopened}",
            source=work.location,
            detected_at=work.now,
            alert_id=alert.id,
            services=alert.services,
            modes=alert.modes,
            level=alert.level,
            title=item.title if item else alert.title,
            text=item.text
            if item
            else "L'alerte n'apparaît plus sur la météo des téléservices (fin déduite).",
            published_at=item.published_at if item else None,
            inferred=inferred,
        )
    )
