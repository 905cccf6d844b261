"""Steps 5 and 6 — planned interruptions (announced once, withdrawn once) and messages that name no
téléservice (to the admins only)."""

from __future__ import annotations

from ..events import InterruptionCancelled, InterruptionPlanned, UnattributedMessage
from ..snapshot import Item, ItemKind
from .bulletins import bulletin_target
from .ids import interruption_id, unattributed_id
from .state import Work


def interruptions(work: Work) -> None:
    """Each planned interruption once (a re-announced window is a new one); shown twice on a page
    (a banner and a list), it is told from the fuller copy (dated, with a window)."""
    notices: dict[str, Item] = {}
    withdrawals: list[Item] = []
    for item in work.snapshot.items:
        if item.kind is not ItemKind.PLANNED or not item.services:
            continue
        if item.cancelled:
            withdrawals.append(item)
            continue
        iid = interruption_id(item)
        best = notices.get(iid)
        if best is None or _fuller(item) > _fuller(best):
            notices[iid] = item
    windowed = [n for n in notices.values() if n.starts_at is not None]
    for iid, item in list(notices.items()):
        if item.starts_at is None and any(set(item.services) <= set(n.services) for n in windowed):
            del notices[iid]  # a header or summary of a notice told with its window on the same page
    for item in withdrawals:
        iid = _withdrawn(item, notices)
        _withdraw(item, work, iid, notices.get(iid))
    for iid, item in notices.items():
        if item.ends_at is not None and work.newest is not None and item.ends_at <= work.newest:
            continue  # its window is over by the page's own date: history, not news
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


def _withdrawn(item: Item, notices: dict[str, Item]) -> str:
    """The interruption a withdrawal names: its own window's; or, when it gives no window ("annoncée
    pour la nuit du 20 au 21 juin … est annulée"), the one announcement on the same page for the
    same téléservices with a window."""
    if item.starts_at is not None:
        return interruption_id(item)
    same = {iid for iid, n in notices.items() if set(n.services) == set(item.services) and n.starts_at}
    return same.pop() if len(same) == 1 else interruption_id(item)


def _withdraw(item: Item, work: Work, iid: str, announced: Item | None) -> None:
    """A notice withdrawing an interruption that was announced: once; one never announced (or whose
    window the notice does not give) is nothing to withdraw."""
    if iid not in work.prior.known_event_ids and not any(e.id == iid for e in work.events):
        return
    work.emit(
        InterruptionCancelled(
            id=f"{iid}:cancelled",
            source=work.location,
            detected_at=work.now,
            interruption_id=iid,
            services=item.services,
            modes=announced.modes if announced is not None and item.starts_at is None else item.modes,
            starts_at=item.starts_at or (announced.starts_at if announced is not None else None),
            ends_at=item.ends_at or (announced.ends_at if announced is not None else None),
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


def unattributed(work: Work) -> None:
    """Alerts, ends and notices naming no téléservice, and BIPs that belong to no open alert and name
    none, go to the admins only: never an alert "on every service"."""
    for index, item in enumerate(work.snapshot.items):
        if item.services or item.kind is ItemKind.INFORMATION:
            continue
        if item.kind is ItemKind.BULLETIN and bulletin_target(item, work) is not None:
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
