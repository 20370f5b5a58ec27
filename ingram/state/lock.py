"""One sync at a time per database: an ``fcntl.flock`` on a file beside it.

The kernel frees a flock when its process dies, so a killed sync never leaves
a stale lock behind. The holder writes its pid into the file so a refused
second sync can say who holds it.

The lock is keyed to the database's resolved path (a symlinked path to the
same file meets the same lock), and the lock file is opened without following
symlinks: a symlink planted at the lock path is refused, never truncated. A
lock file deleted under a running sync cannot let a second one in unnoticed
either: the run's row names its live pid, and ``process_alive`` says so.
"""

from __future__ import annotations

import fcntl
import os
import socket
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from ingram.errors import LockedError, StoreError

CLOCK_SLACK = 2.0  # seconds: a process that started this much after its run's start is another


def lock_path(db_path: Path, suffix: str = ".lock") -> Path:
    """The lock file of the database at ``db_path``, beside its resolved path."""
    resolved = db_path.resolve()
    return resolved.with_name(resolved.name + suffix)


def locked_error(holder: int | None) -> LockedError:
    who = f"pid {holder}" if holder else "another process"
    return LockedError(
        f"another sync ({who}) is using this database; wait for it to finish"
        " or stop it, then try again",
        holder_pid=holder,
    )


class SyncLock:
    """Example: ``with SyncLock(Path("catalog.db")): ...`` raises LockedError when held.

    Another ``suffix`` is another lock of the same database (``catalog load`` has one),
    refused with the error ``refused`` makes of the holder's pid.
    """

    def __init__(
        self,
        db_path: Path,
        suffix: str = ".lock",
        refused: Callable[[int | None], LockedError] = locked_error,
    ) -> None:
        self.path = lock_path(db_path, suffix)
        self.refused = refused
        self.fd: int | None = None

    def __enter__(self) -> SyncLock:
        fd = open_lock_file(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_pid(fd)
            os.close(fd)
            raise self.refused(holder) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def open_lock_file(path: Path) -> int:
    """The lock file, opened without following a symlink; it must be a regular file."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as error:
        if path.is_symlink():
            raise StoreError(
                f"lock file {path} is a symlink; it was left untouched: remove it and try again"
            ) from None
        raise StoreError(f"cannot create lock file {path}: {error.strerror}") from error
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"lock file {path} is not a regular file: remove it and try again")
    return fd


def read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def process_alive(
    pid: int | None, host: str | None, started_at: datetime | None = None
) -> bool | None:
    """Whether the process that started a run at ``started_at`` still runs.

    None when that cannot be known (another host). A pid reused by a process
    that started after the run did is not the run's process: False.
    """
    if not pid or host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    begun = process_start_time(pid)
    if started_at is not None and begun is not None:
        return begun <= started_at.timestamp() + CLOCK_SLACK
    return True


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started, in Unix time (Linux ``/proc``); None where that cannot be read."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError):
        return None
    # Field 22 (start time in clock ticks since boot) follows the command name in parentheses.
    ticks = float(stat_line.rsplit(")", 1)[1].split()[19])
    return boot + ticks / os.sysconf("SC_CLK_TCK")
