"""The stemmers: the C build (PyStemmer), which snowballstemmer hands out when it is installed, so
that the index is built fast when ``ask`` starts — and it stems every word of the fiches exactly as
the pure-Python Snowball stemmers do, so the answers do not change with it."""

from __future__ import annotations

import Stemmer
from snowballstemmer.english_stemmer import EnglishStemmer
from snowballstemmer.french_stemmer import FrenchStemmer

from knowledge import text
from knowledge.documents import load_documents


def test_the_knowledge_base_stems_with_the_c_build() -> None:
    assert isinstance(text._FR, Stemmer.Stemmer) and isinstance(text._EN, Stemmer.Stemmer)


def test_the_c_build_stems_every_word_of_the_fiches_as_the_python_one() -> None:
    vocabulary = {
        word
        for doc in load_documents()
        for section in doc.sections
        for word in text.words(f"{doc.title} {section.heading} {section.body}")
    }
    assert len(vocabulary) > 1000
    for python, c in ((FrenchStemmer(), text._FR), (EnglishStemmer(), text._EN)):
        differ = {
            w: (python.stemWord(w), c.stemWord(w)) for w in vocabulary if python.stemWord(w) != c.stemWord(w)
        }
        assert differ == {}
