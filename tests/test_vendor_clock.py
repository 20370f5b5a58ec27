"""Issue 19 §9: ``X-RateLimit-Reset`` is read on the vendor's clock, estimated from ``Date``.

Before, a host 20 s behind the vendor waited 20.7 s for a window that reset in one
second, and a host ahead sent calls into a window that had not reset (a 429).
"""

from __future__ import annotations

import email.utils
import time

import pytest
from support.client_support import client_for

from ingram.api.vendorclock import VendorClock


def stamp(moment: float) -> str:
    return email.utils.formatdate(moment, usegmt=True)  # whole seconds, rounded down


def test_agreeing_clocks_are_not_corrected() -> None:
    clock = VendorClock()
    for _ in range(3):
        now = time.time()
        clock.observe(stamp(now), now - 0.01, now)
    assert clock.offset == 0.0


@pytest.mark.parametrize("ahead", [20.0, -20.0, 3.4])
def test_an_offset_is_bounded_by_the_answers_and_errs_on_waiting_longer(ahead: float) -> None:
    clock = VendorClock()
    base = 1_800_000_000.25
    for step in range(8):  # answers at different fractions of the vendor's second
        sent = base + step * 0.37
        clock.observe(stamp(sent + ahead + 0.05), sent, sent + 0.1)
    assert ahead - 1.0 < clock.offset <= ahead  # at most a second short: waits a bit longer


def test_a_clock_that_was_set_starts_the_estimate_again() -> None:
    clock = VendorClock()
    now = 1_800_000_000.5
    clock.observe(stamp(now + 20), now, now + 0.05)
    clock.observe(stamp(now + 1), now + 1, now + 1.05)  # our clock was stepped forward 20 s
    assert -1.0 < clock.offset <= 0.0
    clock.observe(None, now, now)  # no Date: nothing learnt
    clock.observe("not a date", now, now)
    assert -1.0 < clock.offset <= 0.0


@pytest.mark.parametrize("ahead", [20.0, -20.0])
def test_a_window_resets_by_the_vendors_clock(sandbox_factory, ahead: float) -> None:
    window = 1.0
    server = sandbox_factory(pa_rate_limit=2, rate_window=window, clock_offset=ahead)
    client = client_for(server)
    started = time.monotonic()
    answers = [client.price_and_availability([pn]) for pn in server.catalog.part_numbers(5)]
    elapsed = time.monotonic() - started
    assert all(found.found for [found] in answers)
    # Five calls at two a window: two resets, each at most a second late by the estimate.
    assert elapsed < 2 * window + 2.5, elapsed  # not 2 x 21 s behind
    assert server.stats()["rate_limited"]["price_and_availability"] == 0  # nor early, ahead
