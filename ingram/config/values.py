"""The values a setting may take: durations, waits, rates, counts, switches, percentages.

Each converter takes the value as written (TOML or the environment) and the setting's
name, and returns it in the unit the code uses, or raises a ConfigError naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ingram.errors import ConfigError

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
LONGEST_DURATION = 100 * 365 * 86400.0
LONGEST_WAIT = 86400.0  # seconds: longer timeouts, intervals or waits are mistakes
NOTIFY_STOCK = ("thresholds", "all", "off")


URL_PASSWORD = re.compile(r"^([^:/]+://[^:@/]*):([^@/]*)@")


def masked_url(url: str | None) -> str | None:
    """``scheme://user:***@host/db``: a password typed into a URL is never shown."""
    return None if url is None else URL_PASSWORD.sub(r"\1:***@", url)


def url_password(url: str | None) -> str:
    """The password typed into a URL ("" when none), to mask it in logs."""
    found = URL_PASSWORD.match(url or "")
    return found[2] if found else ""


def parse_duration(text: str | float | int, name: str = "duration") -> float:
    """Seconds from ``90``, ``45s``, ``30m``, ``12h``, ``7d`` or ``2w``."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(text).lower())
        if not match:
            raise ConfigError(
                f"{name}: {text!r} is not a duration; use seconds or a number with s, m, h, d or w"
                " (for example 30m or 7d)"
            )
        seconds = float(match[1]) * DURATION_UNITS.get(match[2] or "s", 1)
    if seconds < 0:
        raise ConfigError(f"{name}: a duration cannot be negative")
    if not seconds <= LONGEST_DURATION:  # also nan and inf
        raise ConfigError(f"{name}: {text!r} is longer than 100 years; give a shorter duration")
    return seconds


def duration_text(seconds: float) -> str:
    """``604800`` -> ``7d``, ``90`` -> ``90s``: the largest unit up to days that fits whole."""
    for unit, size in sorted(DURATION_UNITS.items(), key=lambda item: -item[1])[1:]:
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def parse_waits(text: str | list[Any], name: str) -> tuple[float, ...]:
    """Retry waits from ``"30,60,120"`` (or a TOML array); ``""`` means no retries."""
    items = text if isinstance(text, list) else [p for p in str(text).split(",") if p.strip()]
    return tuple(parse_duration(item, name) for item in items)


def positive_number(value: Any, name: str, most: float = LONGEST_WAIT) -> float:
    """A number above 0 and at most ``most`` (a day by default: longer ones overflow times)."""
    try:
        if isinstance(value, bool):  # TOML true is no timeout
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: {value!r} is not a number") from None
    if not 0 < number <= most:  # also nan
        raise ConfigError(f"{name}: must be a number above 0 and at most {most:g}, got {value!r}")
    return number


def days_to_keep(value: Any, name: str) -> float:
    """Days of history to keep; 0 keeps everything."""
    try:
        is_zero = not isinstance(value, bool) and float(value) == 0
    except (TypeError, ValueError):
        is_zero = False
    return 0.0 if is_zero else positive_number(value, name, most=LONGEST_DURATION / 86400)


def calls_per_minute(value: Any, name: str) -> float:
    """A rate of at least one call a day: a slower one would schedule calls past year 9999."""
    rate = positive_number(value, name, most=1e9)
    if rate < 1 / 1440:
        raise ConfigError(f"{name}: {value!r} is less than one call a day; give 0.001 or more")
    return rate


def int_in_range(low: int, high: int) -> Callable[[Any, str], int]:
    def check(value: Any, name: str) -> int:
        try:
            number = int(str(value))
        except ValueError:
            raise ConfigError(f"{name}: {value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ConfigError(f"{name}: must be between {low} and {high}, got {number}")
        return number

    return check


def on_or_off(value: Any, name: str) -> bool:
    """A switch: TOML true/false, or true/false, yes/no, on/off, 1/0 as text."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ConfigError(f"{name}: {value!r} is not true or false")


def non_negative(value: Any, name: str) -> float:
    try:
        is_zero = float(value) == 0
    except (TypeError, ValueError):
        is_zero = False
    return 0.0 if is_zero else positive_number(value, name)


def percent(value: Any, name: str) -> Decimal:
    """A percentage of 0 or more (``[notify] price_change_percent``), kept exact."""
    try:
        number = None if isinstance(value, bool) else Decimal(str(value))
    except ArithmeticError:
        number = None
    if number is None or not number.is_finite() or number < 0:
        raise ConfigError(f"{name}: {value!r} is not a percentage of 0 or more")
    return number


def stock_events(value: Any, name: str) -> str:
    """Which stock moves the change feed sends: thresholds (true), all, or off (false)."""
    if isinstance(value, bool):
        return NOTIFY_STOCK[0] if value else "off"
    if str(value) not in NOTIFY_STOCK:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(NOTIFY_STOCK)}")
    return str(value)
