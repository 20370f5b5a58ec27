"""Output paths: export never replaces what is not a regular file; broken streams give one line."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env


@pytest.fixture
def catalog(make_cli) -> Cli:
    cli = make_cli("http://127.0.0.1:9", "c.db")
    assert cli.run("products", "add", "6YE881", "4A0036").code == 0
    return cli


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device"])
def test_export_never_replaces_a_symlink_fifo_or_device(catalog, tmp_path, kind):
    target = tmp_path / "out.csv"
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n")
    if kind == "symlink":
        target.symlink_to(precious)
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target = tmp_path / "null"
        target.symlink_to("/dev/null")
    result = catalog.run("export", "-o", str(target), timeout=20)
    assert result.code == 2, result
    assert "not a regular file" in result.err and result.err.count("\n") == 1, result
    assert precious.read_text() == "keep me\n"
    assert target.is_symlink() or target.is_fifo()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")], "temporary file left"


def test_export_dash_means_stdout(catalog):
    result = catalog.run("export", "-o", "-")
    assert result.code == 0, result
    assert result.out.splitlines()[1].startswith("4A0036,")


@pytest.mark.slow
def test_sigterm_during_export_leaves_no_temporary_file(tmp_path):
    db = tmp_path / "c.db"
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cli = Cli(cli_env("http://127.0.0.1:9", db), db)
    many = "\n".join(f"P{n:07d}" for n in range(300_000))
    assert cli.run("products", "import", "-", stdin=many).code == 0
    exporter = cli.start("export", "--format", "json", "-o", str(out_dir / "all.json"))
    deadline = time.monotonic() + 30
    while not os.listdir(out_dir):  # the temporary file is being written
        assert time.monotonic() < deadline and exporter.poll() is None, exporter.communicate()
        time.sleep(0.002)
    exporter.send_signal(signal.SIGTERM)
    out, err = exporter.communicate(timeout=30)
    assert exporter.returncode == 130, err
    assert "Traceback" not in err
    assert os.listdir(out_dir) == []


def test_stdout_on_a_full_disk_gives_one_line(catalog):
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            catalog.command("export"),
            env=catalog.env,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.decode() == "Error: cannot write the output: No space left on device\n"


def test_a_closed_stderr_still_runs_the_command(catalog):
    done = subprocess.run(
        catalog.command("products", "add", "ZZ1"),
        env=catalog.env,
        stdout=subprocess.PIPE,
        preexec_fn=lambda: os.close(2),
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout == "added 1, already tracked 0\n"


def test_a_log_file_that_cannot_be_written_is_one_warning(sandbox, tmp_path):
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(20)).code == 0
    result = cli.run("-v", "--log-file", "/dev/full", "sync", *FAST_TIMINGS)
    assert result.code == 0, result
    assert result.err.count("cannot write log file /dev/full") == 1
    assert "Traceback" not in result.err and "Logging error" not in result.err
