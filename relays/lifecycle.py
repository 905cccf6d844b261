"""From "what the page shows now" to "what changed": a pure function over the stored state.

:func:`observe` takes what the store knows (open alerts, recently closed ones, ids already
recorded, the source's health) and one observation (a snapshot, or the reason a poll failed) and
returns the new events and the new state. It does no I/O, so every rule that protects users is
unit-tested directly. The invariants:

* **Nothing is invented.** A message that names no téléservice never reaches clients: it becomes
  an ``UnattributedMessage`` for the admins and opens nothing. A bad poll (unreachable, empty,
  truncated, maintenance/captcha, unrecognisable, a feed that is not well-formed, or a page with
  no message at all while alerts are open) adds and closes nothing; after ``degraded_after`` of
  them in a row ``SourceDegraded`` goes to the admins once, ``SourceRecovered`` when one is good.
* **Nothing is doubled.** Ids are deterministic (an alert is its services, modes and publication;
  a bulletin is its alert and number), so re-polling, restarting or a page that reorders its items
  yields nothing new. An alert keeps its identity when its message is re-titled, re-dated, edited
  or loses its date: a later message on the same téléservices and modes while it is open (and not
  ended on the page) is that alert again. A stale copy of the page (older than the newest thing
  this source has shown) never re-opens an alert, and an old message that resembles a closed alert
  is that closed alert, not a new one.
* **Nothing is missed or left wrong.** An open alert that is requalified (red ↔ black, by its own
  message or by a bulletin) or whose téléservices or modes widen gives ``AlertUpdated``; later
  bulletins carry the new level. An alert closes on an explicit fin d'alerte published after it
  (a fin naming part of it closes that part); one that silently vanishes from healthy pages closes
  after ``close_after_absent`` polls, marked ``inferred``, unless the status table still shows it
  down; if it comes back it never ended, and is reopened.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from knowledge.services import fold

from .events import (
    AlertClosed,
    AlertOpened,
    AlertUpdated,
    BulletinPublished,
    Event,
    InterruptionCancelled,
    InterruptionPlanned,
    SourceDegraded,
    SourceRecovered,
    UnattributedMessage,
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
class _Work:
    """The diff in progress: what is open, what each alert item is, what has been said."""

    prior: Prior
    snapshot: Snapshot
    now: datetime
    location: str
    stale: bool
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


# --- ids ------------------------------------------------------------------------------------------
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


def unattributed_id(item: Item) -> str:
    stamp = item.published_at.isoformat() if item.published_at else None
    return "U" + stable_id(item.kind.value, fold(item.title), stamp, item.text[:200])


def candidate_ids(snapshot: Snapshot) -> tuple[set[str], set[str]]:
    """The alert ids and event ids a snapshot could produce, so the store can look them up."""
    alerts = {alert_id(i) for i in snapshot.alerts() if i.services}
    events = {f"{a}:opened" for a in alerts}
    planned = [i for i in snapshot.items if i.kind is ItemKind.PLANNED and i.services]
    events |= {interruption_id(i) for i in planned}
    events |= {f"{interruption_id(i)}:cancelled" for i in planned if i.cancelled}
    events |= {unattributed_id(i) for i in snapshot.unattributed()}
    return alerts, events


# --- the diff -------------------------------------------------------------------------------------
def observe(
    prior: Prior, observation: Snapshot | Failure, *, location: str, now: datetime, rules: Rules = Rules()
) -> Outcome:
    """Diff one observation against the prior state. Pure: same inputs, same outcome."""
    if isinstance(observation, Failure):
        return _bad_poll(prior, observation.reason, location, now, rules)
    snapshot = observation
    message_items = [i for i in snapshot.items if i.kind is not ItemKind.INFORMATION]
    if prior.open_alerts and not message_items and not (snapshot.table_all_ok() or snapshot.all_clear):
        return _bad_poll(prior, "no recognisable item while alerts are open", location, now, rules)
    high_water = prior.source.high_water
    newest = (
        snapshot.newest if snapshot.newest is None or snapshot.newest <= now + timedelta(days=1) else None
    )
    work = _Work(
        prior=prior,
        snapshot=snapshot,
        now=now,
        location=location,
        stale=newest is not None and high_water is not None and newest < high_water,
        open={a.id: a for a in prior.open_alerts},
    )
    source = _good_poll(prior.source, work)
    if newest is not None and (high_water is None or newest > high_water):
        source = replace(source, high_water=newest)
    _alerts(work)
    _bulletins(work)
    _ends(work)
    _absences(work, rules)
    _interruptions(work)
    _unattributed(work)
    return Outcome(tuple(work.events), tuple(work.changed.values()), source)


def _bad_poll(prior: Prior, reason: str, location: str, now: datetime, rules: Rules) -> Outcome:
    source = prior.source
    bad_since = source.bad_since or now
    source = replace(
        source, consecutive_bad=source.consecutive_bad + 1, bad_since=bad_since, last_error=reason
    )
    events: list[Event] = []
    if source.consecutive_bad >= rules.degraded_after and not source.degraded:
        source = replace(source, degraded=True)
        events.append(
            SourceDegraded(
                id=f"S{stable_id(source.name)}:degraded:{bad_since.isoformat()}",
                source=location,
                detected_at=now,
                reason=reason,
                failures=source.consecutive_bad,
                since=bad_since,
            )
        )
    return Outcome(tuple(events), (), source)


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


# --- step 1: alert messages -------------------------------------------------------------------------
def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return not a or not b or bool(set(a) & set(b))


def _moment(item: Item) -> datetime | None:
    return item.updated_at or item.published_at


def _alerts(work: _Work) -> None:
    """Each alert message is a known alert seen again, that alert updated, or a new alert."""
    known = {a.id: a for a in work.prior.known_alerts}
    order = sorted(
        (i for i, item in enumerate(work.snapshot.items) if item.kind is ItemKind.ALERT and item.services),
        # dated messages first, oldest first (an undated summary — a banner "Alerte en cours sur …" —
        # is then taken for the alert it sums up); copies in a stable order whatever the page's order
        key=lambda i: (
            _moment(work.snapshot.items[i]) is None,
            _moment(work.snapshot.items[i]) or datetime.min.replace(tzinfo=UTC),
            alert_id(work.snapshot.items[i]),
        ),
    )
    for alert in (*work.prior.recent_closed, *work.prior.open_alerts):
        known.update({alias: alert for alias in alert.aliases})
    by_alert: dict[str, list[int]] = {}
    for index in order:
        item = work.snapshot.items[index]
        aid = alert_id(item)
        if aid in work.open:
            target: str | None = aid
        elif aid in known and known[aid].id in work.open:
            target = known[aid].id
        elif aid in known:
            target = _seen_closed(work.changed.get(known[aid].id, known[aid]), item, work)
        else:
            target = _same_open_alert(item, work)
            if target is None and _resembles_closed(item, work):
                continue  # an old message of an alert that has ended: nothing to say
            if target is None:
                target = _open(aid, item, work)
            elif aid not in work.open[target].aliases:
                work.keep(replace(work.open[target], aliases=(*work.open[target].aliases, aid)))
        if target is None:
            continue
        work.item_alert[index] = target
        work.seen.add(target)
        by_alert.setdefault(target, []).append(index)
    for aid, indexes in by_alert.items():
        _restate(aid, [work.snapshot.items[i] for i in indexes], work)


def _seen_closed(back: AlertState, item: Item, work: _Work) -> str | None:
    """A closed alert on the page again: reopened only if its end was inferred, is not on the page,
    and the page is not a stale copy."""
    if (
        back.status != "closed"
        or not back.inferred_close
        or work.stale
        or _ended_on_page(back, work.snapshot)
    ):
        return None
    back = work.keep(
        replace(
            back,
            status="open",
            absent_polls=0,
            closed_at=None,
            inferred_close=False,
            reopened=back.reopened + 1,
        )
    )
    work.emit(_opened(f"{back.id}:reopened:{back.reopened}", back, item, work))
    return back.id


def _same_open_alert(item: Item, work: _Work) -> str | None:
    """The open alert this message re-states (same téléservices and modes, its fin not on the page)."""
    candidates = [
        a
        for a in work.open.values()
        if set(a.announced_services or a.services) & set(item.services)
        and _overlaps(a.announced_modes or a.modes, item.modes)
        and not _ended_before(a, item, work.snapshot)
    ]
    if not candidates:
        return None

    def closeness(a: AlertState) -> tuple[int, int, int, str]:
        return (
            int(a.published_at is not None and a.published_at == item.published_at),
            int(fold(a.title) == fold(item.title)),
            len(set(a.services) & set(item.services)),
            a.published_at.isoformat() if a.published_at else "",
        )

    return max(candidates, key=closeness).id


def _resembles_closed(item: Item, work: _Work) -> bool:
    """An alert message matching an alert that has ended (same publication, or same title on the
    same téléservices): a stale or leftover copy, never a new alert."""
    for alert in work.prior.recent_closed:
        if not (set(alert.announced_services or alert.services) & set(item.services)):
            continue
        if item.published_at is not None and item.published_at == alert.published_at:
            return True
        if fold(alert.title) == fold(item.title) and (
            item.published_at is None or alert.published_at is None or item.published_at <= alert.published_at
        ):
            return True
    return False


def _open(aid: str, item: Item, work: _Work) -> str:
    level = item.level or _level_from_table(item, work.snapshot)
    state = work.keep(
        AlertState(
            id=aid,
            services=item.services,
            modes=item.modes,
            level=level,
            title=item.title,
            text=item.text,
            published_at=item.published_at,
            announced_services=item.services,
            announced_modes=item.modes,
            stated_level=item.level,
            level_at=_moment(item),
        )
    )
    work.emit(_opened(f"{aid}:opened", state, item, work))
    return aid


def _restate(aid: str, items: list[Item], work: _Work) -> None:
    """What the alert's own messages say now: a wider scope, or — from the newest of them, when
    they agree — another level. One ``AlertUpdated`` per change, never a flip back and forth between
    two copies of the message still on the page."""
    alert = work.open.get(aid)
    if alert is None:
        return
    announced_s = alert.announced_services or alert.services
    announced_m = alert.announced_modes or alert.modes
    services = tuple(dict.fromkeys(s for i in items for s in i.services if s not in announced_s))
    modes = tuple(dict.fromkeys(m for i in items for m in i.modes if m not in announced_m))
    changes: list[str] = []
    new = alert
    cause = items[-1]
    if services or modes:
        new = replace(
            new,
            services=_union(new.services, services),
            modes=_union(new.modes, modes) if new.modes else new.modes,
            announced_services=_union(announced_s, services),
            announced_modes=_union(announced_m, modes),
        )
        changes += ["services"] * bool(services) + ["modes"] * bool(modes and alert.modes)
        cause = next(
            i for i in reversed(items) if set(i.services) & set(services) or set(i.modes) & set(modes)
        )
    stated = [i for i in items if i.level is not None]
    if stated:
        newest = max((_moment(i) for i in stated), key=lambda m: m or datetime.min.replace(tzinfo=UTC))
        latest = [i for i in stated if _moment(i) == newest]
        levels = {i.level for i in latest}
        level = latest[0].level if len(levels) == 1 else None
        if level is not None and level != alert.stated_level:
            new = replace(new, stated_level=level)
            newer = newest is None or alert.level_at is None or newest >= alert.level_at
            if newer and level != alert.level:
                new = replace(new, level=level, level_at=newest or alert.level_at)
                changes.append("level")
                cause = latest[0]
    if new != alert:
        alert = work.keep(new)
    if changes:
        work.emit(_updated(alert, cause, changes, work))


def _union(base: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    return base + tuple(x for x in extra if x not in base)


def _level_from_table(item: Item, snapshot: Snapshot) -> str | None:
    """The level the status table shows for the alert's téléservices, when its message says none."""
    modes = item.modes or ("EDI", "DTI")
    states = {snapshot.state_of(s, m) for s in item.services for m in modes}
    if ServiceState.DOWN in states:
        return "black"
    if ServiceState.ALERT in states:
        return "red"
    return None


# --- step 2: bulletins ------------------------------------------------------------------------------
def _bulletins(work: _Work) -> None:
    """Each new BIP of an open alert, in number order; a BIP that requalifies its alert updates it."""
    bulletins = [(i, it) for i, it in enumerate(work.snapshot.items) if it.kind is ItemKind.BULLETIN]
    told = {key: alert.id for alert in (*work.prior.recent_closed, *work.open.values()) for key in alert.bips}
    told.update({key: alert.id for alert in work.changed.values() for key in alert.bips})
    for _, item in sorted(bulletins, key=lambda p: (p[1].number or 0, p[1].published_at or work.now)):
        key = _bip_key(item)
        if key in told:  # already told, for the alert it was first taken for
            if told[key] in work.open:
                work.seen.add(told[key])
            continue
        target = _bulletin_target(item, work)
        if target is None:
            continue
        work.seen.add(target.id)
        bid = bulletin_id(target.id, item)
        if bid in work.prior.known_event_ids or any(e.id == bid for e in work.events):
            continue
        target = work.keep(replace(target, bips=(*target.bips, key)))
        told[key] = target.id
        if item.level is not None and item.level != target.level:
            newer = (
                item.published_at is None or target.level_at is None or item.published_at >= target.level_at
            )
            if newer:
                target = work.keep(
                    replace(target, level=item.level, level_at=item.published_at or target.level_at)
                )
                work.emit(_updated(target, item, ["level"], work))
        work.emit(
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


def _bip_key(item: Item) -> str:
    stamp = item.published_at.isoformat() if item.published_at else None
    return stable_id(item.number, item.services, stamp, fold(item.title), item.text[:200])


def _bulletin_target(item: Item, work: _Work) -> AlertState | None:
    if item.parent is not None and item.parent in work.item_alert:
        return work.open.get(work.item_alert[item.parent])  # None when that alert is closed
    if item.parent is not None and work.snapshot.items[item.parent].kind is ItemKind.ALERT:
        return None  # nested in an alert message that is not open (ended, stale, unattributed)
    matches = [a for a in work.open.values() if set(item.services) & set(a.services)]
    same_mode = [a for a in matches if item.modes and _overlaps(item.modes, a.modes)]
    matches = same_mode or matches  # "BIP n°2 – ECS – EDI" belongs to the ECS alert in EDI
    if not matches:  # a BIP naming no téléservice and in no alert message goes to the admins
        return None
    return max(matches, key=lambda a: a.published_at.isoformat() if a.published_at else "")


# --- step 3: ends -----------------------------------------------------------------------------------
def _ends(work: _Work) -> None:
    """An explicit end closes the open alerts it names, if published after them. An end naming only
    some of an alert's téléservices (or modes) ends those, and the rest stays open."""
    opened_now = {e.alert_id for e in work.events if isinstance(e, AlertOpened)}
    undated = tuple(
        sorted(
            {_end_key(i) for i in work.snapshot.items if i.kind is ItemKind.END and i.published_at is None}
        )
    )
    for aid in opened_now:
        if aid in work.open and undated:
            work.keep(replace(work.open[aid], old_ends=undated))
    ends = [i for i in work.snapshot.items if i.kind is ItemKind.END and i.services]
    ends.sort(
        key=lambda i: (i.published_at or datetime.min.replace(tzinfo=UTC), i.services, i.modes, fold(i.title))
    )
    for item in ends:  # in publication order, whatever the page's order
        for alert in list(work.open.values()):
            if not (set(item.services) & set(alert.services)) or not _overlaps(item.modes, alert.modes):
                continue
            if item.published_at and alert.published_at and item.published_at < alert.published_at:
                continue  # the end of an earlier alert for the same service
            if item.published_at is None and (alert.id in opened_now or _end_key(item) in alert.old_ends):
                continue  # an undated end cannot be shown to come after an alert first seen with it
            rest = _remainder(alert, item)
            if rest is None:
                _close(alert, work, item=item, inferred=False)
                work.seen.discard(alert.id)
            else:
                _close_part(alert, rest, work, item)


def _end_key(item: Item) -> str:
    return stable_id(item.services, item.modes, fold(item.title), item.text[:200])


def _ended_before(alert: AlertState, item: Item, snapshot: Snapshot) -> bool:
    """Whether the page shows a fin of ``alert`` published before the message ``item``: the
    message is then a new alert on the same téléservice, not that alert again. An undated message
    cannot be shown to follow the fin: it is taken for the alert that fin ends."""
    if item.published_at is None:
        return False
    scope = alert.announced_services or alert.services  # a fin of a part it had: it is still that alert
    for end in snapshot.items:
        if end.kind is not ItemKind.END or not set(end.services) & set(scope):
            continue
        if not _overlaps(end.modes, alert.announced_modes or alert.modes) or end.published_at is None:
            continue
        after_alert = alert.published_at is None or end.published_at >= alert.published_at
        if after_alert and end.published_at <= item.published_at:
            return True
    return False


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
    all_modes = not alert.modes or not end.modes or set(alert.modes) <= set(end.modes)
    if set(alert.services) <= ended_services and all_modes:
        return None
    if all_modes:  # some téléservices end, in every mode
        return tuple(s for s in alert.services if s not in ended_services), alert.modes
    if set(alert.services) <= ended_services:  # every téléservice, in some modes
        ended_modes = set(end.modes) & set(alert.modes)
        return alert.services, tuple(m for m in alert.modes if m not in ended_modes)
    return None  # a mix the page does not spell out: treat it as the end of the alert


def _close_part(
    alert: AlertState, rest: tuple[tuple[str, ...], tuple[str, ...]], work: _Work, item: Item
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
    work.keep(replace(alert, services=services, modes=modes))
    work.emit(
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


def _close(alert: AlertState, work: _Work, *, item: Item | None, inferred: bool) -> None:
    work.keep(replace(alert, status="closed", closed_at=work.now, inferred_close=inferred))
    work.emit(
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
            else "L'alerte n'apparaît plus sur la météo des services en ligne (fin déduite).",
            published_at=item.published_at if item else None,
            inferred=inferred,
        )
    )


# --- step 4: alerts the page no longer shows ---------------------------------------------------------
def _absences(work: _Work, rules: Rules) -> None:
    """Open alerts the page no longer shows are counted, and closed after N healthy polls."""
    for alert in list(work.open.values()):
        if alert.id in work.seen or _still_down_in_table(alert, work.snapshot):
            if alert.absent_polls:
                work.keep(replace(alert, absent_polls=0))
            continue
        absent = work.keep(replace(alert, absent_polls=alert.absent_polls + 1))
        if absent.absent_polls >= rules.close_after_absent:
            _close(absent, work, item=None, inferred=True)


def _still_down_in_table(alert: AlertState, snapshot: Snapshot) -> bool:
    bad = (ServiceState.ALERT, ServiceState.DOWN)
    modes = alert.modes or ("EDI", "DTI")
    return any(snapshot.state_of(s, m) in bad for s in alert.services for m in modes)


# --- step 5: planned interruptions -------------------------------------------------------------------
def _interruptions(work: _Work) -> None:
    """Each planned interruption once (a re-announced window is a new one); shown twice on a page
    (a banner and a list), it is told from the fuller copy (dated, with a window)."""
    notices: dict[str, Item] = {}
    for item in work.snapshot.items:
        if item.kind is not ItemKind.PLANNED or not item.services:
            continue
        if item.cancelled:
            _withdraw(item, work)
            continue
        iid = interruption_id(item)
        best = notices.get(iid)
        if best is None or _fuller(item) > _fuller(best):
            notices[iid] = item
    for iid, item in notices.items():
        work.emit(
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


def _withdraw(item: Item, work: _Work) -> None:
    """A notice withdrawing an interruption that was announced: once; one never announced (or whose
    window the notice does not give) is nothing to withdraw."""
    iid = interruption_id(item)
    if iid not in work.prior.known_event_ids and not any(e.id == iid for e in work.events):
        return
    work.emit(
        InterruptionCancelled(
            id=f"{iid}:cancelled",
            source=work.location,
            detected_at=work.now,
            interruption_id=iid,
            services=item.services,
            modes=item.modes,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            published_at=item.published_at,
            title=item.title,
            text=item.text,
        )
    )


def _fuller(item: Item) -> tuple[bool, bool, str]:
    return (
        item.published_at is not None,
        item.starts_at is not None,
        item.published_at.isoformat() if item.published_at else "",
    )


# --- step 6: messages that name no téléservice --------------------------------------------------------
def _unattributed(work: _Work) -> None:
    """Alerts, ends and notices naming no téléservice, and BIPs that belong to no open alert and name
    none, go to the admins only: never an alert "on every service"."""
    for index, item in enumerate(work.snapshot.items):
        if item.services or item.kind is ItemKind.INFORMATION:
            continue
        if item.kind is ItemKind.BULLETIN and _bulletin_target(item, work) is not None:
            continue
        if item.kind is ItemKind.BULLETIN and item.parent is not None and item.parent in work.item_alert:
            continue
        del index
        work.emit(
            UnattributedMessage(
                id=unattributed_id(item),
                source=work.location,
                detected_at=work.now,
                item_kind=item.kind.value,
                title=item.title,
                text=item.text,
                published_at=item.published_at,
            )
        )


# --- event builders ------------------------------------------------------------------------------------
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


def _updated(alert: AlertState, item: Item, changes: list[str], work: _Work) -> AlertUpdated:
    """The event telling that ``alert`` changed: its level, or a wider scope."""
    key = stable_id(alert.services, alert.modes, alert.level)
    return AlertUpdated(
        id=f"{alert.id}:updated:{key}",
        source=work.location,
        detected_at=work.now,
        alert_id=alert.id,
        services=alert.services,
        modes=alert.modes,
        level=alert.level,
        title=item.title,
        text=item.text,
        published_at=_moment(item),
        changes=tuple(dict.fromkeys(changes)),
    )
