"""`Retry-After` as Zoom sends it: delay-seconds, an HTTP-date, or an ISO 8601 date-time."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from `now` (0.0 for a moment already past), or None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    seconds = _as_seconds(value)
    if seconds is not None:
        return seconds
    moment = _as_datetime(value)
    if moment is None:
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (moment - now).total_seconds())


def _as_seconds(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _as_datetime(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
