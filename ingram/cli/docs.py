"""The command reference of the docs, generated from each command's ``--help``.

``python -m ingram.cli.docs`` rewrites the part of docs/commands.md between
``<!-- commands:start -->`` and ``<!-- commands:end -->``; ``--check`` only
says whether it is up to date (exit 1 when not), which a test relies on.

Example::

    python -m ingram.cli.docs            # rewrite docs/commands.md's command reference
    python -m ingram.cli.docs --check    # exit 1 if docs/commands.md is out of date
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

START = "<!-- commands:start -->"
END = "<!-- commands:end -->"
WIDTH = 88
COMMANDS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


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


def replace_section(text: str, body: str) -> str:
    """``text`` with the part between the markers replaced by ``body``."""
    if START not in text or END not in text:
        raise ValueError(f"the page has no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{body}{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite (or with ``--check`` verify) docs/commands.md; return the exit code."""
    path = Path(next((a for a in argv if not a.startswith("-")), COMMANDS_PAGE))
    current = path.read_text(encoding="utf-8")
    wanted = replace_section(current, command_reference())
    if "--check" in argv:
        if current != wanted:
            print(f"{path} is out of date: run python -m ingram.cli.docs", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        path.write_text(wanted, encoding="utf-8")
        print(f"updated the command reference in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
