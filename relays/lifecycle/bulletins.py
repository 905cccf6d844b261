"""Step 2 — bulletins: each new BIP of an open alert, once, in number order; a BIP that requalifies
its alert updates it first."""

from __future__ import annotations

from dataclasses import replace

from ..events import BulletinPublished
from ..snapshot import MODES, Item, ItemKind
from .alerts import updated
from .ids import bip_key, bulletin_id
from .state import AlertState, Work, overlaps


def bulletins(work: Work) -> None:
    """Each new BIP of an open alert, in number order; a BIP that requalifies its alert updates it."""
    bulletins = [(i, it) for i, it in enumerate(work.snapshot.items) if it.kind is ItemKind.BULLETIN]
    told = {key: alert.id for alert in (*work.prior.recent_closed, *work.open.values()) for key in alert.bips}
    told.update({key: alert.id for alert in work.changed.values() for key in alert.bips})
    # in number order; copies of one bulletin in a stable order whatever the page's, fullest first
    order = sorted(
        bulletins,
        key=lambda p: (p[1].number or 0, p[1].published_at or work.now, p[1].level is None, bip_key(p[1])),
    )
    for _, item in order:
        key = bip_key(item)
        if key in told:  # already told, for the alert it was first taken for
            if told[key] in work.open:
                work.seen.add(told[key])
            continue
        target = bulletin_target(item, work)
        if target is None:
            continue
        work.seen.add(target.id)
        bid = bulletin_id(target.id, item)
        if bid in work.prior.known_event_ids or any(e.id == bid for e in work.events):
            # another copy of a BIP this alert already told (its title names one more service):
            # it stays this alert's, or it would be told again for another once this one closes
            target = work.keep(replace(target, bips=(*target.bips, key)))
            told[key] = target.id
            continue
        target = work.keep(replace(target, bips=(*target.bips, key)))
        told[key] = target.id
        if target.modes and set(item.modes) > set(target.modes):  # its title names more modes
            wider = tuple(m for m in MODES if m in item.modes or m in target.modes)
            target = work.keep(replace(target, modes=wider))
            work.emit(updated(target, item, ["modes"], work))
        if item.level is not None and item.level != target.level:
            newer = (
                item.published_at is None or target.level_at is None or item.published_at >= target.level_at
            )
            if newer:
                target = work.keep(
                    replace(target, level=item.level, level_at=item.published_at or target.level_at)
                )
                work.emit(updated(target, item, ["level"], work))
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


def bulletin_target(item: Item, work: Work) -> AlertState | None:
    if item.parent is not None and item.parent in work.item_alert:
        return work.open.get(work.item_alert[item.parent])  # None when that alert is closed
    if item.parent is not None and work.snapshot.items[item.parent].kind is ItemKind.ALERT:
        return None  # nested in an alert message that is not open (ended, stale, unattributed)
    matches = [a for a in work.open.values() if set(item.services) & set(a.services)]
    same_mode = [a for a in matches if item.modes and overlaps(item.modes, a.modes)]
    matches = same_mode or matches  # "BIP n°2 – ECS – EDI" belongs to the ECS alert in EDI
    if not matches:  # a BIP naming no téléservice and in no alert message goes to the admins
        return None
    return max(matches, key=lambda a: a.published_at.isoformat() if a.published_at else "")
