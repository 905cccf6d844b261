"""The shipped questions' wording, kept compressed: read back exactly as it was given."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.packed import Texts

one_line = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=40)


@given(st.lists(one_line, max_size=30))
def test_texts_read_back_as_given_in_order(items: list[str]) -> None:
    texts = Texts(items)
    assert len(texts) == len(items)
    assert list(texts) == items
    assert texts == items and texts == tuple(items)
    assert all(texts[i] == items[i] and texts[-1 - i] == items[-1 - i] for i in range(len(items)))
    assert list(texts[1:3]) == items[1:3]
    # the hash of the texts one per line, computed without unpacking them
    assert texts.sha256 == hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()


def test_equal_texts_are_equal_and_hash_alike() -> None:
    a, b = Texts(["Délai de réintégration ?", "case 44"]), Texts(["Délai de réintégration ?", "case 44"])
    assert a == b and hash(a) == hash(b)
    assert a != Texts(["case 44", "Délai de réintégration ?"])
    assert not Texts() and len(Texts()) == 0 and list(Texts()) == []


def test_an_index_out_of_range_raises_index_error() -> None:
    with pytest.raises(IndexError):
        Texts(["a"])[1]


def test_a_text_holding_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="one-line"):
        Texts(["two\nlines"])
