"""The demo syncs its own database and never touches a real catalog."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import pytest
from support.clirunner import Cli, cli_env


def run_in(folder, env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingram", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_demo_refuses_a_real_catalog_and_leaves_it_untouched(tmp_path):
    prod = tmp_path / "prod.db"
    cli = Cli(cli_env("http://127.0.0.1:9", prod), prod)
    assert cli.run("products", "add", "6YE881", "4A0036").code == 0
    before = hashlib.sha256(prod.read_bytes()).hexdigest()
    refused = run_in(tmp_path, cli.env, "--db", str(prod), "demo", "--products", "20")
    assert refused.returncode == 2, refused
    assert "not a demo database" in refused.stderr and refused.stderr.count("\n") == 1
    # INGRAM_SYNC_DB names prod.db too (cli.env): the demo still uses its own file.
    demo = run_in(tmp_path, cli.env, "demo", "--products", "20")
    assert demo.returncode == 0, demo.stderr
    assert hashlib.sha256(prod.read_bytes()).hexdigest() == before
    assert (tmp_path / "ingram_sync_demo.db").exists()


@pytest.mark.slow
def test_the_demo_reruns_on_its_own_database_and_on_a_new_one(tmp_path):
    env = cli_env("http://127.0.0.1:9", tmp_path / "unused.db")
    for _ in range(2):
        done = run_in(tmp_path, env, "demo", "--products", "20")
        assert done.returncode == 0, done.stderr
        done = run_in(tmp_path, env, "--db", "mine.db", "demo", "--products", "20")
        assert done.returncode == 0, done.stderr
    # the demo loads the sandbox's price file and tracks one vendor's products from it
    tracked = int(re.search(r"tracking the (\d+) active products", done.stderr)[1])
    listed = run_in(tmp_path, env, "--db", "mine.db", "products", "list")
    assert 0 < tracked < 20
    assert len(listed.stdout.splitlines()) == 1 + tracked  # the header, then the demo products


def test_the_demo_is_quiet_with_q(tmp_path):
    env = cli_env("http://127.0.0.1:9", tmp_path / "unused.db")
    done = run_in(tmp_path, env, "-q", "demo", "--products", "20")
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")  # both syncs and the webhook step included
