"""The provider's proof under fiche 9: per alert, who was told of the start and of the end, when.

One row per (alert, subscriber) that the alert concerned (an alert may be named by any unique
prefix of its id, :func:`resolve_alert`): the start message (``alert_opened``)
and the end message (``alert_closed``) with their status, time and platform reference, the number
of bulletins delivered, and the last error when something failed.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from .errors import UsageError
from .outbox import DeliveryStatus, Purpose
from .store import AlertRow, DeliveryRow, Store, SubscriberRow
from .subscribers import mask_address


@dataclass(frozen=True, slots=True)
class AuditRow:
    alert_id: str
    services: str
    alert_status: str
    published_at: str | None
    closed_at: str | None
    subscriber_id: int
    client: str
    channel: str
    address: str
    start_status: str
    start_sent_at: str | None
    start_ref: str | None
    end_status: str
    end_sent_at: str | None
    end_ref: str | None
    bulletins_sent: int
    error: str | None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def resolve_alert(store: Store, key: str) -> str:
    """The id of the one alert whose id starts with ``key`` (the short id the table prints is
    enough); a :class:`UsageError` when none does, or several do."""
    key = key.strip()
    if not key:
        raise UsageError("give an alert id (or its first characters)")
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    with store.sessions() as session:
        if session.get(AlertRow, key) is not None:
            return key
        found = list(
            session.scalars(select(AlertRow.id).where(AlertRow.id.like(f"{escaped}%", escape="\\")).limit(6))
        )
    if not found:
        raise UsageError(f"no alert id starts with {key[:40]!r}", reason="unknown_alert")
    if len(found) > 1:
        shown = ", ".join(sorted(found)[:5]) + ("…" if len(found) > 5 else "")
        raise UsageError(
            f"{key[:40]!r} starts several alert ids ({shown}): give more of it", reason="ambiguous"
        )
    return found[0]


def audit(store: Store, alert_id: str | None = None) -> list[AuditRow]:
    with store.sessions() as session:
        alerts_q = select(AlertRow).order_by(AlertRow.opened_at)
        if alert_id:
            alerts_q = alerts_q.where(AlertRow.id == alert_id)
        alerts = list(session.scalars(alerts_q))
        subscribers = {s.id: s for s in session.scalars(select(SubscriberRow))}
        rows: list[AuditRow] = []
        for alert in alerts:
            deliveries = list(
                session.scalars(
                    select(DeliveryRow).where(
                        DeliveryRow.event_id.like(f"{alert.id}:%"), DeliveryRow.purpose == Purpose.NOTIFY
                    )
                )
            )
            by_sub: dict[int, list[DeliveryRow]] = {}
            for d in deliveries:
                by_sub.setdefault(d.subscriber_id, []).append(d)
            for sub_id, items in sorted(by_sub.items()):
                start = next((d for d in items if d.event_id == f"{alert.id}:opened"), None)
                # the latest end: an alert reopened after an inferred end has a later, final one
                ends = [d for d in items if d.event_id.startswith(f"{alert.id}:closed")]
                end = max(ends, key=lambda d: d.event_seq) if ends else None
                bulletins = sum(1 for d in items if ":bip" in d.event_id and d.status == DeliveryStatus.SENT)
                errors = [d.last_error for d in items if d.last_error and d.status != DeliveryStatus.SENT]
                sub = subscribers[sub_id]
                rows.append(
                    AuditRow(
                        alert_id=alert.id,
                        services=", ".join(alert.services),
                        alert_status=alert.status,
                        published_at=_iso(alert.published_at),
                        closed_at=_iso(alert.closed_at),
                        subscriber_id=sub_id,
                        client=sub.client,
                        channel=sub.channel,
                        address=mask_address(sub.channel, sub.address),
                        start_status=start.status if start else "none",
                        start_sent_at=_iso(start.sent_at) if start else None,
                        start_ref=start.message_ref if start else None,
                        end_status=end.status
                        if end
                        else ("pending alert" if alert.status == "open" else "none"),
                        end_sent_at=_iso(end.sent_at) if end else None,
                        end_ref=end.message_ref if end else None,
                        bulletins_sent=bulletins,
                        error=errors[-1] if errors else None,
                    )
                )
        return rows


def as_json(rows: list[AuditRow]) -> str:
    return "\n".join(json.dumps(asdict(r), ensure_ascii=False) for r in rows)


def as_csv(rows: list[AuditRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(AuditRow.__slots__))
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    return out.getvalue()


def as_table(rows: list[AuditRow]) -> str:
    if not rows:
        return "No delivery recorded for any alert."
    headers = (
        "alert",
        "services",
        "client",
        "channel",
        "address",
        "start",
        "start sent (UTC)",
        "end",
        "end sent (UTC)",
        "BIP",
        "error",
    )
    body = [
        (
            r.alert_id[:9],
            r.services,
            r.client,
            r.channel,
            r.address,
            r.start_status,
            (r.start_sent_at or "")[:19],
            r.end_status,
            (r.end_sent_at or "")[:19],
            str(r.bulletins_sent),
            (r.error or "")[:40],
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [fmt.format(*headers), fmt.format(*("-" * w for w in widths)), *(fmt.format(*line) for line in body)]
    )
