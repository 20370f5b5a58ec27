"""Another user of this machine, for real: a system account that runs ``ingram-sync`` with its
own uid, so file permissions are the kernel's, not the test's.

The tests run as root (CI does). The account is made once per machine with ``useradd``
(under a file lock: xdist workers start together). It cannot read root's home, where the
test venv's interpreter may live, nor pytest's 0700 temporary folders, so it runs the
system's ``python3`` on a copy of the package and its dependencies in a folder of its own
(``OtherUser.runtime``), and its databases live in world-traversable folders under /tmp.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

NAME = "ingram-reader"
# What ``ingram-sync`` imports: the package and every dependency of its base install.
MODULES = (
    "ingram",
    "click",
    "tqdm",
    "requests",
    "urllib3",
    "idna",
    "charset_normalizer",
    "certifi",
    "tenacity",
    "ratelimit",
    "waitress",
)


@dataclass(frozen=True)
class OtherUser:
    name: str
    uid: int
    gid: int
    python: str
    runtime: Path  # the copied packages, readable by everyone

    def command(self, *args: str) -> list[str]:
        ids = ["--reuid", str(self.uid), "--regid", str(self.gid), "--clear-groups"]
        return ["setpriv", *ids, "--", self.python, "-m", "ingram", *args]

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        base = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home)}
        return base | {"PYTHONPATH": str(self.runtime), "PYTHONDONTWRITEBYTECODE": "1"} | extra

    def run(self, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), env=self.env(home, **env), capture_output=True, text=True,
            timeout=60, cwd="/",
        )  # fmt: skip


def ensure_account() -> tuple[int, int]:
    """The account's uid and gid, creating it the first time (once, whoever asks first)."""
    with open("/tmp/ingram-sync-tests-useradd.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            entry = pwd.getpwnam(NAME)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            entry = pwd.getpwnam(NAME)
    return entry.pw_uid, entry.pw_gid


def open_folder(prefix: str) -> Path:
    """A new folder under /tmp that every user can enter and read (not write)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def copy_runtime(target: Path) -> None:
    """The package and its dependencies, copied where the other user can read them."""
    for name in MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, f"{name} is not installed"
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, target / name, ignore=shutil.ignore_patterns("*.pyc"))
        else:
            shutil.copy2(origin, target / origin.name)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def runnable_python(uid: int, gid: int) -> str:
    """An interpreter the other user may execute: this one if it can, else the system's."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        ids = ["--reuid", str(uid), "--regid", str(gid), "--clear-groups"]
        done = subprocess.run(
            ["setpriv", *ids, "--", candidate, "-c", "import sqlite3"],
            capture_output=True, timeout=60, cwd="/",
        )  # fmt: skip
        if done.returncode == 0:
            return candidate
    raise AssertionError(
        "no Python interpreter the other user may run (tried this one and python3)"
    )


def make_other_user() -> tuple[OtherUser, Path]:
    """The account and a runtime for it; the runtime's folder is the caller's to remove."""
    assert os.geteuid() == 0, "these tests play another user: run them as root (CI does)"
    uid, gid = ensure_account()
    folder = open_folder("ingram-sync-runtime-")
    copy_runtime(folder)
    return OtherUser(NAME, uid, gid, runnable_python(uid, gid), folder), folder
