"""What every benchmark shares: the sandbox subprocess, the CLI run and its costs, the table.

Each benchmark starts its own sandbox (``python -m ingram.sandbox --port 0``)
in another process, so the sync is measured as a user runs it: the real
``ingram-sync`` command (start-up included) talking HTTP to a peer that does
not share its CPU time or its GIL.

Example::

    with Sandbox(catalog_size=1000, latency=0.005) as sandbox:
        db = fresh_db(sandbox, 1000, workdir)
        timed = run_sync(sandbox.env(db), "--pa-rate", "300")
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BATCH = 50
# The CLI as a user runs it; `python -m ingram` is the same entry point as the console script.
CLI = (sys.executable, "-m", "ingram")


class Sandbox:
    """The fake Ingram API in its own process, with its control endpoints."""

    def __init__(self, **options: Any) -> None:
        self.args = [sys.executable, "-m", "ingram.sandbox", "--port", "0"]
        for name, value in options.items():
            flag = "--" + name.replace("_", "-")
            if value is True:
                self.args.append(flag)
            elif value is not None and value is not False:
                self.args += [flag, str(value)]
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Sandbox:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1].strip()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + "/_sandbox/" + path, data=data)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def stats(self) -> dict[str, Any]:
        return self.control("stats")

    def request_log(self) -> list[dict[str, Any]] | None:
        """What it served since the last reset, or None from a sandbox that cannot say."""
        try:
            return self.control("log")
        except urllib.error.HTTPError:
            return None  # an older checkout's sandbox, measured side by side

    def reset(self) -> None:
        self.control("reset", {})

    def part_numbers(self, count: int) -> list[str]:
        answer = self.control(f"catalog?limit={count}")
        items = answer if isinstance(answer, list) else answer.get("part_numbers", answer)
        return [item if isinstance(item, str) else item["ingramPartNumber"] for item in items]

    def env(self, db: Path) -> dict[str, str]:
        """The environment of one CLI run against this sandbox and database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGRAM_")}
        env.update(
            INGRAM_API_URL=self.url,
            INGRAM_CLIENT_ID="sandbox-client",
            INGRAM_CLIENT_SECRET="sandbox-secret",
            INGRAM_CUSTOMER_NUMBER="20-222222",
            INGRAM_SYNC_DB=str(db),
            HOME=str(db.parent),
        )
        return env


@dataclass(frozen=True)
class Timed:
    """One finished CLI run: exit code, wall and CPU seconds, peak RSS in MB, output."""

    code: int
    wall: float
    cpu: float
    peak_rss_mb: float
    stderr: str
    written: int  # bytes the process handed to write() and pwrite(): its wchar, at exit


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None, command: Sequence[str] = CLI
) -> Timed:
    """Run ``ingram-sync ARGS`` and measure it alone: ``wait4`` gives that child's own rusage."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, *args],
            env=env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        if stdin is not None:
            assert process.stdin is not None
            process.stdin.write(stdin)
            process.stdin.close()
        written = bytes_written_at_exit(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read()
    cpu = usage.ru_utime + usage.ru_stime
    return Timed(process.returncode, wall, cpu, usage.ru_maxrss / 1024, text, written)


def bytes_written_at_exit(pid: int) -> int:
    """The child's ``wchar`` once it has exited, read before it is reaped.

    Read at exit, not by the child itself: SQLite writes the last checkpoint when
    the connection closes, which can come after the child's own ``atexit``.
    """
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # a zombie keeps its /proc entry
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError(f"no wchar in /proc/{pid}/io")


def run_sync(env: dict[str, str], *args: str) -> Timed:
    """``ingram-sync -q sync ARGS``; a failed run stops the benchmark (its numbers would lie)."""
    timed = run_cli(env, "-q", "sync", *args)
    if timed.code != 0:
        raise RuntimeError(f"sync exited {timed.code}: {timed.stderr[-2000:]}")
    return timed


def fresh_db(sandbox: Sandbox, count: int, folder: Path, name: str = "bench") -> Path:
    """A new database tracking the sandbox's first ``count`` part numbers (not timed)."""
    db = folder / f"{name}-{count}-{time.monotonic_ns()}.db"
    stdin = "\n".join(["ingramPartNumber", *sandbox.part_numbers(count)]) + "\n"
    timed = run_cli(sandbox.env(db), "-q", "products", "import", "-", stdin=stdin)
    if timed.code != 0:
        raise RuntimeError(f"products import exited {timed.code}: {timed.stderr[-2000:]}")
    return db


@contextmanager
def workdir() -> Iterator[Path]:
    """A scratch folder, with the package's bytecode compiled first.

    ``pip install`` compiles the package; an editable checkout under
    PYTHONDONTWRITEBYTECODE would recompile every module at each CLI start
    and charge ~0.2 s to every measured run that a user never pays.
    """
    import ingram

    compileall.compile_dir(Path(ingram.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="ingram-bench-") as folder:
        yield Path(folder)


# ---------------------------------------------------------------- floors


def pa_floor(products: int, pa_rate: float, batch: int = BATCH) -> float:
    """Seconds the P&A stream needs at ``pa_rate`` calls a minute: ⌈N/50⌉·60/R."""
    return math.ceil(products / batch) * 60.0 / pa_rate


def full_floor(
    products: int, pa_rate: float, details_interval: float, latency: float, batch: int = BATCH
) -> float:
    """max(⌈N/50⌉·60/R, N·d) plus one call's latency: details run behind P&A, not after it."""
    return max(pa_floor(products, pa_rate, batch), products * details_interval) + latency


@dataclass(frozen=True)
class Streams:
    """A run's streams as the sandbox saw them (its request log; None where it has none)."""

    details_start: float | None  # seconds from the first P&A answer to the first details answer
    pa_spacing: float | None  # the P&A calls' mean spacing over the configured one, less 1
    details_spacing: float | None  # the same for details calls


def streams(box: Sandbox, pa_interval: float, details_interval: float) -> Streams:
    """How the last run's streams went, from the sandbox's log (reset it before the run)."""
    log = box.request_log()
    if log is None:
        return Streams(None, None, None)
    times = {
        endpoint: sorted(e["time"] for e in log if e["endpoint"] == endpoint)
        for endpoint in ("price_and_availability", "details")
    }
    pa, details = times["price_and_availability"], times["details"]
    start = details[0] - pa[0] if pa and details else None
    return Streams(start, spacing(pa, pa_interval), spacing(details, details_interval))


def spacing(times: Sequence[float], interval: float) -> float | None:
    """Mean gap between ``times`` over ``interval``, less 1 (0.02: 2 % slower than asked)."""
    if len(times) < 2 or interval <= 0:
        return None
    return (times[-1] - times[0]) / (len(times) - 1) / interval - 1


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


# ---------------------------------------------------------------- options and output


def parser(description: str, sizes: Sequence[int]) -> argparse.ArgumentParser:
    """Options every benchmark takes: sizes, repeats and the compressed vendor limits."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--sizes", type=int, nargs="+", default=list(sizes), help="product counts")
    p.add_argument("--repeat", type=int, default=1, help="runs per figure (the median is shown)")
    p.add_argument("--pa-rate", type=float, default=300.0, help="P&A calls a minute")
    p.add_argument("--details-interval", type=float, default=0.02, help="seconds between details")
    p.add_argument("--latency", type=float, default=0.005, help="sandbox seconds per answer")
    return p


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def median_of(values: Sequence[float | None]) -> float | None:
    """The median of the values known, None when none is."""
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def print_settings(title: str, settings: dict[str, Any]) -> None:
    print(title)
    print("  machine: " + machine())
    for name, value in settings.items():
        print(f"  {name}: {value}")
    print()


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A Markdown table (pastes into the docs as it is)."""
    cells = [[str(h) for h in headers]] + [[fmt(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    print("\n".join(lines))
    print()
    sys.stdout.flush()


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
