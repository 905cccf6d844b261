"""Why a page cannot be trusted as a picture of the services."""

from __future__ import annotations

from ..errors import RelayError


class PageError(RelayError):
    """The page cannot be trusted as a picture of the services. ``reason`` is a short code:
    ``empty``, ``truncated``, ``malformed``, ``maintenance``, ``captcha``, ``unparseable`` or
    ``unrecognised``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason, reason=reason)
        self.detail = detail
