"""How events and snapshots read on a terminal: one readable line each, or JSON; and any text a
person typed (a client's name, a chat's reply) made safe to print."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from relays.events import (
    AlertClosed,
    BulletinPublished,
    Event,
    InterruptionPlanned,
    SourceDegraded,
    to_record,
)
from relays.render import paris
from relays.snapshot import Snapshot

from .text import printable

__all__ = ["event_line", "printable", "snapshot_lines", "snapshot_record"]


def event_line(event: Event) -> str:
    """``[alert_opened] DELTA G (EDI) red — publié 03/12/2026 10:32 — ALERTE - DELTA G - EDI``."""
    record = to_record(event)
    services = ", ".join(record["services"]) or "-"
    modes = "/".join(record["modes"])
    parts = [f"[{event.kind}]", f"{services}" + (f" ({modes})" if modes else "")]
    if record["level"]:
        parts.append(record["level"])
    if isinstance(event, BulletinPublished) and event.number is not None:
        parts.append(f"BIP n°{event.number}")
    if isinstance(event, AlertClosed) and event.inferred:
        parts.append("(inferred)")
    if isinstance(event, InterruptionPlanned):
        parts.append(f"from {paris(event.starts_at)} to {paris(event.ends_at)} (Paris)")
    elif isinstance(event, SourceDegraded):
        parts.append(f"after {event.failures} bad polls: {event.reason}")
    published = getattr(event, "published_at", None)
    if published is not None:
        parts.append(f"— published {paris(published)} (Paris)")
    if record["title"]:
        parts.append(f"— {record['title']}")
    return " ".join(parts)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def snapshot_record(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "location": snapshot.location,
        "size": snapshot.size,
        "all_clear": snapshot.all_clear,
        "items": [
            {
                "kind": i.kind.value,
                "services": list(i.services),
                "modes": list(i.modes),
                "level": i.level,
                "published_at": iso(i.published_at),
                "number": i.number,
                "starts_at": iso(i.starts_at),
                "ends_at": iso(i.ends_at),
                "parent": i.parent,
                "title": i.title,
                "text": i.text,
            }
            for i in snapshot.items
        ],
        "statuses": [
            {"service": s.service, "mode": s.mode, "state": s.state.value, "label": s.label}
            for s in snapshot.statuses
        ],
    }


def snapshot_lines(snapshot: Snapshot) -> list[str]:
    lines = [
        f"{snapshot.location} — {len(snapshot.items)} message(s), {len(snapshot.statuses)} status cell(s)"
    ]
    troubled = [s for s in snapshot.statuses if s.state.value != "ok"]
    for s in troubled:
        lines.append(f"  status: {s.service} {s.mode}: {s.label or s.state.value}")
    if snapshot.statuses and not troubled:
        lines.append("  status: every listed service is available")
    for i in snapshot.items:
        services = ", ".join(i.services) or "-"
        extra = f" BIP n°{i.number}" if i.number is not None else ""
        if i.starts_at:
            extra += f" from {paris(i.starts_at)} to {paris(i.ends_at)}"
        lines.append(
            f"  {i.kind.value}: {services} ({'/'.join(i.modes) or '-'}){extra} "
            f"— published {paris(i.published_at)} — {i.title}"
        )
    return lines
