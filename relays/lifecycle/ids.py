"""Deterministic ids: an event is named by what was published, never by when it was seen."""

from __future__ import annotations

from knowledge.services import fold

from ..events import stable_id
from ..snapshot import Item, ItemKind, Snapshot


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
    # a withdrawal that gives no window withdraws an announcement beside it: any of them may be it
    events |= {f"{interruption_id(i)}:cancelled" for i in planned}
    events |= {unattributed_id(i) for i in snapshot.unattributed()}
    return alerts, events


def bip_key(item: Item) -> str:
    stamp = item.published_at.isoformat() if item.published_at else None
    return stable_id(item.number, item.services, stamp, fold(item.title), item.text[:200])


def end_key(item: Item) -> str:
    return stable_id(item.services, item.modes, fold(item.title), item.text[:200])
