"""The package layout is the architecture: each folder may import only what its rules allow.

The rules are read from the imports themselves (every ``import`` statement, in
functions and ``TYPE_CHECKING`` blocks too), so a new module that crosses a
line fails here, not in review. No module imports its way back to itself (no
circles, ``TYPE_CHECKING`` imports aside), and none grows past 500 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ingram

PACKAGE = Path(ingram.__file__).resolve().parent

MAX_LINES = 500
# The words, clock, policy, redaction and plain data every part shares: each imports
# nothing of ours but the others (and the package's version).
SHARED = (
    "ingram.models",
    "ingram.errors",
    "ingram.vocab",
    "ingram.clock",
    "ingram.policy",
    "ingram.redact",
)
ABOVE_STATE = ("ingram.api", "ingram.output", "ingram.cli", "ingram.sync", "ingram.config")
# part -> module prefixes it must never import
FORBIDDEN = {
    "api": ("ingram.state", "ingram.output", "ingram.cli", "ingram.sync", "ingram.config"),
    "state": (*ABOVE_STATE, "ingram.publish", "ingram.pricefile", "requests"),
    "output": ("ingram.api", "ingram.cli", "ingram.sync", "requests"),
    "config": ("ingram.api", "ingram.sync", "requests"),
    "sync": ("ingram.cli", "ingram.output", "ingram.publish", "ingram.pricefile"),
    # what goes out reads state/ and models, never the client or the CLI; settings are
    # passed in, never read here
    "publish": (
        "ingram.api",
        "ingram.cli",
        "ingram.sync",
        "ingram.config",
        "ingram.discover",
        "ingram.webhook",
        "ingram.sandbox",
    ),
    # the price file reads state and models; the client, the output and the CLI stay out
    "pricefile": (
        "ingram.api",
        "ingram.output",
        "ingram.cli",
        "ingram.sync",
        "ingram.config",
        "ingram.sandbox",
        "ingram.webhook",
        "requests",
    ),
    # browse describes the catalog to Datasette: state and models, never the client or the CLI
    "browse": ("ingram.api", "ingram.cli", "ingram.sync", "ingram.output", "requests", "click"),
}
SANDBOX_MAY_IMPORT = ("ingram.sandbox", "ingram.models", "ingram.errors")
WEBHOOK_MAY_IMPORT = (
    "ingram.webhook",
    "ingram.state",
    "ingram.models",
    "ingram.errors",
    "ingram.clock",
    "ingram.vocab",
)
# what goes out reads the catalog (state, models), never the API client or the CLI; the
# shop files are written as every export is (output.exports)
PUBLISH_MAY_IMPORT = (
    "ingram.publish",
    "ingram.state",
    "ingram.output.exports",
    *SHARED,
)
SUBPACKAGES = (
    "api",
    "browse",
    "cli",
    "output",
    "pricefile",
    "publish",
    "sandbox",
    "state",
    "sync",
    "webhook",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """``ingram.api.client`` -> ``api``; top-level modules are their own part."""
    return module.split(".")[1] if module.count(".") else "ingram"


def imports_of(path: Path, *, at_run_time: bool = False) -> set[str]:
    """Every module ``path`` imports, relative imports resolved to absolute names.

    ``at_run_time``: leave out what ``if TYPE_CHECKING:`` blocks import (for types only).
    """
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if at_run_time and id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def crosses(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_keeps_its_part_rules(path: Path) -> None:
    module = module_name(path)
    part = part_of(module)
    imported = imports_of(path)
    broken = []
    if part not in ("cli", "__main__"):  # ``python -m ingram`` is an entry point of the CLI
        broken += [name for name in imported if crosses(name, ("click", "ingram.cli"))]
    if part == "sandbox":
        broken += [
            name
            for name in imported
            if crosses(name, ("ingram", "requests")) and not crosses(name, SANDBOX_MAY_IMPORT)
        ]
    if part == "webhook":
        broken += [
            name
            for name in imported
            if crosses(name, ("ingram", "requests")) and not crosses(name, WEBHOOK_MAY_IMPORT)
        ]
    if part == "publish":
        broken += [
            name
            for name in imported
            if crosses(name, ("ingram",)) and not crosses(name, PUBLISH_MAY_IMPORT)
        ]
    broken += [name for name in imported if crosses(name, FORBIDDEN.get(part, ()))]
    assert not broken, f"{module} ({part}) imports what its part may not: {sorted(set(broken))}"


@pytest.mark.parametrize("module", SHARED)
def test_shared_modules_import_only_each_other(module: str) -> None:
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    ours = {name for name in imports_of(path) if crosses(name, ("ingram",))}
    beyond = {n for n in ours if n not in ("ingram", "ingram.__version__")} - {
        n for n in ours if crosses(n, SHARED)
    }
    assert not beyond, f"{module} is shared by every part: it may not import {sorted(beyond)}"


def test_rules_see_relative_and_nested_imports() -> None:
    """The scanner itself: a relative import two levels up and one inside a function count."""
    sample = PACKAGE / "sandbox" / "handler.py"
    assert "ingram.sandbox.api" in imports_of(sample)
    nested = PACKAGE / "cli" / "app.py"  # imports ingram.cli.reports inside a function
    assert "ingram.cli.reports" in imports_of(nested)


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_part_says_what_lives_there(name: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
    assert doc and "import" in doc, f"ingram/{name}/__init__.py must say what it may import"


def test_no_module_left_at_the_top_that_belongs_in_a_part() -> None:
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert top <= {
        "__init__",
        "__main__",
        "clock",
        "config",
        "discover",
        "errors",
        "inputs",
        "models",
        "policy",
        "redact",
        "vocab",
    }, f"new top-level modules: {sorted(top)}; put each in its part's folder"


MODULE_NAMES = {module_name(path): path for path in MODULES}


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports at run time (a name imported from a
    module counts as that module, unless the name is a module itself)."""
    graph = {}
    for module, path in MODULE_NAMES.items():
        targets = {name for name in imports_of(path, at_run_time=True) if name in MODULE_NAMES}
        # ``from ingram.sync.options import X`` needs ingram.sync.options, not the package's
        # __init__ too: drop a package when one of its modules is the one imported.
        packages = {name.rpartition(".")[0] for name in targets}
        graph[module] = {name for name in targets if name not in packages} - {module}
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (as the list of modules round it), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        path: list[str] = []
        on_path: set[str] = set()
        todo = [(start, iter(sorted(graph[start])))]
        path.append(start)
        on_path.add(start)
        while todo:
            node, children = todo[-1]
            child = next(children, None)
            if child is None:
                todo.pop()
                on_path.discard(path.pop())
                done.add(node)
            elif child in on_path:
                return path[path.index(child) :] + [child]
            elif child not in done:
                path.append(child)
                on_path.add(child)
                todo.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_no_import_circles() -> None:
    circle = find_circle(import_graph())
    assert circle is None, f"an import circle: {' -> '.join(circle or [])}"


def test_the_circle_finder_finds_one() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_circle(graph) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines: split it"
