"""`Retry-After` in every form Zoom has been seen to use, and garbage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.zoom.retry_after import parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("2", 2.0), (" 30 ", 30.0), ("1.5", 1.5)])
def test_delay_seconds(value, seconds):
    assert parse_retry_after(value, NOW) == seconds


def test_http_date():
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:05 GMT", NOW) == 5.0


@pytest.mark.parametrize(
    "value",
    ["2026-03-01T12:00:05Z", "2026-03-01T12:00:05+00:00", "2026-03-01T13:00:05+01:00", "2026-03-01T12:00:05"],
)
def test_iso_date_time_with_or_without_zone(value):
    assert parse_retry_after(value, NOW) == 5.0


def test_date_in_the_past_means_now():
    assert parse_retry_after("Sun, 01 Mar 2026 11:59:00 GMT", NOW) == 0.0
    assert parse_retry_after("2026-03-01T00:00:00Z", NOW) == 0.0


def test_daily_reset_at_midnight_utc():
    midnight = (NOW + timedelta(days=1)).replace(hour=0).astimezone(timezone(timedelta(hours=-5)))
    assert parse_retry_after(midnight.isoformat(), NOW) == 12 * 3600.0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "-5", "nan", "inf", "12:00", "Mon, 99 Foo 2026"])
def test_absent_or_unreadable_is_none(value):
    assert parse_retry_after(value, NOW) is None


def test_defaults_to_the_current_time():
    later = datetime.now(UTC) + timedelta(seconds=100)
    assert 95 < parse_retry_after(later.isoformat()) <= 100
