"""Expand a halaka schedule into sessions and plan the Zoom recurring meetings that hold them.

Pure functions, no I/O. The rules are exactly the ones Zoom applies when it expands a recurring
meeting with a fixed time (``type: 8``) whose ``start_time`` is local (``yyyy-MM-ddTHH:mm:ss``) and
whose ``timezone`` is set, so that the occurrences Zoom returns are the sessions computed here:

* Every session is computed in the schedule's own time zone, never the server's: local date plus
  local ``start_time``, then converted to UTC. The wall-clock time is kept across DST changes, so the
  UTC hour moves.
* A local time that does not exist (it falls in a DST gap, e.g. 02:30 in New York on the day clocks
  spring forward) is resolved the way :mod:`zoneinfo` resolves ``fold=0``: with the UTC offset in
  force *before* the transition, so 02:30 EST becomes 07:30 UTC (03:30 EDT). An ambiguous local time
  (it occurs twice when clocks fall back) is likewise the first of the two (``fold=0``, the offset
  before the transition). ``Session.start_local`` keeps the nominal wall time with ``fold=0``.
* ``daily``: every day. ``weekly``: on ``days`` every week. ``biweekly``: on ``days`` every second
  week, where weeks start on **Sunday** (Zoom numbers Sunday as 1) and week parity is counted from
  the Sunday-started week that holds the first session. ``monthly``: on the day of the month of
  ``start_date`` (the anchor); days 29 to 31 are rejected because Zoom documents no behaviour for
  months that lack them.
* A start date that is not one of the schedule's days: the first session is the first matching day
  on or after it. ``end_date`` is inclusive.

A Zoom recurring meeting holds at most :data:`MAX_OCCURRENCES` occurrences, so the sessions are cut
into consecutive segments of at most that many, each one Zoom meeting. A segment starts at its own
first session and ends after ``end_times`` = its number of sessions (never ``end_date_time``, which
would have to fall between two sessions). For ``biweekly`` the parity survives the cut: a segment's
first session lies in a week an even number of weeks after the schedule's first week, and Zoom counts
the segment's weeks from the (Sunday-started) week of its ``start_time``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import islice
from typing import Any, Final, Literal, TypeGuard, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class Frequency(StrEnum):  # the API's `schedule.frequency` and the `halakat.frequency` column
    """How often a halaka meets."""

    daily = "daily"
    weekly = "weekly"
    biweekly = "biweekly"
    monthly = "monthly"


FREQUENCIES: Final[tuple[str, ...]] = tuple(Frequency)
#: The frequencies that meet on chosen weekdays; only these keep ``days``.
WITH_DAYS: Final[frozenset[str]] = frozenset({Frequency.weekly, Frequency.biweekly})

#: Lowercase English weekday names in Python's order (``date.weekday()``: Monday is 0).
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: Final[tuple[str, ...]] = get_args(Weekday)

#: The strict Zoom limit of occurrences in one recurring meeting.
MAX_OCCURRENCES: Final[int] = 50

#: The most sessions a halaka may have (from the next one on).
MAX_SESSIONS: Final[int] = 1000

MIN_DURATION: Final[int] = 1
MAX_DURATION: Final[int] = 1440

#: Highest anchor day for a monthly schedule: every month has days 1 to 28.
MAX_MONTHLY_DAY: Final[int] = 28

_WEEKS_BETWEEN_BIWEEKLY: Final[int] = 2


class ScheduleError(ValueError):
    """An invalid schedule. ``field`` names the offending request field (``schedule.days``, …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Schedule:
    """A halaka's schedule: the one form of its seven fields everywhere (validate with
    :func:`validate_schedule`).

    The halaka row maps its seven columns to this class (``Halaka.schedule``, a SQLAlchemy composite),
    the API converts it from and to its JSON shape in ``api/schemas/halaka.py``, and a PATCH is
    ``dataclasses.replace`` of the stored one. ``days`` is kept only for weekly and biweekly schedules
    (the others meet every day or on the start date's day) and is always a tuple.
    """

    frequency: Frequency
    days: tuple[str, ...]  # lowercase English weekday names; required for weekly/biweekly only
    start_time: time  # naive local wall-clock time in ``timezone``
    duration: int  # minutes, 1..1440
    start_date: date
    end_date: date  # inclusive
    timezone: str  # IANA name

    def __post_init__(self) -> None:
        if self.frequency in FREQUENCIES and not isinstance(self.frequency, Frequency):
            object.__setattr__(self, "frequency", Frequency(self.frequency))
        if self.frequency in FREQUENCIES and self.frequency not in WITH_DAYS:
            object.__setattr__(self, "days", ())
        elif isinstance(self.days, list):
            object.__setattr__(self, "days", tuple(self.days))


@dataclass(frozen=True)
class Session:
    """One meeting of a halaka."""

    start_local: datetime  # aware, in the schedule's zone (nominal wall time, fold=0)
    start_utc: datetime  # aware, UTC
    duration: int  # minutes


@dataclass(frozen=True)
class Segment:
    """Consecutive sessions held by one Zoom recurring meeting."""

    sessions: tuple[Session, ...]  # 1..MAX_OCCURRENCES, consecutive
    recurrence: dict[str, Any]  # Zoom ``recurrence`` object for this segment
    start_time_local: str  # "yyyy-MM-ddTHH:mm:ss" of its first session (local, no offset)

    @property
    def first(self) -> Session:
        return self.sessions[0]

    @property
    def last(self) -> Session:
        return self.sessions[-1]


def zoom_weekday(day: str) -> int:
    """Zoom's number for a weekday: ``"sunday"`` is 1, ``"monday"`` 2 … ``"saturday"`` 7.

    This is the only place the conversion exists (Python's ``isoweekday()`` numbers Monday as 1).
    Raises :class:`ScheduleError` (field ``schedule.days``) for anything but a lowercase English
    weekday name.
    """
    if not isinstance(day, str) or day not in WEEKDAYS:
        raise ScheduleError("schedule.days", f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
    return (WEEKDAYS.index(day) + 1) % 7 + 1


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or name not in _known_zones():
        raise ScheduleError(
            "schedule.timezone", f"unknown time zone {name!r}; use an IANA name such as 'Africa/Cairo'"
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed zones load
        raise ScheduleError("schedule.timezone", f"unknown time zone {name!r}") from exc


def is_int(value: object) -> TypeGuard[int]:
    """A true integer (JSON's `true` arrives as a bool, which Python counts as an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_duration(value: object) -> bool:
    """Whole minutes from MIN_DURATION to MAX_DURATION."""
    return is_int(value) and MIN_DURATION <= value <= MAX_DURATION


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def validate_schedule(s: Schedule) -> None:
    """Raise :class:`ScheduleError` naming the first offending field, or return ``None``."""
    if s.frequency not in FREQUENCIES:
        raise ScheduleError(
            "schedule.frequency", f"unknown frequency {s.frequency!r}; use one of {', '.join(FREQUENCIES)}"
        )
    if s.frequency in WITH_DAYS:
        if not isinstance(s.days, (tuple, list)) or not s.days:
            raise ScheduleError(
                "schedule.days", f"at least one weekday is required for a {s.frequency} schedule"
            )
        for day in s.days:
            zoom_weekday(day)
    if not isinstance(s.start_time, time) or s.start_time.tzinfo is not None:
        raise ScheduleError(
            "schedule.startTime", "must be a local wall-clock time (HH:MM) without a UTC offset"
        )
    if s.start_time.second or s.start_time.microsecond:
        raise ScheduleError("schedule.startTime", "must be whole minutes (HH:MM)")
    if not is_duration(s.duration):
        raise ScheduleError(
            "schedule.duration", f"must be a whole number of minutes from {MIN_DURATION} to {MAX_DURATION}"
        )
    if not _is_date(s.start_date):
        raise ScheduleError("schedule.startDate", "must be a date (YYYY-MM-DD)")
    if not _is_date(s.end_date):
        raise ScheduleError("schedule.endDate", "must be a date (YYYY-MM-DD)")
    if s.end_date < s.start_date:
        raise ScheduleError("schedule.endDate", "must be on or after startDate")
    _zone(s.timezone)
    if s.frequency == Frequency.monthly and s.start_date.day > MAX_MONTHLY_DAY:
        raise ScheduleError(
            "schedule.startDate",
            f"a monthly schedule cannot start on day {s.start_date.day}: Zoom does not define what happens "
            f"in months without that day; choose a start date on day 1 to {MAX_MONTHLY_DAY}",
        )
    if _first_session_date(s) is None:
        raise ScheduleError(
            "schedule.days", "none of the schedule's days falls between startDate and endDate"
        )


def _sunday_week(d: date) -> int:
    """The number of the (Sunday-to-Saturday) week holding ``d``; 0001-01-07, a Sunday, starts week 0."""
    return (d.toordinal() - 7) // 7


def _session_dates(s: Schedule, since: date) -> Iterator[date]:
    """Local dates of the sessions of a valid schedule in ``[max(start_date, since), end_date]``, lazily.

    Starting at ``since`` skips the past without walking it, so the cost depends on how many dates are
    taken, not on how long ago the schedule began (biweekly parity is still counted from its first week).
    """
    first = max(s.start_date, since)
    if s.frequency == Frequency.monthly:
        year, month = (
            (first.year, first.month) if first > s.start_date else (s.start_date.year, s.start_date.month)
        )
        while (year, month) <= (s.end_date.year, s.end_date.month):
            d = date(year, month, s.start_date.day)
            if first <= d <= s.end_date:
                yield d
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return
    wanted = set(range(7)) if s.frequency == Frequency.daily else {WEEKDAYS.index(day) for day in s.days}
    anchor = _sunday_week(_first_session_date(s) or s.start_date)
    d = first
    while d <= s.end_date:
        if d.weekday() in wanted and (
            s.frequency != Frequency.biweekly or (_sunday_week(d) - anchor) % _WEEKS_BETWEEN_BIWEEKLY == 0
        ):
            yield d
        if d == date.max:
            return
        d += timedelta(days=1)


def _first_session_date(s: Schedule) -> date | None:
    if s.frequency not in WITH_DAYS:
        return s.start_date
    wanted = {WEEKDAYS.index(day) for day in s.days}
    for i in range(min(7, (s.end_date - s.start_date).days + 1)):
        d = s.start_date + timedelta(days=i)
        if d.weekday() in wanted:
            return d
    return None


def _check_after(after: datetime | None) -> None:
    if after is not None and (not isinstance(after, datetime) or after.utcoffset() is None):
        raise ValueError("after must be a timezone-aware datetime")


def iter_sessions(s: Schedule, *, after: datetime | None = None) -> Iterator[Session]:
    """The sessions of ``s`` in ``[start_date, end_date]``, in order, generated lazily.

    With ``after`` (aware), only the sessions starting strictly after that instant; the dates before it
    are skipped, not walked. Validates ``s`` first (:class:`ScheduleError`). Sessions whose UTC time
    would fall beyond year 9999 do not exist: the sequence ends there.
    """
    validate_schedule(s)
    _check_after(after)
    zone = _zone(s.timezone)
    since = date.min
    if after is not None:
        local_day = after.astimezone(zone).date() if after.year < 9999 else date.max
        since = local_day - timedelta(days=1) if local_day > date.min else local_day
    for d in _session_dates(s, since):
        local = datetime.combine(d, s.start_time, tzinfo=zone)  # fold=0: see the module docstring
        try:
            utc = local.astimezone(UTC)
        except OverflowError:
            return
        if after is None or utc > after:
            yield Session(start_local=local, start_utc=utc, duration=s.duration)


def sessions(s: Schedule, *, after: datetime | None = None, limit: int | None = None) -> list[Session]:
    """The first ``limit`` (default: all) of :func:`iter_sessions`, as a list."""
    return list(islice(iter_sessions(s, after=after), limit))


def count_sessions(s: Schedule, *, after: datetime | None = None, cap: int = MAX_SESSIONS) -> int:
    """How many sessions ``s`` has after ``after``, counting no further than ``cap + 1``."""
    return sum(1 for _ in islice(iter_sessions(s, after=after), cap + 1))


@dataclass(frozen=True)
class Bounds:
    """How far a schedule may reach, in days (the API takes them from the settings)."""

    past_days: int = 366  # startDate no earlier than this before today
    horizon_days: int = 731  # startDate no later than this after today
    span_days: int = 1827  # endDate - startDate at most this


def check_bounds(s: Schedule, today: date, bounds: Bounds, *, start_changed: bool = True) -> None:
    """Raise :class:`ScheduleError` when the dates of ``s`` reach further than ``bounds``.

    ``start_changed=False`` (an update keeping its startDate) skips the window before today, so a halaka
    that began long ago can still be edited. Pure date arithmetic: costs nothing whatever the dates.
    """
    if start_changed and (today - s.start_date).days > bounds.past_days:
        raise ScheduleError(
            "schedule.startDate", f"must be no earlier than {bounds.past_days} days before today"
        )
    if (s.start_date - today).days > bounds.horizon_days:
        raise ScheduleError(
            "schedule.startDate", f"must be no later than {bounds.horizon_days} days after today"
        )
    if (s.end_date - s.start_date).days > bounds.span_days:
        raise ScheduleError(
            "schedule.endDate", f"must be no more than {bounds.span_days} days after startDate"
        )


def _recurrence(s: Schedule, first: Session, count: int) -> dict[str, Any]:
    if s.frequency == Frequency.daily:
        return {"type": 1, "repeat_interval": 1, "end_times": count}
    if s.frequency == Frequency.monthly:
        return {"type": 3, "repeat_interval": 1, "monthly_day": first.start_local.day, "end_times": count}
    weekly_days = ",".join(str(n) for n in sorted({zoom_weekday(day) for day in s.days}))
    interval = _WEEKS_BETWEEN_BIWEEKLY if s.frequency == Frequency.biweekly else 1
    return {"type": 2, "repeat_interval": interval, "weekly_days": weekly_days, "end_times": count}


def _local_string(local: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ss`` of a local wall time, without offset (Zoom's local ``start_time``)."""
    return local.replace(tzinfo=None).isoformat(timespec="seconds")


def plan_segments(s: Schedule, *, after: datetime | None = None) -> list[Segment]:
    """The sessions of ``s`` (optionally only those after ``after``) cut into Zoom meetings.

    Each segment holds at most :data:`MAX_OCCURRENCES` consecutive sessions, and Zoom expanding its
    ``start_time_local`` in the schedule's ``timezone`` with its ``recurrence`` gives exactly those
    sessions. An empty list means no session is left (``after`` is past the last one).
    """
    planned = sessions(s, after=after, limit=MAX_SESSIONS + 1)
    if len(planned) > MAX_SESSIONS:
        raise ScheduleError("schedule.endDate", f"more than {MAX_SESSIONS} sessions")
    segments: list[Segment] = []
    for i in range(0, len(planned), MAX_OCCURRENCES):
        chunk = tuple(planned[i : i + MAX_OCCURRENCES])
        segments.append(
            Segment(
                sessions=chunk,
                recurrence=_recurrence(s, chunk[0], len(chunk)),
                start_time_local=_local_string(chunk[0].start_local),
            )
        )
    return segments
