"""The parts of the docs made from the code: the command reference and the error policy.

``python -m ingram.cli.docs`` rewrites, in docs/commands.md, the part between
``<!-- commands:start -->`` and ``<!-- commands:end -->`` (each command's
``--help``), and in docs/real-api.md the part between ``<!-- policy:start -->``
and ``<!-- policy:end -->`` (``ingram.policy``: what each answer of the API
does). ``--check`` only says whether they are up to date (exit 1 when not),
which a test relies on. Given a path, it rewrites whichever of the two parts
that page holds.

Example::

    python -m ingram.cli.docs            # rewrite both pages
    python -m ingram.cli.docs --check    # exit 1 if either is out of date
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

from ingram.policy import policy_rows

START = "<!-- commands:start -->"
END = "<!-- commands:end -->"
WIDTH = 88
DOCS = Path(__file__).resolve().parents[2] / "docs"
COMMANDS_PAGE = DOCS / "commands.md"
POLICY_PAGE = DOCS / "real-api.md"


def walk(
    command: click.Command, ctx: click.Context
) -> Iterator[tuple[click.Command, click.Context]]:
    """Every command under ``command`` (itself first), each with its own context."""
    yield command, ctx
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))


def command_reference() -> str:
    """Markdown: one heading and one ``--help`` block per command, in name order."""
    from ingram.cli import cli

    root = click.Context(
        cli,
        info_name="ingram-sync",
        terminal_width=WIDTH,
        max_content_width=WIDTH,
        **cli.context_settings,
    )
    parts = [
        "Generated from `--help` by `python -m ingram.cli.docs`; do not edit by hand.\n",
    ]
    for command, ctx in walk(cli, root):
        parts.append(f"### `{ctx.command_path}`\n\n```\n{command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(parts)


def policy_table() -> str:
    """Markdown: the policy, a row per answer (``ingram.policy.POLICY``)."""
    lines = [
        "Generated from `ingram/policy.py` by `python -m ingram.cli.docs`; do not edit by hand.\n",
        "| answer | retried | then | exit |",
        "| --- | --- | --- | --- |",
        *(f"| {' | '.join(cell.replace('|', '/') for cell in row)} |" for row in policy_rows()),
    ]
    return "\n".join(lines) + "\n"


SECTIONS = {"commands": command_reference, "policy": policy_table}


def replace_section(text: str, body: str, name: str = "commands") -> str:
    """``text`` with the part between the ``name`` markers replaced by ``body``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise ValueError(f"the page has no {start} ... {end} markers")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}{end}{tail}"


def regenerated(text: str) -> str:
    """``text`` with every generated part it holds made anew."""
    for name, make in SECTIONS.items():
        if f"<!-- {name}:start -->" in text:
            text = replace_section(text, make(), name)
    return text


def main(argv: list[str]) -> int:
    """Rewrite (or with ``--check`` verify) the generated parts; return the exit code."""
    given = [Path(arg) for arg in argv if not arg.startswith("-")]
    stale = 0
    for path in given or [COMMANDS_PAGE, POLICY_PAGE]:
        current = path.read_text(encoding="utf-8")
        wanted = regenerated(current)
        if wanted == current:
            continue
        if "--check" in argv:
            print(f"{path} is out of date: run python -m ingram.cli.docs", file=sys.stderr)
            stale = 1
        else:
            path.write_text(wanted, encoding="utf-8")
            print(f"updated the generated parts of {path}")
    return stale


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
