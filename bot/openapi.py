"""The OpenAPI 3.1 document of the machine routes (``bot.api``), served at ``/api/v1/openapi.json``.

Written by hand beside the handlers rather than generated, so it says what a caller may rely on;
``tests/integration/web/test_api_contract.py`` holds the handlers to it with schemathesis.
"""

from __future__ import annotations

from typing import Any

from relays.feeds import PUBLIC_KINDS
from relays.snapshot import MODES

__all__ = ["document"]

VERSION = "1.0.0"

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_STRINGS = {"type": "array", "items": {"type": "string"}}

EVENT = {
    "type": "object",
    "description": "A public event: what the CID published and the relay made of it.",
    "required": [
        "cursor",
        "kind",
        "id",
        "alert_id",
        "services",
        "modes",
        "level",
        "published_at",
        "starts_at",
        "ends_at",
        "number",
        "inferred",
        "title",
        "text",
        "source",
        "detected_at",
        "changes",
        "interruption_id",
    ],
    "properties": {
        "cursor": {"type": "integer", "description": "pass as `after` to read what came next"},
        "kind": {"type": "string", "enum": list(PUBLIC_KINDS)},
        "id": {"type": "string", "description": "deterministic: the same fact always has the same id"},
        "alert_id": {**_NULLABLE_STRING, "description": "the alert an alert event is about"},
        "services": _STRINGS,
        "modes": {"type": "array", "items": {"type": "string", "enum": list(MODES)}},
        "level": {"type": ["string", "null"], "enum": ["red", "black", None]},
        "published_at": {**_NULLABLE_TIME, "description": "when the CID published it"},
        "starts_at": {**_NULLABLE_TIME, "description": "a planned interruption's window"},
        "ends_at": _NULLABLE_TIME,
        "number": {"type": ["integer", "null"], "description": "a bulletin's (BIP) number"},
        "inferred": {"type": ["boolean", "null"], "description": "an end deduced from the alert's absence"},
        "title": _NULLABLE_STRING,
        "text": _NULLABLE_STRING,
        "source": {"type": "string", "description": "where the relay read it"},
        "detected_at": {"type": "string", "format": "date-time", "description": "when the relay recorded it"},
        "changes": {
            "type": ["array", "null"],
            "items": {"type": "string"},
            "description": "alert_updated: what changed (level, services, modes)",
        },
        "interruption_id": {
            **_NULLABLE_STRING,
            "description": "interruption_cancelled: the interruption_planned it withdraws",
        },
    },
}

INTERRUPTION = {
    "type": "object",
    "required": ["uid", "id", "services", "modes", "starts_at", "ends_at", "title", "text", "sequence"],
    "properties": {
        "uid": {"type": "string", "description": "the calendar's UID: the same across re-announcements"},
        "id": {"type": "string", "description": "the interruption_planned event of the current window"},
        "services": _STRINGS,
        "modes": _STRINGS,
        "starts_at": _NULLABLE_TIME,
        "ends_at": _NULLABLE_TIME,
        "title": {"type": "string"},
        "text": {"type": "string"},
        "sequence": {"type": "integer", "minimum": 0, "description": "re-announcements so far"},
    },
}

ALERT = {
    "type": "object",
    "required": [
        "id",
        "services",
        "modes",
        "level",
        "title",
        "text",
        "published_at",
        "opened_at",
        "bulletins",
        "latest_bulletin",
    ],
    "properties": {
        "id": {"type": "string"},
        "services": _STRINGS,
        "modes": _STRINGS,
        "level": {"type": ["string", "null"], "enum": ["red", "black", None]},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "published_at": _NULLABLE_TIME,
        "opened_at": {"type": "string", "format": "date-time", "description": "when the relay saw it open"},
        "bulletins": {"type": "integer", "minimum": 0},
        "latest_bulletin": {
            "type": ["object", "null"],
            "required": ["number", "published_at", "text"],
            "properties": {
                "number": {"type": ["integer", "null"]},
                "published_at": _NULLABLE_TIME,
                "text": {"type": "string"},
            },
        },
    },
}

STATUS = {
    "type": "object",
    "required": ["source", "open_alerts", "upcoming_interruptions"],
    "properties": {
        "source": {
            "type": "object",
            "required": ["state", "last_ok_at", "consecutive_bad", "bad_since"],
            "properties": {
                "state": {
                    "type": "string",
                    "enum": ["ok", "late", "degraded", "never"],
                    "description": "ok: read normally; late: no good read for three poll intervals; "
                    "degraded: the page cannot be read; never: not read yet",
                },
                "last_ok_at": _NULLABLE_TIME,
                "consecutive_bad": {"type": "integer", "minimum": 0},
                "bad_since": _NULLABLE_TIME,
            },
        },
        "open_alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        "upcoming_interruptions": {"type": "array", "items": {"$ref": "#/components/schemas/Interruption"}},
    },
}

EVENTS_PAGE = {
    "type": "object",
    "required": ["events", "cursor", "more"],
    "properties": {
        "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
        "cursor": {
            "type": "integer",
            "description": "pass as `after` next time (the last event's cursor, or the one you gave)",
        },
        "more": {"type": "boolean", "description": "the limit cut the list short"},
    },
}

ERROR = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}


def _param(name: str, schema: dict[str, Any], description: str, *, array: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": "query", "required": False, "description": description}
    if array:
        out |= {"schema": {"type": "array", "items": schema}, "style": "form", "explode": True}
    else:
        out["schema"] = schema
    return out


FILTERS = [
    _param(
        "service",
        {"type": "string", "minLength": 1},
        "only events naming this téléservice (repeatable; 'DELTA G', 'ICS2', 'DELTA X' for both…)",
        array=True,
    ),
    _param(
        "mode",
        {"type": "string", "enum": list(MODES)},
        "only events about this mode (repeatable)",
        array=True,
    ),
    _param(
        "kind", {"type": "string", "enum": list(PUBLIC_KINDS)}, "only these kinds (repeatable)", array=True
    ),
]
LANG = _param("lang", {"type": "string", "enum": ["fr", "en"], "default": "fr"}, "language of the labels")
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "the ETag of a copy you hold: 304 when it is still current",
}
ETAG = {"ETag": {"schema": {"type": "string"}, "description": "validator for If-None-Match"}}


def _responses(content: dict[str, Any]) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {
        "200": {"description": "the current state", "headers": ETAG, "content": content},
        "304": {"description": "not modified since the ETag given", "headers": ETAG},
        "400": {"description": "a parameter cannot be read", "content": error},
        "401": {"description": "a token is required (the operator keeps the API private)", "content": error},
        "503": {"description": "the store cannot be read", "content": error},
    }


def _text(media: str) -> dict[str, Any]:
    return {media: {"schema": {"type": "string"}}}


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "prodouane-relay for machines",
            "version": VERSION,
            "description": "The DGDDI météo des téléservices as data: alerts, bulletins (BIP), ends of "
            "alert, planned interruptions and their withdrawals, as the relay recorded them. Public "
            "events only; nothing about subscribers. Every answer carries an ETag; send it back in "
            "If-None-Match to get 304 while nothing changed.",
        },
        "servers": [{"url": "/"}],
        "security": [{}, {"bearer": []}, {"token": []}],
        "paths": {
            "/api/v1/events": {
                "get": {
                    "operationId": "events",
                    "summary": "Public events, oldest first, from a cursor or a date",
                    "parameters": [
                        _param(
                            "after",
                            {"type": "integer", "minimum": 0, "maximum": 2**62},
                            "the cursor of the last event you read",
                        ),
                        _param(
                            "since",
                            {"type": "string", "format": "date-time"},
                            "only events recorded after this moment",
                        ),
                        *FILTERS,
                        _param(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                            "at most this many events",
                        ),
                        IF_NONE_MATCH,
                    ],
                    "responses": _responses({"application/json": {"schema": EVENTS_PAGE}}),
                }
            },
            "/api/v1/status": {
                "get": {
                    "operationId": "status",
                    "summary": "Open alerts, upcoming interruptions and the source's health",
                    "parameters": [IF_NONE_MATCH],
                    "responses": _responses(
                        {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}
                    ),
                }
            },
            "/feed.atom": {
                "get": {
                    "operationId": "atom",
                    "summary": "The 50 newest public events as an Atom feed",
                    "parameters": [*FILTERS, LANG, IF_NONE_MATCH],
                    "responses": _responses(_text("application/atom+xml")),
                }
            },
            "/interruptions.ics": {
                "get": {
                    "operationId": "calendar",
                    "summary": "Planned interruptions as an iCalendar (RFC 5545), one VEVENT each",
                    "parameters": [LANG, IF_NONE_MATCH],
                    "responses": _responses(_text("text/calendar")),
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "parameters": [IF_NONE_MATCH],
                    "responses": _responses({"application/json": {"schema": {"type": "object"}}}),
                }
            },
        },
        "components": {
            "schemas": {
                "Event": EVENT,
                "Alert": ALERT,
                "Interruption": INTERRUPTION,
                "Status": STATUS,
                "Error": ERROR,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "the status token"},
                "token": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "token",
                    "description": "the status token, for calendar apps and feed readers that send no header",
                },
            },
        },
    }
