"""The package layout is the architecture: each folder may import only what its rules allow.

The rules are read from the imports themselves (every ``import`` statement, in
functions and ``TYPE_CHECKING`` blocks too), so a new module that crosses a
line fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ingram

PACKAGE = Path(ingram.__file__).resolve().parent

# part -> module prefixes it must never import
FORBIDDEN = {
    "api": ("ingram.state", "ingram.output", "ingram.cli", "ingram.engine", "ingram.config"),
    "state": ("ingram.api", "ingram.output", "ingram.cli", "ingram.engine", "requests"),
    "output": ("ingram.api", "ingram.cli", "ingram.engine", "requests"),
    "config": ("ingram.api", "requests"),
}
SANDBOX_MAY_IMPORT = ("ingram.sandbox", "ingram.models", "ingram.errors")
WEBHOOK_MAY_IMPORT = ("ingram.webhook", "ingram.state", "ingram.models", "ingram.errors")
# what goes out reads the catalog (state, models), never the API client or the CLI
PUBLISH_MAY_IMPORT = ("ingram.publish", "ingram.state", "ingram.models", "ingram.errors")
SUBPACKAGES = ("api", "cli", "output", "sandbox", "state", "webhook")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """``ingram.api.client`` -> ``api``; top-level modules are their own part."""
    return module.split(".")[1] if module.count(".") else "ingram"


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved to absolute names."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
        "config",
        "discover",
        "engine",
        "errors",
        "files",
        "models",
    }, f"new top-level modules: {sorted(top)}; put each in its part's folder"
