"""Expansion of a Zoom ``recurrence`` object into concrete occurrences.

Written independently of the project's own recurrence code on purpose: the sandbox is the check
on it. Rules (Zoom's documented behaviour, strict limits from docs/architecture.md, Zoom facts):

- Sessions are computed in the meeting's timezone: local date plus the start's local wall-clock
  time, then converted to UTC, so 17:00 stays 17:00 local across DST changes. A wall-clock time
  that does not exist on a DST-gap day resolves with the pre-transition offset (``fold=0``).
- Daily (type 1): every ``repeat_interval`` days from the start date.
- Weekly (type 2): weeks start on Sunday; every ``repeat_interval``-th week counted from the week
  containing the start; on each of ``weekly_days`` (1 = Sunday ... 7 = Saturday); only dates on
  or after the start date.
- Monthly (type 3): day ``monthly_day`` of every ``repeat_interval``-th month counted from the
  start's month, on or after the start date; months lacking that day are skipped.
  ``monthly_week``/``monthly_week_day`` are not supported.
- End after ``end_times`` sessions, or with the last session at or before ``end_date_time``
  (UTC, inclusive); neither given means ``end_times = 1``; both is an error.
- At most 50 occurrences; ``repeat_interval`` at most 90 / 12 / 3 (daily / weekly / monthly).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_OCCURRENCES = 50
MAX_REPEAT_INTERVAL = {1: 90, 2: 12, 3: 3}
WEEKLY_DAYS_RE = re.compile(r"^[1-7](,[1-7])*$")
_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


class RecurrenceError(ValueError):
    """A recurrence Zoom would reject (HTTP 400, code 300)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Recurrence:
    type: int
    repeat_interval: int = 1
    weekly_days: tuple[int, ...] = ()
    monthly_day: int | None = None
    end_times: int | None = None
    end_date_time: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The recurrence as Zoom echoes it in meeting objects."""
        out: dict[str, Any] = {"type": self.type, "repeat_interval": self.repeat_interval}
        if self.type == 2:
            out["weekly_days"] = ",".join(str(d) for d in self.weekly_days)
        if self.type == 3:
            out["monthly_day"] = self.monthly_day
        if self.end_date_time is not None:
            out["end_date_time"] = format_utc(self.end_date_time)
        else:
            out["end_times"] = self.end_times
        return out


def format_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_field(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecurrenceError(f"recurrence.{key}", f"Invalid field: recurrence.{key} must be an integer.")
    return value


def parse_recurrence(raw: Any) -> Recurrence:
    """Check a request's ``recurrence``; :class:`RecurrenceError` if Zoom would not accept it."""
    if not isinstance(raw, dict):
        raise RecurrenceError("recurrence", "Invalid field: recurrence must be an object.")
    rtype = _int_field(raw, "type")
    if rtype not in (1, 2, 3):
        raise RecurrenceError("recurrence.type", "Invalid field: recurrence.type must be 1, 2 or 3.")
    interval = _int_field(raw, "repeat_interval")
    interval = 1 if interval is None else interval
    limit = MAX_REPEAT_INTERVAL[rtype]
    if not 1 <= interval <= limit:
        raise RecurrenceError(
            "recurrence.repeat_interval",
            f"Invalid field: recurrence.repeat_interval must be between 1 and {limit} for this type.",
        )
    weekly_days: tuple[int, ...] = ()
    monthly_day: int | None = None
    if rtype == 2:
        days = raw.get("weekly_days")
        if not isinstance(days, str) or not WEEKLY_DAYS_RE.match(days):
            raise RecurrenceError(
                "recurrence.weekly_days",
                "Invalid field: recurrence.weekly_days must be a comma-separated list of days 1 to 7.",
            )
        weekly_days = tuple(sorted({int(d) for d in days.split(",")}))
    if rtype == 3:
        if raw.get("monthly_week") is not None or raw.get("monthly_week_day") is not None:
            raise RecurrenceError(
                "recurrence.monthly_week",
                "Invalid field: recurrence.monthly_week is not supported by the sandbox; use monthly_day.",
            )
        monthly_day = _int_field(raw, "monthly_day")
        monthly_day = 1 if monthly_day is None else monthly_day
        if not 1 <= monthly_day <= 31:
            raise RecurrenceError(
                "recurrence.monthly_day", "Invalid field: recurrence.monthly_day must be between 1 and 31."
            )
    end_times = _int_field(raw, "end_times")
    end_raw = raw.get("end_date_time")
    if end_times is not None and end_raw is not None:
        raise RecurrenceError(
            "recurrence.end_times", "Invalid field: recurrence.end_times cannot be used with end_date_time."
        )
    end_date_time: datetime | None = None
    if end_raw is not None:
        end_date_time = _parse_utc(end_raw)
    elif end_times is None:
        end_times = 1
    elif not 1 <= end_times <= MAX_OCCURRENCES:
        raise RecurrenceError(
            "recurrence.end_times",
            f"Invalid field: recurrence.end_times must be between 1 and {MAX_OCCURRENCES}.",
        )
    return Recurrence(rtype, interval, weekly_days, monthly_day, end_times, end_date_time)


def _parse_utc(value: Any) -> datetime:
    if not isinstance(value, str) or not _UTC_RE.match(value):
        raise RecurrenceError(
            "recurrence.end_date_time",
            "Invalid field: recurrence.end_date_time must be UTC, as yyyy-MM-ddTHH:mm:ssZ.",
        )
    try:
        return datetime.fromisoformat(value[:19]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise RecurrenceError(
            "recurrence.end_date_time", "Invalid field: recurrence.end_date_time is not a valid date-time."
        ) from exc


def _daily(start: date, interval: int) -> Iterator[date]:
    day = start
    while True:
        yield day
        day += timedelta(days=interval)


def _weekly(start: date, interval: int, weekly_days: tuple[int, ...]) -> Iterator[date]:
    sunday = start - timedelta(days=(start.weekday() + 1) % 7)
    while True:
        for weekday in weekly_days:
            day = sunday + timedelta(days=weekday - 1)
            if day >= start:
                yield day
        sunday += timedelta(weeks=interval)


def _monthly(start: date, interval: int, monthly_day: int) -> Iterator[date]:
    months = 0
    while True:
        year, month0 = divmod(start.month - 1 + months, 12)
        year += start.year
        if monthly_day <= calendar.monthrange(year, month0 + 1)[1]:
            day = date(year, month0 + 1, monthly_day)
            if day >= start:
                yield day
        months += interval


def candidate_dates(start: date, rec: Recurrence) -> Iterator[date]:
    """Local dates of the series, in order, without end condition."""
    if rec.type == 1:
        return _daily(start, rec.repeat_interval)
    if rec.type == 2:
        return _weekly(start, rec.repeat_interval, rec.weekly_days)
    assert rec.monthly_day is not None
    return _monthly(start, rec.repeat_interval, rec.monthly_day)


def local_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, wall).replace(tzinfo=tz, fold=0).astimezone(UTC)


def expand(start_utc: datetime, tz: ZoneInfo, rec: Recurrence) -> list[datetime]:
    """UTC start instants of every occurrence; raises :class:`RecurrenceError` beyond Zoom's limits."""
    local = start_utc.astimezone(tz)
    wall = local.time().replace(tzinfo=None, microsecond=0)
    out: list[datetime] = []
    for day in candidate_dates(local.date(), rec):
        moment = local_to_utc(day, wall, tz)
        if rec.end_date_time is not None and moment > rec.end_date_time:
            break
        out.append(moment)
        if len(out) > MAX_OCCURRENCES:
            raise RecurrenceError(
                "recurrence",
                f"Invalid field: recurrence expands to more than {MAX_OCCURRENCES} occurrences.",
            )
        if rec.end_times is not None and len(out) >= rec.end_times:
            break
    if not out:
        raise RecurrenceError(
            "recurrence.end_date_time", "Invalid field: recurrence has no occurrence before end_date_time."
        )
    return out


def occurrences_json(starts: list[datetime], duration: int) -> list[dict[str, Any]]:
    return [
        {
            "occurrence_id": str(int(moment.timestamp() * 1000)),
            "start_time": format_utc(moment),
            "duration": duration,
            "status": "available",
        }
        for moment in starts
    ]
