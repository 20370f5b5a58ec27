"""Headless Chromium for the tests that look at pages as a person would: Debian's package,
installed once per machine when missing (under a file lock: xdist workers start together),
started with the flags this machine needs and no way to reach any host but loopback."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from pathlib import Path

# As the machine notes say: no sandbox as root, no GPU, no background connections (they are
# refused here, many at a time). Every name but loopback resolves to nothing: a page that
# needed a CDN would show it.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)  # fmt: skip


def installed_chromium() -> str:
    """The path of Chromium, apt-installing Debian's ``chromium`` the first time (the
    conftest's session fixture ``chromium`` calls this once per worker)."""
    with open("/tmp/ingram-sync-tests-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = shutil.which("chromium")
        if found is None:
            for step in (
                ["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "chromium"],
            ):
                subprocess.run(step, check=True, capture_output=True, timeout=900)
            found = shutil.which("chromium")
    assert found, "chromium did not install"
    return found


def run_chromium(chromium: str, url: str, *args: str, budget_ms: int = 15000) -> str:
    """Load ``url`` in a fresh headless Chromium, let its scripts run, and return stdout."""
    with tempfile.TemporaryDirectory(prefix="ingram-sync-chromium-") as profile:
        done = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1100",
             f"--virtual-time-budget={budget_ms}", *args, url],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def page_dom(chromium: str, url: str) -> str:
    """The page's DOM once its scripts have run (charts drawn)."""
    return run_chromium(chromium, url, "--dump-dom")


def screenshot(chromium: str, url: str, target: Path) -> None:
    run_chromium(chromium, url, f"--screenshot={target}")
    assert target.exists() and target.stat().st_size > 10_000
