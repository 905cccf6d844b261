"""Many short texts kept as one block of UTF-8: the shipped questions' wording in a long-running process.

The probes and the questions no document answers (:mod:`knowledge.probes`, :mod:`knowledge.asked`)
number 10,000 and grow by a few hundred each time a locked question set moves to dev. Their
vectors answer questions; their wording is read only offline (to embed them, to read their words)
and, in development, when a dev file's questions are withheld or a probe's words are not in the
shipped file (a running process checks the shipped files by the hash of the question files'
bytes). As 10,000 Python strings they held 1.5 MB of the ``run`` process (whose bound is 150 MB)
for as long as it runs; as one block of UTF-8 bytes, 0.95 MB. (zlib would bring that to
0.3-0.4 MB, but compressing at every start-up cost `ask` 15 ms at level 1, 50 ms at level 6.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

__all__ = ["Texts"]

SEPARATOR = "\n"  # the texts are whitespace-collapsed: none holds a line break


class Texts(Sequence[str]):
    """An immutable sequence of one-line texts, stored as one block and read back whole when used.

    Reading one item decodes them all: it is meant for texts read together (a digest, an offline
    tool) or rarely, not in a loop over items; :meth:`unpacked` gives the list once.
    """

    __slots__ = ("_blob", "_count", "sha256")

    def __init__(self, texts: Iterable[str] = ()) -> None:
        items = list(texts)
        if any(SEPARATOR in t for t in items):
            raise ValueError("Texts holds one-line texts only")
        self._count = len(items)
        self._blob = SEPARATOR.join(items).encode("utf-8")
        #: the SHA-256 of the texts joined one per line (a digest without unpacking them)
        self.sha256 = hashlib.sha256(self._blob).hexdigest()

    def joined(self) -> str:
        """Every text, one per line (what a digest of the texts hashes)."""
        return self._blob.decode("utf-8")

    def unpacked(self) -> list[str]:
        return self.joined().split(SEPARATOR) if self._count else []

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        return iter(self.unpacked())

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return self.unpacked()[index]
        if not -self._count <= index < self._count:
            raise IndexError("Texts index out of range")
        return self.unpacked()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Texts):
            return self._count == other._count and self.sha256 == other.sha256
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._count, self.sha256))

    def __repr__(self) -> str:
        return f"Texts({self._count} texts, {len(self._blob)} bytes)"
