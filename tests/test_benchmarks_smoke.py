"""Each benchmark runs end to end at tiny sizes, so the scripts cannot rot unnoticed.

The numbers are not checked here (the machine is shared and the sizes are too
small to mean anything); only that every script starts its sandbox, runs the
CLI and prints its settings and table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
FAST = ("--pa-rate", "6000", "--details-interval", "0.002", "--latency", "0.001")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("floor.py", ("--sizes", "60", *FAST)),
        ("versus_sequential.py", ("--sizes", "60", *FAST)),
        ("latency.py", ("--sizes", "40", "--pa-rate", "6000", "--details-interval", "0.004")),
        ("overhead.py", ("--sizes", "100", "200")),
        ("webhook_intake.py", ("--sizes", "100", "--rate", "20", "--seconds", "0.5")),
        ("details_source.py", ("--sizes", "60", *FAST)),
        ("vendor_window.py", ("--calls", "6", "--limit", "5", "--window", "0.2")),
        ("startup.py", ("--repeat", "2")),
        ("write_volume.py", ("--sizes", "60", "--resyncs", "1", "--latency", "0.001")),
        ("export_targets.py", ("--sizes", "60", "--repeat", "1")),
        ("pricefile_load.py", ("--sizes", "2000", "--tracked", "10")),
        ("mirror.py", ("--sizes", "60")),
        (
            "database_year.py",
            ("--products", "60", "--days", "1", "--runs-per-day", "2", "--events-per-day", "2"),
        ),
        ("webhook_slow_clients.py", ("--slow", "5", "--every", "0.2", "--seconds", "1")),
        ("two_streams.py", ("--sizes", "40", "--batches", "4", "--repeat", "1", *FAST)),
        ("cpu_per_product.py", ("--sizes", "30", "60", "--repeat", "1")),
        ("cpu_per_product.py", ("--sizes", "5", "10", "--repeat", "1", "--instructions")),
    ],
)
def test_benchmark_runs(script: str, args: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=300,  # under callgrind, on a loaded machine, the slowest takes two minutes
    )
    assert done.returncode == 0, done.stderr
    assert "machine:" in done.stdout
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(table) >= 3, done.stdout  # header, rule, at least one row
