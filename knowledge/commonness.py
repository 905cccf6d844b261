"""How common a word is in everyday French or English: tells a filler word from a topic.

A question word the fiches never use is either everyday language ("restent", "encore", "still",
"already", "company") — it says nothing about whether the fiches answer — or a topic of its own
("lithium", "passeport", "regulatory") that the fiches do not speak of. The difference is how
common the word is in general use, read from the word-frequency lists that ship inside
``pyspellchecker`` (counts from film and TV subtitles, French and English), on the Zipf scale:
log10 of occurrences per billion words (7 for "the", 3 for a rare word).

The lists are read on first use only (a question with a word the fiches do not know), one
language at a time, and only words of Zipf 3 or more are kept in memory.
"""

from __future__ import annotations

import gzip
import json
import math
import threading
from importlib import resources

MIN_KEPT = 3.0  # words rarer than this are not kept: they read as rare either way

_lock = threading.Lock()
_tables: dict[str, dict[str, float]] = {}


def _load(lang: str) -> dict[str, float]:
    try:
        raw = (resources.files("spellchecker") / "resources" / f"{lang}.json.gz").read_bytes()
        counts: dict[str, int] = json.loads(gzip.decompress(raw))
    except (ModuleNotFoundError, FileNotFoundError, OSError, ValueError):
        return {}
    total = sum(counts.values()) or 1
    floor = 10 ** (MIN_KEPT - 9) * total
    scale = 1e9 / total
    return {w: round(math.log10(c * scale), 2) for w, c in counts.items() if c >= floor}


def _table(lang: str) -> dict[str, float]:
    table = _tables.get(lang)
    if table is None:
        with _lock:
            table = _tables.get(lang)
            if table is None:
                table = _tables[lang] = _load(lang)
    return table


def zipf(word: str, lang: str) -> float:
    """The word's Zipf frequency in ``lang`` ("fr"/"en"), the other language as a fallback; 0 if rare."""
    w = word.lower()
    value = _table(lang).get(w)
    if value is None:
        value = _table("en" if lang == "fr" else "fr").get(w)
    return value or 0.0
