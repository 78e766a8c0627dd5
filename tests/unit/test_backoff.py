"""Exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.zoom.backoff import retry_delay, seconds_until_utc_midnight


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0), (9, 300.0), (500, 300.0)]
)
def test_ceiling_doubles_up_to_the_cap(attempt, ceiling):
    assert retry_delay(attempt, base=2.0, cap=300.0, rng=lambda: 1.0) == ceiling
    assert retry_delay(attempt, base=2.0, cap=300.0, rng=lambda: 0.0) == 0.0


def test_full_jitter_spreads_over_the_whole_range():
    delays = [retry_delay(4, base=1.0, cap=100.0) for _ in range(2000)]
    assert all(0.0 <= d <= 8.0 for d in delays)
    assert min(delays) < 1.0 and max(delays) > 7.0


def test_retry_after_is_a_floor_up_to_the_cap():
    assert retry_delay(1, base=2.0, cap=10.0, retry_after=3.0, rng=lambda: 0.1) == 3.0
    assert retry_delay(1, base=2.0, cap=10.0, retry_after=0.5, rng=lambda: 1.0) == 2.0


@pytest.mark.parametrize(
    ("retry_after", "delay"), [(60.0, 10.0), (1e12, 10.0), (2.5e11, 10.0), (float("inf"), 0.2)]
)
def test_retry_after_beyond_the_cap_waits_the_cap(retry_after, delay):
    assert retry_delay(1, base=2.0, cap=10.0, retry_after=retry_after, rng=lambda: 0.1) == delay


def test_attempt_below_one_is_treated_as_first():
    assert retry_delay(0, base=2.0, cap=10.0, rng=lambda: 1.0) == 2.0


def test_seconds_until_utc_midnight():
    assert seconds_until_utc_midnight(datetime(2026, 3, 1, 23, 59, 30, tzinfo=UTC)) == 30.0
    assert seconds_until_utc_midnight(datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC)) == 86400.0
