"""Events as CloudEvents 1.0 documents (JSON format), the body of every webhook the relay posts.

::

    {"specversion": "1.0",
     "id": "msg_3f1c…",                    the delivery's idempotency key (= the webhook-id header):
                                           the same on every retry, unique per event and purpose
     "source": "urn:prodouane-relay",
     "type": "prodouane_relay.alert_opened",   the event's kind, or the reminder's purpose
     "subject": "Af2379c0f8f991e07",       the alert (or the interruption) it is about
     "time": "2026-12-03T09:35:00+00:00",  when the relay recorded the event
     "datacontenttype": "application/json",
     "data": {…}}                          relays.feeds.record(event): the API's shape

Types are ``prodouane_relay.<kind>`` for the events (``alert_opened``, ``alert_updated``,
``bulletin``, ``alert_closed``, ``interruption_planned``, ``interruption_cancelled``, and the
admins' ``source_degraded``…) and ``prodouane_relay.<purpose>`` for the reminders
(``interruption_reminder`` 24 h before a planned interruption, ``interruption_start`` at its
start, ``deadline_reminder`` before the reintegration deadline), whose ``data`` is the event they
are about. Anything else sent through the webhook channel (a broadcast, a test message) is a
``prodouane_relay.message`` whose ``data`` is ``{"text": …}``.

The body is written once per delivery and is byte-identical across retries (``time`` is the
event's, never the attempt's; the attempt's time travels in the ``webhook-timestamp`` header).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .events import Event, stable_id
from .feeds import record

__all__ = ["SOURCE", "TYPE_PREFIX", "envelope", "message", "message_id"]

SOURCE = "urn:prodouane-relay"
TYPE_PREFIX = "prodouane_relay."


def message_id(event_id: str, purpose: str) -> str:
    """The idempotency key of one event's message for one purpose (no '.', as Standard Webhooks asks)."""
    return "msg_" + stable_id(event_id, purpose)


def _dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def envelope(event: Event, purpose: str) -> str:
    """The CloudEvents document (JSON text) for ``event``'s message of ``purpose``."""
    data = record(event)
    subject = data.get("alert_id") or data.get("interruption_id") or event.id
    kind = event.kind if purpose == "notify" else purpose
    return _dumps(
        {
            "specversion": "1.0",
            "id": message_id(event.id, purpose),
            "source": SOURCE,
            "type": TYPE_PREFIX + kind,
            "subject": subject,
            "time": event.detected_at.isoformat(),
            "datacontenttype": "application/json",
            "data": data,
        }
    )


def message(text: str) -> str:
    """A free-text message (a broadcast, a test) as a CloudEvents document with a fresh id."""
    return _dumps(
        {
            "specversion": "1.0",
            "id": "msg_" + uuid.uuid4().hex[:16],
            "source": SOURCE,
            "type": TYPE_PREFIX + "message",
            "datacontenttype": "application/json",
            "data": {"text": text},
        }
    )
