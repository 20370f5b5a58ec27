"""The docs' command reference (docs/commands.md) is generated from --help and must be current."""

from __future__ import annotations

import click

from ingram.cli import cli
from ingram.cli.docs import (
    COMMANDS_PAGE,
    POLICY_PAGE,
    START,
    WIDTH,
    command_reference,
    main,
    policy_table,
    replace_section,
    walk,
)
from ingram.policy import POLICY


def all_helps() -> list[tuple[str, str]]:
    root = click.Context(
        cli, info_name="ingram-sync", max_content_width=WIDTH, **cli.context_settings
    )
    return [(ctx.command_path, command.get_help(ctx)) for command, ctx in walk(cli, root)]


def test_the_docs_command_reference_is_up_to_date():
    assert COMMANDS_PAGE.parts[-2:] == ("docs", "commands.md")
    assert main([str(COMMANDS_PAGE), "--check"]) == 0, "run: python -m ingram.cli.docs"
    assert main(["--check"]) == 0, "the default page is docs/commands.md"
    assert command_reference() in COMMANDS_PAGE.read_text(encoding="utf-8")


def test_the_docs_error_table_is_made_from_the_policy():
    table = policy_table()
    assert table in POLICY_PAGE.read_text(encoding="utf-8")
    assert len(table.splitlines()) == len(POLICY) + 4  # a row per answer of the policy
    assert "| HTTP 5xx | on the endpoint's waits |" in table


def test_every_command_has_a_one_line_example():
    helps = all_helps()
    assert {"ingram-sync monitor", "ingram-sync products discover", "ingram-sync runs show"} <= {
        path for path, _ in helps
    }
    for path, text in helps:
        lines = text.splitlines()
        examples = [i for i, line in enumerate(lines) if "Example: ingram-sync" in line]
        assert examples, f"{path} --help has no Example"
        following = lines[examples[0] + 1] if examples[0] + 1 < len(lines) else ""
        assert not following.strip(), f"{path}: the Example wraps onto a second line"


def test_replace_section_rewrites_only_between_the_markers(tmp_path):
    text = f"# Title\n\n{START}\nold\n<!-- commands:end -->\n\ntail\n"
    assert (
        replace_section(text, "new\n")
        == f"# Title\n\n{START}\nnew\n<!-- commands:end -->\n\ntail\n"
    )
    readme = tmp_path / "README.md"
    readme.write_text(text)
    assert main([str(readme), "--check"]) == 1
    assert main([str(readme)]) == 0
    assert main([str(readme), "--check"]) == 0
    assert readme.read_text().endswith("\ntail\n")
