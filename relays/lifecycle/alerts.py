"""Step 1 — alert messages: a known alert seen again, that alert updated (requalified or widened),
or a new alert; a stale copy never reopens one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from knowledge.services import fold

from ..events import AlertOpened, AlertUpdated, stable_id
from ..snapshot import Item, ItemKind, ServiceState, Snapshot
from .ends import ended_before, ended_on_page
from .ids import alert_id
from .state import AlertState, Work, moment, overlaps, union


def alerts(work: Work) -> None:
    """Each alert message is a known alert seen again, that alert updated, or a new alert."""
    known = {a.id: a for a in work.prior.known_alerts}
    order = sorted(
        (i for i, item in enumerate(work.snapshot.items) if item.kind is ItemKind.ALERT and item.services),
        # dated messages first, oldest first (an undated summary — a banner "Alerte en cours sur …" —
        # is then taken for the alert it sums up); copies in a stable order whatever the page's order
        key=lambda i: (
            moment(work.snapshot.items[i]) is None,
            moment(work.snapshot.items[i]) or datetime.min.replace(tzinfo=UTC),
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


def _seen_closed(back: AlertState, item: Item, work: Work) -> str | None:
    """A closed alert on the page again: reopened only if its end was inferred, is not on the page,
    and the page is not a stale copy."""
    if back.status != "closed" or not back.inferred_close or work.stale or ended_on_page(back, work.snapshot):
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
    work.emit(opened(f"{back.id}:reopened:{back.reopened}", back, item, work))
    return back.id


def _same_open_alert(item: Item, work: Work) -> str | None:
    """The open alert this message re-states (same téléservices and modes, its fin not on the page)."""
    candidates = [
        a
        for a in work.open.values()
        if set(a.announced_services or a.services) & set(item.services)
        and overlaps(a.announced_modes or a.modes, item.modes)
        and not ended_before(a, item, work.snapshot)
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


def _resembles_closed(item: Item, work: Work) -> bool:
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


def _open(aid: str, item: Item, work: Work) -> str:
    level = item.level or level_from_table(item, work.snapshot)
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
            level_at=moment(item),
        )
    )
    work.emit(opened(f"{aid}:opened", state, item, work))
    return aid


def _restate(aid: str, items: list[Item], work: Work) -> None:
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
            services=union(new.services, services),
            modes=union(new.modes, modes) if new.modes else new.modes,
            announced_services=union(announced_s, services),
            announced_modes=union(announced_m, modes),
        )
        changes += ["services"] * bool(services) + ["modes"] * bool(modes and alert.modes)
        cause = next(
            i for i in reversed(items) if set(i.services) & set(services) or set(i.modes) & set(modes)
        )
    stated = [i for i in items if i.level is not None]
    if stated:
        newest = max((moment(i) for i in stated), key=lambda m: m or datetime.min.replace(tzinfo=UTC))
        latest = [i for i in stated if moment(i) == newest]
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
        work.emit(updated(alert, cause, changes, work))


def level_from_table(item: Item, snapshot: Snapshot) -> str | None:
    """The level the status table shows for the alert's téléservices, when its message says none."""
    modes = item.modes or ("EDI", "DTI")
    states = {snapshot.state_of(s, m) for s in item.services for m in modes}
    if ServiceState.DOWN in states:
        return "black"
    if ServiceState.ALERT in states:
        return "red"
    return None


def opened(event_id: str, alert: AlertState, item: Item, work: Work) -> AlertOpened:
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


def updated(alert: AlertState, item: Item, changes: list[str], work: Work) -> AlertUpdated:
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
        published_at=moment(item),
        changes=tuple(dict.fromkeys(changes)),
    )
