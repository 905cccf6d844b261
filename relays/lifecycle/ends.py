"""Steps 3 and 4 — ends: a fin d'alerte closes what it names (all or part); an alert the page no
longer shows closes after N healthy polls, marked inferred."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from knowledge.services import fold

from ..events import AlertClosed, AlertOpened, stable_id
from ..snapshot import Item, ItemKind, ServiceState, Snapshot
from .ids import end_key
from .state import AlertState, Rules, Work, overlaps


def ends(work: Work) -> None:
    """An explicit end closes the open alerts it names, if published after them. An end naming only
    some of an alert's téléservices (or modes) ends those, and the rest stays open."""
    opened_now = {e.alert_id for e in work.events if isinstance(e, AlertOpened)}
    undated = tuple(
        sorted({end_key(i) for i in work.snapshot.items if i.kind is ItemKind.END and i.published_at is None})
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
            if not (set(item.services) & set(alert.services)) or not overlaps(item.modes, alert.modes):
                continue
            if item.published_at and alert.published_at and item.published_at < alert.published_at:
                continue  # the end of an earlier alert for the same service
            if item.published_at is None and (alert.id in opened_now or end_key(item) in alert.old_ends):
                continue  # an undated end cannot be shown to come after an alert first seen with it
            rest = _remainder(alert, item)
            if rest is None:
                close(alert, work, item=item, inferred=False)
                work.seen.discard(alert.id)
            else:
                close_part(alert, rest, work, item)


def ended_before(alert: AlertState, item: Item, snapshot: Snapshot) -> bool:
    """Whether the page shows a fin of ``alert`` published before the message ``item``: the
    message is then a new alert on the same téléservice, not that alert again. An undated message
    cannot be shown to follow the fin: it is taken for the alert that fin ends."""
    if item.published_at is None:
        return False
    scope = alert.announced_services or alert.services  # a fin of a part it had: it is still that alert
    for end in snapshot.items:
        if end.kind is not ItemKind.END or not set(end.services) & set(scope):
            continue
        if not overlaps(end.modes, alert.announced_modes or alert.modes) or end.published_at is None:
            continue
        after_alert = alert.published_at is None or end.published_at >= alert.published_at
        if after_alert and end.published_at <= item.published_at:
            return True
    return False


def ended_on_page(alert: AlertState, snapshot: Snapshot) -> bool:
    """Whether the page also shows a fin d'alerte for ``alert``, published after it."""
    for item in snapshot.items:
        if item.kind is not ItemKind.END or not set(item.services) & set(alert.services):
            continue
        if not overlaps(item.modes, alert.modes):
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


def close_part(
    alert: AlertState, rest: tuple[tuple[str, ...], tuple[str, ...]], work: Work, item: Item
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


def close(alert: AlertState, work: Work, *, item: Item | None, inferred: bool) -> None:
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


def absences(work: Work, rules: Rules) -> None:
    """Open alerts the page no longer shows are counted, and closed after N healthy polls."""
    for alert in list(work.open.values()):
        if alert.id in work.seen or _still_down_in_table(alert, work.snapshot):
            if alert.absent_polls:
                work.keep(replace(alert, absent_polls=0))
            continue
        absent = work.keep(replace(alert, absent_polls=alert.absent_polls + 1))
        if absent.absent_polls >= rules.close_after_absent:
            close(absent, work, item=None, inferred=True)


def _still_down_in_table(alert: AlertState, snapshot: Snapshot) -> bool:
    bad = (ServiceState.ALERT, ServiceState.DOWN)
    modes = alert.modes or ("EDI", "DTI")
    return any(snapshot.state_of(s, m) in bad for s in alert.services for m in modes)
