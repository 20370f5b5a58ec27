"""Time as ingram-sync stores it: UTC ISO-8601 text with milliseconds and a ``Z``.

Example: ``format_time(parse_time("2026-11-28T22:40:01.123Z"))`` gives the same text.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """Now as UTC ISO-8601 with milliseconds, e.g. ``2026-11-28T22:40:01.123Z``."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
