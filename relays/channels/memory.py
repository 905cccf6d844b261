"""The in-memory channel: the fake shipped next to the real ones, for tests and dry runs.

It records every message it accepts and can be told to fail like a real platform would: the next
``n`` sends transiently (optionally with a ``retry_after``), or one address permanently (blocked,
not found). Inject it where a Telegram or Slack channel would go; no patching needed::

    memory = MemoryChannel()
    memory.fail_next(2, retry_after=5)
    memory.fail_address("42", BlockedError)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from relays.channels.base import BlockedError, Outgoing, PermanentError, TransientError

__all__ = ["Delivered", "MemoryChannel"]


@dataclass(frozen=True, slots=True)
class Delivered:
    """One accepted message and the reference the channel returned for it."""

    message: Outgoing
    ref: str


class MemoryChannel:
    """Records messages; references are ``"<address>:<n>"``."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.delivered: list[Delivered] = []
        self.attempts = 0
        self._transient: list[float | None] = []
        self._broken: dict[str, type[PermanentError]] = {}
        self._ids = itertools.count(1)

    @property
    def sent(self) -> list[Outgoing]:
        return [d.message for d in self.delivered]

    def sent_to(self, address: str) -> list[Outgoing]:
        return [d.message for d in self.delivered if d.message.address == address]

    def fail_next(self, n: int = 1, *, retry_after: float | None = None) -> None:
        """The next ``n`` sends (to any address) raise ``TransientError``."""
        self._transient.extend([retry_after] * n)

    def fail_address(self, address: str, error: type[PermanentError] = BlockedError) -> None:
        """Every send to ``address`` raises ``error`` until :meth:`heal`."""
        self._broken[address] = error

    def heal(self, address: str) -> None:
        self._broken.pop(address, None)

    async def aclose(self) -> None:
        """Nothing to release."""

    async def send(self, message: Outgoing) -> str:
        """Record ``message`` (or fail as programmed); returns ``"<address>:<n>"``."""
        self.attempts += 1
        error = self._broken.get(message.address)
        if error is not None:
            raise error(
                "programmed permanent failure",
                channel=self.name,
                address=message.address,
                reason="programmed",
            )
        if self._transient:
            retry_after = self._transient.pop(0)
            raise TransientError(
                "programmed transient failure",
                channel=self.name,
                address=message.address,
                reason="programmed",
                retry_after=retry_after,
            )
        ref = f"{message.address}:{next(self._ids)}"
        self.delivered.append(Delivered(message, ref))
        return ref
