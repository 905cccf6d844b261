"""A webhook subscriber's address: whether it can be one, and how people and logs may see it.

Apart from :mod:`relays.channels.webhook` (which posts, with httpx, CloudEvents documents) so that
checking or showing an address — ``subscribers add``, a CSV import, a listing — loads nothing of
the posting side. Addresses are https URLs; plain http only to this machine (127.0.0.0/8, ::1,
localhost). Shown masked: user info, path and query may hold credentials.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["MAX_URL", "masked_url", "url_problem"]

MAX_URL = 2048


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(address: str) -> str | None:
    """Why ``address`` cannot be a webhook URL, or None when it can."""
    if len(address) > MAX_URL or any(c.isspace() for c in address):
        return "a webhook address is one URL, without spaces"
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return f"{masked_url(address)!r} is not a URL"
    if not host:
        return f"{masked_url(address)!r} names no host (e.g. https://edi.example.fr/hooks/douane)"
    if parts.scheme == "https" or (parts.scheme == "http" and _loopback(host)):
        return None
    return (
        "a webhook address must be an https:// URL (plain http only to this machine, e.g. http://127.0.0.1)"
    )


def masked_url(address: str) -> str:
    """``address`` as people and logs may see it: its scheme and server only, since its user info,
    path (``/hooks/catch/123/abc``) and query may each be a credential."""
    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return address.split("://", 1)[0] + "://***"
    if ":" in host:
        host = f"[{host}]"
    more = "/…" if parts.path.strip("/") or parts.query or parts.fragment or "@" in parts.netloc else ""
    return f"{parts.scheme}://{host}{port}{more}"
