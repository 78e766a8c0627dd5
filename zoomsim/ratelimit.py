"""Zoom's two rate limits: per-second per category, and per-host daily for create/update.

The per-second limit uses a *fixed* window aligned to wall-clock seconds (``int(time.time())``):
at most ``limit`` requests of a category are admitted within each calendar second. The same
counters give ``max_requests_in_any_second``. Callers hold the sandbox lock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime


class PerSecondLimiter:
    def __init__(self) -> None:
        self._second: dict[str, int] = {}
        self._count: dict[str, int] = {}
        self.max_in_any_second: dict[str, int] = {}

    def admit(self, category: str, limit: int, now: float) -> bool:
        """Count the request in its second if under ``limit``; ``False`` means answer 429."""
        second = int(now)
        if self._second.get(category) != second:
            self._second[category] = second
            self._count[category] = 0
        if self._count[category] >= limit:
            return False
        self._count[category] += 1
        self.max_in_any_second[category] = max(self.max_in_any_second.get(category, 0), self._count[category])
        return True


class DailyLimiter:
    """Creates/updates per host per UTC day; a slot is reserved first and released if the call fails."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, date], int] = {}

    def acquire(self, host_id: str, now: datetime, limit: int) -> bool:
        key = (host_id, now.astimezone(UTC).date())
        if self._counts.get(key, 0) >= limit:
            return False
        self._counts[key] = self._counts.get(key, 0) + 1
        return True

    def release(self, host_id: str, now: datetime) -> None:
        key = (host_id, now.astimezone(UTC).date())
        if self._counts.get(key, 0) > 0:
            self._counts[key] -= 1


def next_utc_midnight(now: datetime) -> datetime:
    today = now.astimezone(UTC).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)
