"""The long-running process hands back what a question freed."""

from __future__ import annotations

import platform
import sys

import pytest

from bot.memory import release_freed_memory


@pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's"
)
def test_freed_memory_is_released_where_glibc_runs() -> None:
    garbage = [bytes(2048) for _ in range(5000)]  # 10 MB of the allocator's own blocks, then freed
    del garbage
    assert release_freed_memory() is True
    assert release_freed_memory() is True  # and again: nothing left to release is not an error
