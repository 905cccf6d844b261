"""Word frequencies: an everyday word is common, a topic word rare, a made-up word absent."""

from __future__ import annotations

from knowledge.commonness import zipf


def test_everyday_words_are_common_and_topics_rare() -> None:
    assert zipf("the", "en") > 7 > zipf("company", "en") > 4
    assert zipf("restent", "fr") > zipf("passeport", "fr") > 3
    assert zipf("xqzvwk", "fr") == 0.0


def test_a_word_missing_from_one_language_is_looked_up_in_the_other() -> None:
    assert zipf("still", "fr") == zipf("still", "en") > 5
