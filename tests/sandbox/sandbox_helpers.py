"""Small builders shared by the sandbox tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

HOST = "teacher@example.com"
OTHER_HOST = "host@example.com"
YEAR = datetime.now(UTC).year + 2


def next_weekday(start: date, weekday: int) -> date:
    """First date on or after ``start`` with Python ``weekday()`` (Monday = 0)."""
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def nth_sunday(year: int, month: int, n: int) -> date:
    return next_weekday(date(year, month, 1), 6) + timedelta(weeks=n - 1)


def last_sunday(year: int, month: int) -> date:
    end = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return end - timedelta(days=(end.weekday() + 1) % 7)


def local(day: date, hhmm: str = "17:00") -> str:
    return f"{day.isoformat()}T{hhmm}:00"


def meeting_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": 8,
        "topic": "Halaka Al-Fajr",
        "agenda": "provisioning-key: test",
        "start_time": local(next_weekday(date(YEAR, 6, 1), 0)),
        "timezone": "Europe/Berlin",
        "duration": 45,
        "password": "Ab1@-_*!",
        "recurrence": {"type": 2, "repeat_interval": 1, "weekly_days": "2", "end_times": 4},
        "settings": {"join_before_host": False, "waiting_room": True},
    }
    body.update(overrides)
    return body


def local_starts(meeting: dict[str, Any], tz: str | None = None) -> list[str]:
    """Occurrence starts as local ``YYYY-MM-DD HH:MM`` in the meeting's (or the given) zone."""
    zone = ZoneInfo(tz or meeting["timezone"])
    return [
        datetime.fromisoformat(o["start_time"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        for o in meeting["occurrences"]
    ]


def utc_hours(meeting: dict[str, Any]) -> set[int]:
    return {datetime.fromisoformat(o["start_time"]).hour for o in meeting["occurrences"]}
