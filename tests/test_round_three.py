"""Smaller holes of reliability round three: a config nested too deep, an empty profile name,
failures counted that were never kept, and commands whose memory grew with the catalog."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.clirunner import FAST_TIMINGS, Cli, cli_env
from support.webhook_support import query, wait_for

from ingram.state.products import add_products
from ingram.state.store import Store


def test_a_config_file_nested_2000_deep_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "deep.toml"
    config.write_text("x = " + "[" * 2000 + "1" + "]" * 2000 + "\n")
    db = tmp_path / "c.db"
    result = Cli(cli_env("http://127.0.0.1:9", db), db).run("--config", str(config), "runs")
    assert result.code == 2, result
    assert "too deep" in result.err and result.err.count("\n") == 1, result
    assert "Traceback" not in result.err


def test_an_empty_profile_name_is_a_usage_error_not_the_shared_database(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    cli = Cli(cli_env("http://127.0.0.1:9", db), db, cwd=tmp_path)
    result = cli.run("--profile", "", "products", "add", "6YE881")
    assert result.code == 2, result
    assert "--profile" in result.err and result.err.count("\n") == 1, result
    assert not db.exists()  # the shared catalog was not touched


@pytest.mark.slow
def test_failures_removed_with_their_products_mid_run_are_not_counted(
    sandbox_factory, tmp_path: Path
) -> None:
    """The run said "50 items failed" and exited 1 while `failed` listed nothing."""
    sandbox = sandbox_factory(catalog_size=250, latency=0.2)
    pns = sandbox.catalog.part_numbers(250)
    # The first batch answers 500 and is retried item by item, last, in its order: the
    # first three fail, then 47 single calls (about 10 s) go on while they are removed.
    sandbox.reconfigure(failing_part_numbers=pns[:3])
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    add_products(Store.open(db), pns)
    sync = cli.start(
        "sync", *FAST_TIMINGS, "--pa-retry-waits", "", "--max-concurrent", "1", "--no-details"
    )
    failed = "SELECT COUNT(*) FROM failures"
    wait_for(lambda: query(db, failed)[0][0] == 3, timeout=30, what="3 failures")
    assert cli.run("products", "remove", *pns[:3]).code == 0
    assert sync.poll() is None  # the run went on after the removal
    out, err = sync.communicate(timeout=60)
    assert sync.returncode == 0, (out, err)
    assert "items failed" not in err, err
    assert cli.run("failed", "--json").out.strip() in ("[]", "")
    run = query(db, "SELECT status, failures FROM runs")[0]
    assert tuple(run) == ("completed", 0)


# VmHWM, not getrusage's ru_maxrss: Linux keeps the latter across exec, so a child started
# from a large pytest process would report the parent's size.
PEAK_PROBE = """
import runpy, sys
sys.argv = ["ingram-sync", *sys.argv[1:]]
try:
    runpy.run_module("ingram", run_name="__main__")
finally:
    peak = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
    sys.stderr.write("PEAK %s\\n" % peak[0].split()[1])
"""


def peak_kb(db: Path, *args: str) -> int:
    """The command's peak resident memory (KB), its output thrown away."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE, "--db", str(db), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stderr.rsplit("PEAK ", 1)[1].split()[0])


@pytest.mark.slow
def test_products_list_streams_its_rows(tmp_path: Path) -> None:
    """It held every row: 51 MB at 10,000 products, 2.6 GB at 1,000,000."""
    small, large = tmp_path / "small.db", tmp_path / "large.db"
    add_products(Store.open(small), [f"P{n:07d}" for n in range(1_000)])
    add_products(Store.open(large), [f"P{n:07d}" for n in range(30_000)])
    for output in ([], ["--json"], ["--jsonl"]):
        listing = ("products", "list", *output)
        grown = peak_kb(large, *listing) - peak_kb(small, *listing)
        assert grown < 15_000, f"{output}: {grown} KB more for 29,000 more products"  # held: 150 MB


@pytest.mark.slow
def test_products_import_dedupes_in_sqlite_not_in_memory(tmp_path: Path) -> None:
    """It grew 0.33 KB a line: 361 MB for 1,000,000 lines."""
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small.write_text("ingramPartNumber\n" + "".join(f"P{n:07d}\n" for n in range(1_000)))
    # every part number twice: the second half repeats the first
    lines = [f"P{n:07d}\n" for n in range(100_000)]
    large.write_text("ingramPartNumber\n" + "".join(lines + lines))
    small_peak = peak_kb(tmp_path / "s.db", "products", "import", str(small))
    large_peak = peak_kb(tmp_path / "l.db", "products", "import", str(large))
    # held in a dict: about 67 MB; now about 22 MB (the part numbers read, not yet deduplicated)
    assert large_peak - small_peak < 40_000, f"{large_peak - small_peak} KB for 200,000 lines"
    store = Store.open(tmp_path / "l.db", readonly=True)
    assert store.db.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 100_000
    store.close()


@pytest.mark.slow
def test_a_finished_runs_tasks_are_dropped_and_its_figures_kept(sandbox_factory, tmp_path: Path):
    """Each routine run left its task rows behind: 156 KB a run at 10,000 products."""
    sandbox = sandbox_factory(catalog_size=200)
    db = tmp_path / "c.db"
    cli = Cli(cli_env(sandbox.url, db), db)
    assert cli.run("products", "add", *sandbox.catalog.part_numbers(200)).code == 0
    for _ in range(2):
        assert cli.sync("--batch-size", "20").code == 0
    assert query(db, "SELECT COUNT(*) FROM tasks")[0][0] == 0
    shown = cli.run("runs", "show", "1")
    assert shown.code == 0, shown
    assert "10 tasks,     200 items, 0 failed, 0 pending" in shown.out, shown.out
