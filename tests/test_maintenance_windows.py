"""Issue 19 §11: the portal FAQ's whole maintenance table, weekends and other regions included.

An outage met during a region's window says so (``maintenance_note``); times are the
region's own published offset, a window past midnight belongs to the day it starts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingram.api.maintenance import REGIONS, maintenance_note, region_of


def at(utc: str) -> datetime:
    return datetime.fromisoformat(utc).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("country", "utc", "window"),
    [
        ("CA", "2026-11-29T02:00:00", "18:00-05:00 GMT-8 on Saturdays"),  # Sat 18:00 GMT-8
        ("US", "2026-11-30T12:59:00", "18:00-05:00 GMT-8 on Sundays"),  # Mon 04:59 GMT-8
        ("US", "2026-11-30T13:00:00", None),  # Mon 05:00: over
        ("US", "2026-11-28T00:30:00", None),  # Fri 16:30 GMT-8
        ("MX", "2026-11-29T03:30:00", "20:00-22:00 GMT-7 on Saturdays"),  # Sat 20:30 GMT-7
        ("MX", "2026-11-29T06:00:00", None),  # Sat 23:00 GMT-7: Sunday's begins at 00:00
        ("MX", "2026-11-29T08:00:00", "00:00-03:00 GMT-7 on Sundays"),
        ("BR", "2026-11-28T04:00:00", None),  # Sat 01:00 GMT-3: no Saturday window
        ("BR", "2026-11-27T06:30:00", "00:00-04:00 GMT-3 on Fridays"),  # Fri 03:30
        ("CL", "2026-11-30T09:00:00", "20:00-07:00 GMT-3 on Sundays"),  # Mon 06:00 GMT-3
        ("GB", "2026-11-24T06:00:00", "02:00-06:30 GMT+0 on Tuesdays"),
        ("GB", "2026-11-27T07:30:00", "02:00-08:00 GMT+0 on Fridays"),
        ("GB", "2026-11-28T22:00:00", None),  # Saturday: the copy read here gave no end time
        ("DE", "2026-11-24T03:00:00", None),  # no row known for it
    ],
)
def test_each_regions_window(country: str, utc: str, window: str | None) -> None:
    note = maintenance_note(country, at(utc))
    if window is None:
        assert note is None, note
    else:
        assert note is not None and note.endswith(f"({window})"), note
        assert region_of(country).name in note


def test_every_region_lists_seven_days_and_its_countries_once() -> None:
    assert all(len(region.windows) == 7 for region in REGIONS)
    countries = [code for region in REGIONS for code in region.countries]
    assert len(countries) == len(set(countries))
    assert [region.name for region in REGIONS] == [
        "North America",
        "Central America",
        "South America",
        "London, UK",
    ]
