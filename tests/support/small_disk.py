"""A real disk that fills up: a small tmpfs mounted for one test, or, where mounting is not
allowed (not root), this process's file-size limit (``RLIMIT_FSIZE``) standing in for it.

Example::

    with small_disk(tmp_path, megabytes=8) as disk:
        db = disk.folder / "catalog.db"
        ...
        disk.fill(leave=100_000)   # writes now fail with ENOSPC (or EFBIG)
        disk.free()                # space is back
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

FILLER = ".filler"


class SmallDisk:
    """A folder on a disk this test may fill: ``fill`` and ``free`` make it full and not."""

    def __init__(self, folder: Path, mounted: bool) -> None:
        self.folder = folder
        self.mounted = mounted
        self.saved_limit = resource.getrlimit(resource.RLIMIT_FSIZE)

    def fill(self, leave: int = 0) -> None:
        """Leave about ``leave`` bytes that can still be written (0: none)."""
        if not self.mounted:
            # no file may grow past ``leave`` bytes more than the largest one has now
            largest = max(
                (p.stat().st_size for p in self.folder.rglob("*") if p.is_file()), default=0
            )
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
            resource.setrlimit(resource.RLIMIT_FSIZE, (max(largest, leave), self.saved_limit[1]))
            return
        filler = self.folder / FILLER
        with filler.open("ab") as handle:
            block = b"\0" * 65536
            try:
                while True:
                    handle.write(block)
                    handle.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
        if leave:
            size = filler.stat().st_size
            os.truncate(filler, max(0, size - leave))

    def free(self) -> None:
        if not self.mounted:
            resource.setrlimit(resource.RLIMIT_FSIZE, self.saved_limit)
            return
        (self.folder / FILLER).unlink(missing_ok=True)


def can_mount() -> bool:
    # FORCE_FSIZE=1 tries the stand-in where mounting would work
    return os.geteuid() == 0 and not os.environ.get("FORCE_FSIZE")


@contextlib.contextmanager
def small_disk(tmp_path: Path, megabytes: int = 8) -> Iterator[SmallDisk]:
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = False
    if can_mount():
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(folder)],
            capture_output=True,
            timeout=30,
        )
        mounted = done.returncode == 0
    disk = SmallDisk(folder, mounted)
    try:
        yield disk
    finally:
        disk.free()
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)
