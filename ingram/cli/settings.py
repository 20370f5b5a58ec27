"""``config show``: the effective settings, where each one came from, secrets masked.

Example: ingram-sync config show
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import click

from ingram.cli.common import State, pass_state
from ingram.config import SECRETS, Settings, config_file_path, setting_sources
from ingram.config.values import duration_text, masked_url

DURATIONS = ("details_max_age", "min_interval", "outage_limit", "timeout", "deadline")
SECONDS = ("details_interval",)  # seconds as typed: 1s, 0.5s
MASK = "********"


def shown_value(name: str, value: Any) -> str:
    """A setting as a person would type it back; secrets only say whether they are set."""
    if name in SECRETS:
        return MASK if value else "(not set)"
    if value is None:
        return "(not set)"
    if name == "mirror_url":
        return str(masked_url(value))
    if isinstance(value, tuple):
        return ",".join(f"{wait:g}" for wait in value)
    if name in DURATIONS:
        return duration_text(value)
    if name in SECONDS:
        return f"{value:g}s"
    return f"{value:g}" if isinstance(value, float) else str(value)


def effective_settings(state: State) -> list[dict[str, str]]:
    flags = {"db": state.db_flag, "log_file": state.log_file_flag, "profile": state.profile}
    settings = state.settings(log_file=state.log_file_flag)
    sources = setting_sources(flags, config_path=state.config)
    return [
        {
            "setting": field.name,
            "value": shown_value(field.name, getattr(settings, field.name)),
            "source": sources[field.name],
        }
        for field in fields(Settings)
    ]


@click.group("config")
def config_group() -> None:
    """Inspect the configuration. Example: ingram-sync config show"""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="A JSON array.")
@pass_state
def config_show(state: State, as_json: bool) -> None:
    """Effective settings and where each came from; secrets masked.

    Precedence: flag > environment variable > config profile > config file > default.

    Example: ingram-sync --config ~/ingram.toml config show
    """
    rows = effective_settings(state)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    path, chosen_by = config_file_path(state.config)
    present = "" if path.exists() else ", not present"
    click.echo(f"config file: {path} (from {chosen_by}{present})")
    click.echo(f"{'setting':<20} {'value':<34} source")
    for row in rows:
        click.echo(f"{row['setting']:<20} {row['value']:<34} {row['source']}")
