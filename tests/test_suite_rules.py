"""Rules of the test suite itself, read from its source, and the support code's promises.

The suite runs in parallel (pytest-xdist) and must never hang CI: helpers live in
``tests/support/``, no test module imports another, the shared fixtures are defined
once, and a child process never writes into a pipe that nobody reads.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.processes import reap_all, start

TESTS = Path(__file__).resolve().parent
TEST_MODULES = sorted(TESTS.glob("test_*.py"))
SOURCES = sorted(TESTS.rglob("*.py"))
SHARED_FIXTURES = {"cli", "make_cli", "stub", "sandbox", "sandbox_factory"}


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def calls_to(path: Path, owner: str, names: tuple[str, ...]) -> list[ast.Call]:
    """Calls written ``owner.name(...)``, e.g. ``subprocess.Popen(...)``."""
    return [
        node
        for node in ast.walk(tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in names
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == owner
    ]


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(TESTS)}:{getattr(node, 'lineno', '?')}"


def test_no_test_module_imports_another_or_the_conftest() -> None:
    crossing = [
        f"{path.name} imports {name}"
        for path in SOURCES
        for name in imported_modules(path)
        if name.split(".")[0].startswith("test_") or name.split(".")[0] == "conftest"
    ]
    assert not crossing, f"move what is shared into tests/support/: {crossing}"


def test_helpers_live_in_the_support_package() -> None:
    loose = [
        path.name
        for path in TESTS.glob("*.py")
        if not path.name.startswith("test_") and path.name != "conftest.py"
    ]
    assert not loose, f"helper modules belong in tests/support/: {loose}"
    assert (TESTS / "support" / "__init__.py").exists()


def test_shared_fixtures_are_defined_once_in_the_conftest() -> None:
    redefined = [
        f"{path.name}: {node.name}"
        for path in TEST_MODULES
        for node in ast.walk(tree(path))
        if isinstance(node, ast.FunctionDef)
        and node.name in SHARED_FIXTURES
        and any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)
    ]
    assert not redefined, f"use the conftest's fixtures, or a new name: {redefined}"


def test_no_child_writes_into_a_pipe_nobody_reads() -> None:
    """``subprocess.Popen`` with a pipe is for support/processes.py; tests call ``start``."""
    piped = [
        where(path, call)
        for path in SOURCES
        if path.name != "processes.py"
        for call in calls_to(path, "subprocess", ("Popen",))
        if any(
            keyword.arg in ("stdout", "stderr") and "PIPE" in ast.unparse(keyword.value)
            for keyword in call.keywords
        )
    ]
    assert not piped, f"start the child with support.processes.start: {piped}"


def test_every_finished_child_is_waited_for_with_a_timeout() -> None:
    untimed = [
        where(path, call)
        for path in SOURCES
        for call in calls_to(path, "subprocess", ("run", "check_output", "call", "check_call"))
        if "timeout" not in {keyword.arg for keyword in call.keywords}
    ]
    assert not untimed, f"give these a timeout=: {untimed}"


def test_a_hung_test_fails_with_its_name(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.hasplugin("timeout"), "pytest-timeout is not installed"
    assert 0 < float(pytestconfig.getini("timeout")) <= 300


def test_a_child_writing_far_more_than_a_pipe_holds_is_not_blocked() -> None:
    chatty = "import sys\nfor _ in range(64): sys.stderr.write('x' * 16383 + '\\n')\nprint('done')"
    child = start([sys.executable, "-c", chatty], text=True)
    deadline = time.monotonic() + 30
    while child.poll() is None:  # nothing reads here: the drain threads must
        assert time.monotonic() < deadline, "the child blocked on a full pipe"
        time.sleep(0.01)
    out, err = child.communicate(timeout=10)
    assert child.returncode == 0 and out == "done\n"
    assert len(err) == 64 * 16384


def test_lines_arrive_while_the_child_runs_and_what_is_left_is_reaped() -> None:
    child = start([sys.executable, "-uc", "print('ready'); import time; time.sleep(60)"])
    assert next(child.lines(timeout=20)) == b"ready\n"
    assert child.poll() is None
    reap_all()
    assert child.poll() is not None


def test_each_test_has_its_own_home_and_none_of_the_shells_settings() -> None:
    assert not [name for name in os.environ if name.startswith("INGRAM_")]
    home = Path(os.environ["HOME"])
    assert home.is_dir() and not any(home.iterdir())
    shown = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ['HOME'])"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert shown.stdout.strip() == str(home)
