"""Ingram's published daily maintenance windows, by region (the portal's FAQ).

The FAQ ("Are there any scheduled maintenance windows/downtimes?") gives one
row a region, in the region's own fixed UTC offset, one window a weekday; a
window whose end is not after its start runs past midnight into the next day
(North America's Saturday, 18:00-05:00, ends Sunday at 05:00). During a window
5xx answers are likely, so an outage met then says so. Where the FAQ gives no
window (South America's Saturday) or the copy read here gave none (London's
weekend), no note is made rather than a wrong one. Which countries belong to
which row is a guess: the FAQ names regions, not countries.

Example::

    maintenance_note("US", datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    # "now is within Ingram's daily maintenance window for North America (...)"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

__all__ = ["REGIONS", "Region", "maintenance_note", "region_of"]

DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass(frozen=True)
class Region:
    """One row of the FAQ's table: its windows Monday to Sunday ("HH:MM-HH:MM" or None)."""

    name: str
    utc_offset: int  # hours, as published (the FAQ names no daylight saving)
    countries: frozenset[str]
    windows: tuple[str | None, ...]

    def window_at(self, now: datetime) -> str | None:
        """The window ``now`` falls in, as the FAQ writes it with its day; None outside one."""
        local = now.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=self.utc_offset)
        for days_back in (0, 1):  # a window that began yesterday may run past midnight
            day = (local - timedelta(days=days_back)).date()
            window = self.windows[day.weekday()]
            if window is None:
                continue
            first, last = (datetime.combine(day, _clock(text)) for text in window.split("-"))
            if last <= first:
                last += timedelta(days=1)
            if first <= local < last:
                return f"{window} GMT{self.utc_offset:+d} on {DAYS[day.weekday()]}"
        return None


def _clock(text: str) -> time:
    return datetime.strptime(text.strip(), "%H:%M").time()


WEEKDAYS = 5
REGIONS = (
    Region(
        "North America",
        -8,
        frozenset({"US", "CA"}),
        ("23:00-04:00",) * WEEKDAYS + ("18:00-05:00", "18:00-05:00"),
    ),
    Region(
        "Central America",
        -7,
        frozenset({"MX", "GT", "SV", "HN", "NI", "CR", "PA", "DO", "PR", "JM"}),
        ("00:00-03:00",) * WEEKDAYS + ("20:00-22:00", "00:00-03:00"),
    ),
    Region(
        "South America",
        -3,
        frozenset({"BR", "AR", "CL", "CO", "PE", "UY", "PY", "BO", "EC", "VE"}),
        ("00:00-02:00",) * 4 + ("00:00-04:00", None, "20:00-07:00"),
    ),
    Region(
        "London, UK",
        0,
        frozenset({"GB"}),
        ("02:00-06:30",) * 4 + ("02:00-08:00", None, None),
    ),
)


def region_of(country: str) -> Region | None:
    """The FAQ's region of a country code; None where no row is known for it."""
    code = country.strip().upper()
    return next((region for region in REGIONS if code in region.countries), None)


def maintenance_note(country: str, now: datetime | None = None) -> str | None:
    """Say so when ``now`` falls in the maintenance window of ``country``'s region."""
    region = region_of(country)
    window = region.window_at(now or datetime.now(UTC)) if region else None
    if region is None or window is None:
        return None
    return f"now is within Ingram's daily maintenance window for {region.name} ({window})"
