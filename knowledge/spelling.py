"""Reading misspelt and SMS-style words as the words the fiches (or the glossary) use.

Operators type fast: "declartion", "procedur", "auto-declenchment", "reintegrer" without accents,
"triggerd". A word neither the fiches, the glossary nor the stop-word lists know is compared with
the known words at one edit (a letter added, dropped, changed or two swapped: Damerau distance 1)
through a deletion index (the SymSpell idea: a word and its one-letter deletions meet a known
word's one-letter deletions), and read as the most frequent known word found. Short words (under
five letters) are left alone: at that length one edit turns a word into another real word. A word
of the fiches typed without its accents ("mainlevee") is given them back (:meth:`Speller.accented`):
the French stemmer reads "mainlevee" and "mainlevée" as two stems.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable

from knowledge.glossary import EN_FR, FR_FR, INTENT_EN, INTENT_FR
from knowledge.text import STOP_EN, STOP_FR, fold, words

MIN_LENGTH = 5  # shorter words are not corrected
MIN_LENGTH_CHANGED = 6  # ...and a letter changed or swapped only from this length ("decla" is not "delta")


def glossary_words() -> list[str]:
    """Every word of the glossary's keys (English and French), lower case."""
    return [w for table in (EN_FR, FR_FR, INTENT_EN, INTENT_FR) for key in table for w in words(key)]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Speller:
    """Corrects a word at one edit from a known word; built once from the fiches' words."""

    def __init__(self, corpus_words: Iterable[str], glossary: Iterable[str]) -> None:
        counts: Counter[str] = Counter()
        self._form: dict[str, str] = {}
        # every spelling the fiches give each folded word: a word typed without its accents
        # ("mainlevee") is given the fiches' accented spelling only where they write it one way
        # (the French stemmer reads "mainlevee" and "mainlevée" as two stems)
        spellings: dict[str, set[str]] = {}
        for w in corpus_words:
            key = fold(w)
            counts[key] += 1
            self._form.setdefault(key, w.lower())
            spellings.setdefault(key, set()).add(w.lower())
        for w in glossary:
            key = fold(w)
            counts[key] += 0  # known, but the fiches' own words win a tie
            self._form.setdefault(key, w.lower())
        self._counts = counts
        self._accented = {
            k: next(iter(v)) for k, v in spellings.items() if len(v) == 1 and next(iter(v)) != k
        }
        self._stop = STOP_FR | STOP_EN
        # The deletion index, as two flat arrays sorted by the deletion's hash: 20,000 deletions of
        # 2,500 words held as a dict of strings to tuples took 1.3 MB of the long-running process
        # (as sets, 3 MB); as arrays, 0.25 MB. Equal hashes are checked against the words found.
        self._keys = tuple(k for k in counts if len(k) >= MIN_LENGTH - 1 and k.isalpha())
        pairs = sorted((hash(d), n) for n, k in enumerate(self._keys) for d in _deletions(k))
        self._hashes = array("q", (h for h, _ in pairs))
        self._owners = array("i", (n for _, n in pairs))

    def _deleting_to(self, deletion: str) -> list[str]:
        """The indexed words one of whose one-letter deletions is ``deletion``."""
        h = hash(deletion)
        start = bisect_left(self._hashes, h)
        end = bisect_right(self._hashes, h, lo=start)
        found = (self._keys[n] for n in self._owners[start:end])
        return [k for k in found if deletion in _deletions(k)]

    def knows(self, word: str) -> bool:
        key = fold(word)
        return key in self._counts or key in self._stop

    def accented(self, word: str) -> str | None:
        """The fiches' spelling of a word typed without the accents they give it ("mainlevee",
        "reintegrees", "agrees" → "mainlevée", "réintégrées", "agréés"), or None: the word has
        accents, or the fiches write it without any or in several ways."""
        key = fold(word)
        if word.lower() != key:
            return None
        return self._accented.get(key)

    def correct(self, word: str) -> str | None:
        key = fold(word)
        if len(key) < MIN_LENGTH or not key.isalpha() or key in self._counts or key in self._stop:
            return None
        found: set[str] = set(self._deleting_to(key))  # a letter was dropped
        for d in _deletions(key):
            if d in self._counts and len(d) >= MIN_LENGTH - 1:  # a letter was added
                found.add(d)
            if len(key) >= MIN_LENGTH_CHANGED:  # a letter changed, or two were swapped
                found |= {k for k in self._deleting_to(d) if len(k) == len(key)}
        if not found:
            return None
        best = max(sorted(found), key=lambda k: (k[0] == key[0], self._counts[k]))
        return self._form[best]
