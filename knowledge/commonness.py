"""How common a word is in everyday French or English: tells a filler word from a topic.

A question word the fiches never use is either everyday language ("restent", "encore", "still",
"already", "company") — it says nothing about whether the fiches answer — or a topic of its own
("lithium", "passeport", "regulatory") that the fiches do not speak of. The difference is how
common the word is in general use, read from the word-frequency lists that ship inside
``pyspellchecker`` (counts from film and TV subtitles, French and English), on the Zipf scale:
log10 of occurrences per billion words (7 for "the", 3 for a rare word).

The lists are read on first use only (a question with a word the fiches do not know), one
language at a time, and only words of Zipf 3 or more are kept, as hashes (see :func:`_load`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import threading
from array import array
from importlib import resources
from pathlib import Path

import numpy as np

MIN_KEPT = 3.0  # words rarer than this are not kept: they read as rare either way
STEP = 20  # Zipf values are kept in twentieths (one byte each)

_lock = threading.Lock()
_tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}


_ENTRY = re.compile(rb'"([^"\\]+)":\s*(\d+)')
_EMPTY = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint8))


def _key(word: bytes) -> int:
    """A stable 64-bit key for a word (the tables may be cached on disk between processes)."""
    return int.from_bytes(hashlib.blake2b(word, digest_size=8).digest(), "little")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "prodouane-relay"


def _load(lang: str) -> tuple[np.ndarray, np.ndarray]:
    """The kept words as sorted 64-bit keys with their Zipf values: about 150 KB per language.

    Built once from pyspellchecker's list, then cached under ``~/.cache/prodouane-relay`` (named by
    a hash of the list, so a new pyspellchecker builds anew): the next process reads 150 KB instead
    of scanning 3 MB (0.1 s per language). The list is scanned entry by entry rather than loaded
    as a dict: a dict of 150,000 strings left 15 MB of fragmented memory per language in the
    long-running process.
    """
    try:
        packed = (resources.files("spellchecker") / "resources" / f"{lang}.json.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return _EMPTY
    cached = _cache_dir() / f"zipf-{lang}-{hashlib.blake2b(packed, digest_size=8).hexdigest()}.npz"
    try:
        with np.load(cached, allow_pickle=False) as data:
            return data["keys"], data["zipf"]
    except (OSError, KeyError, ValueError):
        pass
    table = _build(gzip.decompress(packed))
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            np.savez(handle, keys=table[0], zipf=table[1])
        partial.replace(cached)
    except OSError:  # a read-only home: built again by the next process, nothing worse
        pass
    return table


def _build(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    keys = array("Q")
    counts = array("Q")
    for m in _ENTRY.finditer(raw):
        keys.append(_key(m[1]))
        counts.append(int(m[2]))
    key_array = np.frombuffer(keys, dtype=np.uint64)
    count_array = np.frombuffer(counts, dtype=np.uint64).astype(np.float64)
    total = float(count_array.sum()) or 1.0
    kept = count_array >= 10 ** (MIN_KEPT - 9) * total
    zipfs = np.minimum(255, np.round(np.log10(count_array[kept] * 1e9 / total) * STEP)).astype(np.uint8)
    order = np.argsort(key_array[kept])
    return key_array[kept][order].copy(), zipfs[order].copy()


def _table(lang: str) -> tuple[np.ndarray, np.ndarray]:
    table = _tables.get(lang)
    if table is None:
        with _lock:
            table = _tables.get(lang)
            if table is None:
                table = _tables[lang] = _load(lang)
    return table


def _lookup(word: str, lang: str) -> float | None:
    keys, values = _table(lang)
    if not len(keys):
        return None
    key = np.uint64(_key(word.encode("utf-8")))
    i = int(np.searchsorted(keys, key))
    if i < len(keys) and keys[i] == key:
        return float(values[i]) / STEP
    return None


def zipf(word: str, lang: str) -> float:
    """The word's Zipf frequency in ``lang`` ("fr"/"en"), the other language as a fallback; 0 if rare."""
    w = word.lower()
    value = _lookup(w, lang)
    if value is None:
        value = _lookup(w, "en" if lang == "fr" else "fr")
    return value or 0.0
