"""A tiny file system that fails on demand: fill it up, make it read-only, give the space back.

:class:`TinyFS` mounts a small tmpfs on a folder (root with ``CAP_SYS_ADMIN``, as in CI
containers and on our machines); where mounting is refused it skips the test and says why.
Read-only without mounting: :func:`read_only_folder` uses ``chmod`` for an ordinary user and
falls back to a read-only tmpfs for root (who ignores permissions)::

    with TinyFS(tmp_path / "fs") as fs:
        ...                          # a store in fs.path
        fs.fill()                    # the disk is full
        fs.free()                    # space again
        fs.read_only(); fs.writable()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

__all__ = ["TinyFS", "read_only_folder"]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30)


class TinyFS:
    """A tmpfs of ``size`` mounted on ``path`` for the duration of a ``with`` block."""

    def __init__(self, path: Path, size: str = "4m") -> None:
        self.path, self.size = path, size
        self._filler = path / ".filler"

    def __enter__(self) -> TinyFS:
        self.path.mkdir(parents=True, exist_ok=True)
        if shutil.which("mount") is None:
            pytest.skip("no mount command here: a tiny file system cannot be made")
        done = _run("mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0755", "tmpfs", str(self.path))
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not permitted'})")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _run("umount", "-l", str(self.path))

    def fill(self) -> None:
        """Take every free byte (the next write that needs space fails with ENOSPC)."""
        with open(self._filler, "ab", buffering=0) as out:
            for chunk in (65536, 512):
                with contextlib.suppress(OSError):
                    while out.write(b"\0" * chunk):
                        pass

    def free(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._filler.unlink()

    def read_only(self) -> None:
        done = _run("mount", "-o", "remount,ro", str(self.path))
        assert done.returncode == 0, done.stderr

    def writable(self) -> None:
        done = _run("mount", "-o", "remount,rw", str(self.path))
        assert done.returncode == 0, done.stderr


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """``path``'s files, in a folder nobody here can write: ``chmod`` for an ordinary user, a
    read-only tmpfs for root (who ignores permissions). Yields the read-only folder."""
    if os.geteuid() != 0:
        os.chmod(path, 0o555)
        try:
            yield path
        finally:
            os.chmod(path, 0o755)
        return
    with TinyFS(path.with_name(path.name + "-ro"), size="16m") as fs:
        for item in path.iterdir():
            shutil.copy2(item, fs.path / item.name)
        fs.read_only()
        yield fs.path
