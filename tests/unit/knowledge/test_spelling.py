"""Misspelt words read as the words the fiches use: one edit away, long enough, most frequent first.

The deletion index is checked against a plain search over the known words: what it finds is near
the typed word, and when it finds nothing no known word is."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from knowledge.spelling import MIN_LENGTH, Speller

CORPUS = [
    "déclaration", "déclaration", "déclarations", "procédure", "réintégration", "secours", "alerte",
    "alertes", "téléservice", "dysfonctionnement", "delta", "mention", "bureau",
]  # fmt: skip
SPELLER = Speller(CORPUS, ["trigger"])


def _one_edit(a: str, b: str) -> bool:
    """Damerau distance exactly 1 (a letter added, dropped, changed, or two neighbours swapped)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def test_a_dropped_an_added_a_changed_and_a_swapped_letter_are_corrected() -> None:
    assert SPELLER.correct("declartion") == "déclaration"
    assert SPELLER.correct("procedurre") == "procédure"
    assert SPELLER.correct("reintegratoin") == "réintégration"
    assert SPELLER.correct("secoure") == "secours"
    assert SPELLER.correct("triggerd") == "trigger"


def test_known_short_and_far_words_are_left_alone() -> None:
    assert SPELLER.correct("déclaration") is None  # known
    assert SPELLER.correct("delt") is None  # under five letters
    assert SPELLER.correct("deklarasion") is None  # two edits away
    assert SPELLER.correct("lithium") is None  # nothing near


def test_the_most_frequent_word_wins_a_tie() -> None:
    # "declaration" is one letter from both "déclaration" (twice in the corpus) and "déclarations"
    assert SPELLER.correct("declaratio") == "déclaration"


@given(st.sampled_from(sorted(set(CORPUS))), st.integers(min_value=0, max_value=30), st.sampled_from("aesxz"))
def test_a_correction_is_always_a_known_word_one_edit_away(word: str, at: int, letter: str) -> None:
    at %= len(word)
    for typo in (
        word[:at] + word[at + 1 :],
        word[:at] + letter + word[at:],
        word[:at] + letter + word[at + 1 :],
    ):
        fixed = SPELLER.correct(typo)
        if fixed is not None:
            assert SPELLER.knows(fixed)
            assert _near(_fold(fixed), _fold(typo))
        elif len(typo) >= MIN_LENGTH + 1 and not SPELLER.knows(typo) and typo.isalpha():
            # nothing found only when no known word of five letters or more is one edit away
            assert not any(len(k) >= MIN_LENGTH - 1 and _near(_fold(k), _fold(typo)) for k in CORPUS)


def _near(known: str, typo: str) -> bool:
    """One edit away, or (words of the same length) one letter dropped from each: what a deletion
    index finds ("lertes" meets "alerte" at "lerte")."""
    drops = lambda w: {w[:i] + w[i + 1 :] for i in range(len(w))}  # noqa: E731
    return _one_edit(known, typo) or (len(known) == len(typo) and bool(drops(known) & drops(typo)))


def _fold(word: str) -> str:
    from knowledge.text import fold

    return fold(word)


def test_a_word_typed_without_its_accents_is_read_as_the_fiches_spelling() -> None:
    # the French stemmer reads "mainlevee" as "mainleve" and the fiches' "mainlevée" as "mainlev"
    speller = Speller(["mainlevée", "réintégrées", "où", "ou", "délai", "delta"], [])
    assert speller.accented("mainlevee") == "mainlevée"
    assert speller.accented("REINTEGREES") == "réintégrées"
    assert speller.accented("mainlevée") is None  # typed with its accents
    assert speller.accented("ou") is None  # the fiches write it two ways
    assert speller.accented("delta") is None  # the fiches write it without accents
    assert speller.accented("bloquee") is None  # not a word of the fiches
