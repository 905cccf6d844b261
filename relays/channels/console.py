"""A channel that prints: what ``demo`` and dry runs show instead of sending anything.

Each message is written to a text stream (stdout unless told otherwise) under a header line
naming the channel, the address and what it replies to, so a reader sees exactly what each
subscriber would have received.
"""

from __future__ import annotations

import itertools
import sys
from typing import TextIO

from relays.channels.base import Outgoing

__all__ = ["ConsoleChannel"]


class ConsoleChannel:
    """Writes messages to ``stream`` (resolved at send time, so stdout capture works)."""

    def __init__(self, stream: TextIO | None = None, *, name: str = "console") -> None:
        self.name = name
        self._stream = stream
        self._ids = itertools.count(1)

    async def aclose(self) -> None:
        """Nothing to release."""

    async def send(self, message: Outgoing) -> str:
        """Print ``message``; returns ``"<address>:<n>"``."""
        ref = f"{message.address}:{next(self._ids)}"
        reply = f" (reply to {message.thread_ref})" if message.thread_ref else ""
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(f"── {self.name} → {message.address}{reply} [{message.format}] {ref} ──\n")
        stream.write(message.text.rstrip("\n") + "\n\n")
        stream.flush()
        return ref
