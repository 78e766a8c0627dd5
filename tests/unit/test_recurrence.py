"""Unit tests for shared.zoom.recurrence: sessions, segments and Zoom's expansion of each segment."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from shared.zoom.recurrence import (
    MAX_OCCURRENCES,
    WEEKDAYS,
    Schedule,
    ScheduleError,
    Segment,
    Session,
    plan_segments,
    sessions,
    validate_schedule,
    zoom_weekday,
)

D = date.fromisoformat


def make(
    frequency: str = "weekly",
    days: tuple[str, ...] = ("monday", "wednesday"),
    start_time: time = time(17, 0),
    duration: int = 60,
    start_date: str = "2026-12-01",
    end_date: str = "2027-02-28",
    tz: str = "Africa/Cairo",
) -> Schedule:
    return Schedule(
        frequency=frequency,  # type: ignore[arg-type]
        days=days,
        start_time=start_time,
        duration=duration,
        start_date=D(start_date),
        end_date=D(end_date),
        timezone=tz,
    )


# --------------------------------------------------------------------------------------------------
# An independent reference of what Zoom does with (start_time local, timezone, recurrence).
# Written from Zoom's documentation, not from the module under test: weeks run Sunday..Saturday
# (weekly_days 1 = Sunday), the first week is the one holding start_time, occurrences before
# start_time do not count, and each occurrence keeps the local wall-clock time in the zone.
# --------------------------------------------------------------------------------------------------


def zoom_expand(start_time_local: str, tz: str, recurrence: dict) -> list[datetime]:
    assert "end_date_time" not in recurrence, "segments must end with end_times"
    start = datetime.strptime(start_time_local, "%Y-%m-%dT%H:%M:%S")
    count = recurrence["end_times"]
    interval = recurrence["repeat_interval"]
    first_day = start.date()
    days: list[date] = []
    if recurrence["type"] == 1:
        days = [first_day + timedelta(days=k * interval) for k in range(count)]
    elif recurrence["type"] == 2:
        numbers = sorted(int(n) for n in recurrence["weekly_days"].split(","))
        sunday = first_day - timedelta(days=first_day.isoweekday() % 7)
        week = 0
        while len(days) < count:
            for number in numbers:
                day = sunday + timedelta(weeks=week * interval, days=number - 1)
                if day >= first_day and len(days) < count:
                    days.append(day)
            week += 1
    elif recurrence["type"] == 3:
        year, month = first_day.year, first_day.month
        while len(days) < count:
            day = date(year, month, recurrence["monthly_day"])
            if day >= first_day:
                days.append(day)
            month += interval
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    else:  # pragma: no cover
        raise AssertionError(f"unknown recurrence type {recurrence['type']}")
    zone = ZoneInfo(tz)
    return [datetime.combine(d, start.time()).replace(tzinfo=zone).astimezone(UTC) for d in days]


def assert_segments_are_exact(schedule: Schedule, segments: list[Segment], expected: list[Session]) -> None:
    """Segments cover ``expected`` in order, and Zoom expanding each one gives exactly its sessions."""
    assert [x for seg in segments for x in seg.sessions] == expected
    limits = {1: 90, 2: 12, 3: 3}  # strict repeat_interval limits (docs/architecture.md, Zoom facts)
    for seg in segments:
        assert 1 <= len(seg.sessions) <= MAX_OCCURRENCES
        rec = seg.recurrence
        assert rec["end_times"] == len(seg.sessions)
        assert 1 <= rec["repeat_interval"] <= limits[rec["type"]]
        first = seg.sessions[0].start_local
        assert seg.start_time_local == first.strftime("%Y-%m-%dT%H:%M:%S")
        assert zoom_expand(seg.start_time_local, schedule.timezone, rec) == [
            x.start_utc for x in seg.sessions
        ]


def local_dates(result: list[Session]) -> list[date]:
    return [x.start_local.date() for x in result]


# --------------------------------------------------------------------------------------------------
# zoom_weekday
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "number"),
    [
        ("sunday", 1),
        ("monday", 2),
        ("tuesday", 3),
        ("wednesday", 4),
        ("thursday", 5),
        ("friday", 6),
        ("saturday", 7),
    ],
    ids=lambda v: str(v),
)
def test_zoom_weekday_numbers_sunday_as_one(day: str, number: int) -> None:
    assert zoom_weekday(day) == number


@pytest.mark.parametrize("day", WEEKDAYS)
def test_zoom_weekday_agrees_with_the_calendar(day: str) -> None:
    # 2026-11-29 is a Sunday: the day numbered n by Zoom is n - 1 days after it.
    some_day = D("2026-11-29") + timedelta(days=zoom_weekday(day) - 1)
    assert WEEKDAYS[some_day.weekday()] == day


@pytest.mark.parametrize(
    "day",
    ["Monday", "MONDAY", "mon", "", " monday", "lundi", None, 1],
    ids=["capitalised", "upper", "abbrev", "empty", "space", "french", "none", "int"],
)
def test_zoom_weekday_rejects_anything_else(day: object) -> None:
    with pytest.raises(ScheduleError) as err:
        zoom_weekday(day)  # type: ignore[arg-type]
    assert err.value.field == "schedule.days"


# --------------------------------------------------------------------------------------------------
# sessions: which local dates, for every frequency
# --------------------------------------------------------------------------------------------------

SESSION_CASES = [
    pytest.param(
        make("daily", (), start_date="2026-12-01", end_date="2026-12-05"),
        ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-05"],
        id="daily",
    ),
    pytest.param(
        make("daily", ("friday",), start_date="2026-12-30", end_date="2027-01-02"),
        ["2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02"],
        id="daily-ignores-days-across-new-year",
    ),
    pytest.param(
        make("weekly", ("monday", "wednesday"), start_date="2026-12-01", end_date="2026-12-16"),
        ["2026-12-02", "2026-12-07", "2026-12-09", "2026-12-14", "2026-12-16"],
        id="weekly-mon-wed-start-tuesday",
    ),
    pytest.param(
        make("weekly", ("wednesday", "monday", "wednesday"), start_date="2026-12-01", end_date="2026-12-16"),
        ["2026-12-02", "2026-12-07", "2026-12-09", "2026-12-14", "2026-12-16"],
        id="weekly-unsorted-duplicate-days",
    ),
    pytest.param(
        make("weekly", ("friday",), start_date="2026-12-07", end_date="2026-12-31"),
        ["2026-12-11", "2026-12-18", "2026-12-25"],
        id="weekly-start-date-not-a-schedule-day",
    ),
    pytest.param(
        make("weekly", WEEKDAYS, start_date="2026-12-04", end_date="2026-12-08"),
        ["2026-12-04", "2026-12-05", "2026-12-06", "2026-12-07", "2026-12-08"],
        id="weekly-every-day",
    ),
    pytest.param(
        make("biweekly", ("monday", "wednesday"), start_date="2026-12-03", end_date="2027-01-10"),
        ["2026-12-07", "2026-12-09", "2026-12-21", "2026-12-23", "2027-01-04", "2027-01-06"],
        id="biweekly-start-thursday-first-week-is-next",
    ),
    pytest.param(
        make("biweekly", ("monday", "wednesday"), start_date="2026-12-01", end_date="2027-01-13"),
        ["2026-12-02", "2026-12-14", "2026-12-16", "2026-12-28", "2026-12-30", "2027-01-11", "2027-01-13"],
        id="biweekly-start-midweek-tuesday",
    ),
    pytest.param(
        # Sunday-started weeks: Sat 5 is week 0, Sun 6 is week 1 (skipped), then Sun 13 + Sat 19 (week 2).
        make("biweekly", ("saturday", "sunday"), start_date="2026-12-05", end_date="2027-01-03"),
        ["2026-12-05", "2026-12-13", "2026-12-19", "2026-12-27", "2027-01-02"],
        id="biweekly-sat-sun-start-saturday",
    ),
    pytest.param(
        make("biweekly", ("saturday", "sunday"), start_date="2026-12-06", end_date="2027-01-03"),
        ["2026-12-06", "2026-12-12", "2026-12-20", "2026-12-26", "2027-01-03"],
        id="biweekly-sat-sun-start-sunday",
    ),
    pytest.param(
        make("biweekly", ("sunday",), start_date="2026-12-01", end_date="2027-01-03"),
        ["2026-12-06", "2026-12-20", "2027-01-03"],
        id="biweekly-sunday-start-not-a-schedule-day",
    ),
    pytest.param(
        make("monthly", (), start_date="2026-12-15", end_date="2027-05-20"),
        ["2026-12-15", "2027-01-15", "2027-02-15", "2027-03-15", "2027-04-15", "2027-05-15"],
        id="monthly-15th",
    ),
    pytest.param(
        make("monthly", ("monday",), start_date="2026-12-28", end_date="2027-02-28"),
        ["2026-12-28", "2027-01-28", "2027-02-28"],
        id="monthly-28th-end-inclusive-days-ignored",
    ),
    pytest.param(
        make("monthly", (), start_date="2026-12-10", end_date="2027-02-09"),
        ["2026-12-10", "2027-01-10"],
        id="monthly-end-before-anchor-day",
    ),
    pytest.param(
        make("daily", (), start_date="2026-12-01", end_date="2026-12-01"), ["2026-12-01"], id="one-day-daily"
    ),
    pytest.param(
        make("weekly", ("tuesday",), start_date="2026-12-01", end_date="2026-12-01"),
        ["2026-12-01"],
        id="one-day-weekly",
    ),
    pytest.param(
        make("biweekly", ("tuesday",), start_date="2026-12-01", end_date="2026-12-01"),
        ["2026-12-01"],
        id="one-day-biweekly",
    ),
    pytest.param(
        make("monthly", (), start_date="2026-12-01", end_date="2026-12-01"),
        ["2026-12-01"],
        id="one-day-monthly",
    ),
]


@pytest.mark.parametrize(("schedule", "expected"), SESSION_CASES)
def test_session_dates(schedule: Schedule, expected: list[str]) -> None:
    result = sessions(schedule)
    assert local_dates(result) == [D(x) for x in expected]
    zone = ZoneInfo(schedule.timezone)
    for x in result:
        assert x.start_local.tzinfo == zone
        assert x.start_local.time() == schedule.start_time
        assert x.start_utc.utcoffset() == timedelta(0)
        assert x.start_utc == x.start_local
        assert x.duration == schedule.duration


@pytest.mark.parametrize(("schedule", "expected"), SESSION_CASES)
def test_segments_of_small_schedules_expand_exactly(schedule: Schedule, expected: list[str]) -> None:
    segments = plan_segments(schedule)
    assert len(segments) == 1
    assert_segments_are_exact(schedule, segments, sessions(schedule))


# --------------------------------------------------------------------------------------------------
# Zoom recurrence objects
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "recurrence", "start_time_local"),
    [
        pytest.param(
            make("daily", (), start_date="2026-12-01", end_date="2026-12-05"),
            {"type": 1, "repeat_interval": 1, "end_times": 5},
            "2026-12-01T17:00:00",
            id="daily",
        ),
        pytest.param(
            make("weekly", ("wednesday", "monday"), start_date="2026-12-01", end_date="2026-12-16"),
            {"type": 2, "repeat_interval": 1, "weekly_days": "2,4", "end_times": 5},
            "2026-12-02T17:00:00",
            id="weekly",
        ),
        pytest.param(
            make("biweekly", ("saturday", "sunday"), start_date="2026-12-05", end_date="2027-01-03"),
            {"type": 2, "repeat_interval": 2, "weekly_days": "1,7", "end_times": 5},
            "2026-12-05T17:00:00",
            id="biweekly",
        ),
        pytest.param(
            make("weekly", WEEKDAYS, start_date="2026-12-04", end_date="2026-12-08", start_time=time(6, 5)),
            {"type": 2, "repeat_interval": 1, "weekly_days": "1,2,3,4,5,6,7", "end_times": 5},
            "2026-12-04T06:05:00",
            id="weekly-all-days",
        ),
        pytest.param(
            make("monthly", (), start_date="2026-12-15", end_date="2027-05-20", start_time=time(0, 0)),
            {"type": 3, "repeat_interval": 1, "monthly_day": 15, "end_times": 6},
            "2026-12-15T00:00:00",
            id="monthly",
        ),
    ],
)
def test_recurrence_object(schedule: Schedule, recurrence: dict, start_time_local: str) -> None:
    (segment,) = plan_segments(schedule)
    assert segment.recurrence == recurrence
    assert segment.start_time_local == start_time_local


# --------------------------------------------------------------------------------------------------
# Segmentation: 1, 50, 51, 120, 200 sessions, every frequency
# --------------------------------------------------------------------------------------------------

_STEP = {"daily": 1, "weekly": 7, "biweekly": 14}


def schedule_with(frequency: str, count: int, start: str = "2026-12-01") -> Schedule:
    """A one-day-a-week (or daily / monthly) schedule with exactly ``count`` sessions from ``start``."""
    first = D(start)
    if frequency == "monthly":
        months = first.month - 1 + count - 1
        last = date(first.year + months // 12, months % 12 + 1, first.day)
    else:
        last = first + timedelta(days=_STEP[frequency] * (count - 1))
    return make(frequency, (WEEKDAYS[first.weekday()],), start_date=start, end_date=last.isoformat())


@pytest.mark.parametrize("frequency", ["daily", "weekly", "biweekly", "monthly"])
@pytest.mark.parametrize(
    ("count", "sizes"),
    [(1, [1]), (50, [50]), (51, [50, 1]), (120, [50, 50, 20]), (200, [50, 50, 50, 50])],
    ids=["1", "50", "51", "120", "200"],
)
def test_segment_sizes(frequency: str, count: int, sizes: list[int]) -> None:
    schedule = schedule_with(frequency, count)
    all_sessions = sessions(schedule)
    assert len(all_sessions) == count
    segments = plan_segments(schedule)
    assert [len(seg.sessions) for seg in segments] == sizes
    assert_segments_are_exact(schedule, segments, all_sessions)
    # consecutive segments: each starts after the previous one's last session
    for before, after in itertools.pairwise(segments):
        assert before.sessions[-1].start_utc < after.sessions[0].start_utc


@pytest.mark.parametrize(
    "schedule",
    [
        # Three days a week: segment 2 starts on a Friday, segment 3 on a Wednesday.
        pytest.param(
            make("biweekly", ("monday", "wednesday", "friday"), end_date="2028-12-31"),
            id="biweekly-mon-wed-fri",
        ),
        pytest.param(
            make("biweekly", ("saturday", "sunday"), start_date="2026-12-05", end_date="2030-12-31"),
            id="biweekly-sat-sun",
        ),
        pytest.param(
            make("biweekly", ("sunday", "saturday"), start_date="2026-12-06", end_date="2030-12-31"),
            id="biweekly-sun-sat",
        ),
        pytest.param(
            make("biweekly", ("sunday", "thursday"), start_date="2026-12-01", end_date="2030-12-31"),
            id="biweekly-sun-thu",
        ),
        pytest.param(
            make("weekly", ("tuesday", "saturday", "sunday"), end_date="2028-06-30"), id="weekly-three-days"
        ),
        pytest.param(
            make("daily", (), end_date="2027-08-31", tz="America/New_York"), id="daily-new-york-dst"
        ),
        pytest.param(
            make("monthly", (), start_date="2026-01-28", end_date="2040-12-31", tz="Europe/London"),
            id="monthly-london",
        ),
        pytest.param(
            make("biweekly", ("friday",), start_time=time(0, 30), end_date="2032-12-31"),
            id="biweekly-cairo-midnight",
        ),
    ],
)
def test_every_segment_of_long_schedules_expands_exactly(schedule: Schedule) -> None:
    all_sessions = sessions(schedule)
    segments = plan_segments(schedule)
    assert len(segments) >= 3
    assert_segments_are_exact(schedule, segments, all_sessions)


def test_biweekly_later_segment_starting_midweek_keeps_parity() -> None:
    schedule = make(
        "biweekly", ("monday", "wednesday", "friday"), start_date="2026-12-07", end_date="2028-12-31"
    )
    second = plan_segments(schedule)[1]
    # Sessions 0..49 fill 16 active weeks plus Mon+Wed of the 17th, which starts 32 weeks after
    # Sunday 2026-12-06, on Sunday 2027-07-18: session 50 is that week's Friday.
    assert second.sessions[0].start_local.strftime("%A") == "Friday"
    assert second.start_time_local == "2027-07-23T17:00:00"
    assert second.recurrence == {"type": 2, "repeat_interval": 2, "weekly_days": "2,4,6", "end_times": 50}
    assert local_dates(list(second.sessions[:4])) == [
        D("2027-07-23"),
        D("2027-08-02"),
        D("2027-08-04"),
        D("2027-08-06"),
    ]


# --------------------------------------------------------------------------------------------------
# Time zones and DST: the local wall-clock time stays, the UTC hour moves
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "end", "utc_before", "utc_after"),
    [
        pytest.param("Africa/Cairo", "2027-04-29", "2027-04-30", time(15, 0), time(14, 0), id="cairo-spring"),
        pytest.param("Africa/Cairo", "2027-10-28", "2027-10-29", time(14, 0), time(15, 0), id="cairo-autumn"),
        pytest.param(
            "America/New_York", "2027-03-13", "2027-03-14", time(22, 0), time(21, 0), id="new-york-march"
        ),
        pytest.param(
            "America/New_York", "2027-11-06", "2027-11-07", time(21, 0), time(22, 0), id="new-york-november"
        ),
        pytest.param(
            "Europe/London", "2027-03-27", "2027-03-28", time(17, 0), time(16, 0), id="london-march"
        ),
        pytest.param(
            "Europe/London", "2027-10-30", "2027-10-31", time(16, 0), time(17, 0), id="london-october"
        ),
        pytest.param("Asia/Riyadh", "2027-03-13", "2027-03-14", time(14, 0), time(14, 0), id="riyadh-no-dst"),
        pytest.param("UTC", "2027-03-27", "2027-03-28", time(17, 0), time(17, 0), id="utc"),
    ],
)
def test_dst_keeps_local_time_and_moves_utc(
    tz: str, start: str, end: str, utc_before: time, utc_after: time
) -> None:
    schedule = make("daily", (), start_time=time(17, 0), start_date=start, end_date=end, tz=tz)
    first, second = sessions(schedule)
    assert first.start_local.time() == second.start_local.time() == time(17, 0)
    assert first.start_utc.time() == utc_before
    assert second.start_utc.time() == utc_after
    assert_segments_are_exact(schedule, plan_segments(schedule), [first, second])


@pytest.mark.parametrize(
    ("tz", "start_time", "start", "expected_utc"),
    [
        # A wall time in a DST gap does not exist; fold=0 applies the offset before the change
        # (EST for New York, EET +02:00 for Cairo), i.e. it lands one hour later on the new clock.
        pytest.param(
            "America/New_York",
            time(2, 30),
            "2027-03-13",
            ["2027-03-13T07:30:00", "2027-03-14T07:30:00", "2027-03-15T06:30:00"],
            id="new-york-gap",
        ),
        pytest.param(
            "Africa/Cairo",
            time(0, 30),
            "2027-04-29",
            ["2027-04-28T22:30:00", "2027-04-29T22:30:00", "2027-04-30T21:30:00"],
            id="cairo-gap",
        ),
        pytest.param(
            "Europe/London",
            time(1, 30),
            "2027-03-27",
            ["2027-03-27T01:30:00", "2027-03-28T01:30:00", "2027-03-29T00:30:00"],
            id="london-gap",
        ),
        # An ambiguous wall time happens twice; fold=0 is the first (still summer time).
        pytest.param(
            "America/New_York",
            time(1, 30),
            "2027-11-06",
            ["2027-11-06T05:30:00", "2027-11-07T05:30:00", "2027-11-08T06:30:00"],
            id="new-york-overlap",
        ),
        pytest.param(
            "Africa/Cairo",
            time(23, 30),
            "2027-10-27",
            ["2027-10-27T20:30:00", "2027-10-28T20:30:00", "2027-10-29T21:30:00"],
            id="cairo-overlap",
        ),
    ],
)
def test_dst_gap_and_overlap_use_fold_zero(
    tz: str, start_time: time, start: str, expected_utc: list[str]
) -> None:
    end = (D(start) + timedelta(days=2)).isoformat()
    schedule = make("daily", (), start_time=start_time, start_date=start, end_date=end, tz=tz)
    result = sessions(schedule)
    assert [x.start_utc.replace(tzinfo=None).isoformat() for x in result] == expected_utc
    assert all(x.start_local.time() == start_time and x.start_local.fold == 0 for x in result)
    assert_segments_are_exact(schedule, plan_segments(schedule), result)


def test_sessions_use_the_schedule_zone_not_the_server_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time as time_module

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time_module.tzset()
    try:
        (x,) = sessions(make("daily", (), start_date="2026-12-01", end_date="2026-12-01", tz="Africa/Cairo"))
    finally:
        monkeypatch.undo()
        time_module.tzset()
    assert x.start_utc == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# after: re-planning a halaka already under way
# --------------------------------------------------------------------------------------------------

WEEKLY = make(
    "weekly", ("monday", "wednesday"), start_date="2026-12-01", end_date="2026-12-16"
)  # 17:00 Cairo = 15:00Z


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param(
            datetime(2026, 11, 1, tzinfo=UTC),
            ["2026-12-02", "2026-12-07", "2026-12-09", "2026-12-14", "2026-12-16"],
            id="before-start",
        ),
        pytest.param(
            datetime(2026, 12, 7, 15, 0, tzinfo=UTC),
            ["2026-12-09", "2026-12-14", "2026-12-16"],
            id="exactly-at-a-session-excludes-it",
        ),
        pytest.param(
            datetime(2026, 12, 7, 14, 59, 59, tzinfo=UTC),
            ["2026-12-07", "2026-12-09", "2026-12-14", "2026-12-16"],
            id="just-before-a-session",
        ),
        pytest.param(
            datetime(2026, 12, 7, 17, 0, tzinfo=ZoneInfo("Africa/Cairo")),
            ["2026-12-09", "2026-12-14", "2026-12-16"],
            id="aware-in-another-zone",
        ),
        pytest.param(
            datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=-5))),
            ["2026-12-09", "2026-12-14", "2026-12-16"],
            id="fixed-offset",
        ),
        pytest.param(datetime(2026, 12, 16, 15, 0, tzinfo=UTC), [], id="after-last-session"),
    ],
)
def test_after_keeps_only_later_sessions(after: datetime, expected: list[str]) -> None:
    assert local_dates(sessions(WEEKLY, after=after)) == [D(x) for x in expected]
    segments = plan_segments(WEEKLY, after=after)
    assert [x for seg in segments for x in seg.sessions] == sessions(WEEKLY, after=after)
    if expected:
        assert segments[0].start_time_local == f"{expected[0]}T17:00:00"
        assert_segments_are_exact(WEEKLY, segments, sessions(WEEKLY, after=after))
    else:
        assert segments == []


@pytest.mark.parametrize(
    ("schedule", "after", "sizes"),
    [
        pytest.param(
            schedule_with("daily", 120),
            datetime(2027, 1, 5, 16, tzinfo=UTC),
            [50, 34],
            id="daily-120-36-done",
        ),
        pytest.param(
            make("biweekly", ("monday", "wednesday", "friday"), end_date="2028-12-31"),
            datetime(2027, 3, 3, 15, 0, tzinfo=UTC),
            None,
            id="biweekly-replan-midweek",
        ),
        pytest.param(
            make("biweekly", ("saturday", "sunday"), start_date="2026-12-05", end_date="2030-12-31"),
            datetime(2028, 6, 1, tzinfo=UTC),
            None,
            id="biweekly-sat-sun-replan",
        ),
        pytest.param(
            make("monthly", (), start_date="2026-01-05", end_date="2036-12-31"),
            datetime(2030, 7, 5, 15, tzinfo=UTC),
            None,
            id="monthly-replan",
        ),
    ],
)
def test_replanning_after_keeps_the_rest_of_the_schedule(
    schedule: Schedule, after: datetime, sizes: list[int] | None
) -> None:
    full = sessions(schedule)
    rest = sessions(schedule, after=after)
    assert rest == [x for x in full if x.start_utc > after]
    assert 0 < len(rest) < len(full)
    segments = plan_segments(schedule, after=after)
    if sizes is not None:
        assert [len(seg.sessions) for seg in segments] == sizes
    assert_segments_are_exact(schedule, segments, rest)


def test_after_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sessions(WEEKLY, after=datetime(2026, 12, 7))
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_segments(WEEKLY, after=datetime(2026, 12, 7))


# --------------------------------------------------------------------------------------------------
# validate_schedule
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        pytest.param({"frequency": "yearly"}, "schedule.frequency", "frequency", id="unknown-frequency"),
        pytest.param(
            {"frequency": "weekly", "days": ()}, "schedule.days", "at least one", id="weekly-without-days"
        ),
        pytest.param(
            {"frequency": "biweekly", "days": ()}, "schedule.days", "at least one", id="biweekly-without-days"
        ),
        pytest.param({"days": ("monday", "funday")}, "schedule.days", "funday", id="unknown-weekday"),
        pytest.param({"days": ("Monday",)}, "schedule.days", "Monday", id="capitalised-weekday"),
        pytest.param(
            {"frequency": "biweekly", "days": ("mon",)}, "schedule.days", "mon", id="abbreviated-weekday"
        ),
        pytest.param({"end_date": D("2026-11-30")}, "schedule.endDate", "startDate", id="end-before-start"),
        pytest.param({"duration": 0}, "schedule.duration", "1440", id="duration-zero"),
        pytest.param({"duration": -5}, "schedule.duration", "1440", id="duration-negative"),
        pytest.param({"duration": 1441}, "schedule.duration", "1440", id="duration-too-long"),
        pytest.param({"duration": True}, "schedule.duration", "1440", id="duration-bool"),
        pytest.param({"duration": 60.0}, "schedule.duration", "1440", id="duration-float"),
        pytest.param({"timezone": "Mars/Olympus_Mons"}, "schedule.timezone", "Mars", id="unknown-timezone"),
        pytest.param({"timezone": ""}, "schedule.timezone", "time zone", id="empty-timezone"),
        pytest.param({"timezone": "../../etc/passwd"}, "schedule.timezone", "time zone", id="path-timezone"),
        pytest.param(
            {"timezone": "africa/cairo"}, "schedule.timezone", "time zone", id="wrong-case-timezone"
        ),
        pytest.param({"timezone": "+02:00"}, "schedule.timezone", "time zone", id="offset-timezone"),
        pytest.param(
            {"start_time": time(17, 0, tzinfo=UTC)}, "schedule.startTime", "offset", id="aware-start-time"
        ),
        pytest.param(
            {"start_time": time(17, 0, 30)}, "schedule.startTime", "minutes", id="start-time-seconds"
        ),
        pytest.param(
            {"start_date": datetime(2026, 12, 1)}, "schedule.startDate", "date", id="start-datetime"
        ),
        pytest.param({"end_date": "2027-02-28"}, "schedule.endDate", "date", id="end-string"),
        pytest.param(
            {
                "frequency": "weekly",
                "days": ("monday",),
                "start_date": D("2026-12-01"),
                "end_date": D("2026-12-06"),
            },
            "schedule.days",
            "none of",
            id="no-session-weekly",
        ),
        pytest.param(
            {
                "frequency": "biweekly",
                "days": ("sunday",),
                "start_date": D("2026-12-07"),
                "end_date": D("2026-12-12"),
            },
            "schedule.days",
            "none of",
            id="no-session-biweekly",
        ),
        pytest.param(
            {"frequency": "monthly", "start_date": D("2027-01-29"), "end_date": D("2027-12-31")},
            "schedule.startDate",
            "29",
            id="monthly-29",
        ),
        pytest.param(
            {"frequency": "monthly", "start_date": D("2027-01-30"), "end_date": D("2027-12-31")},
            "schedule.startDate",
            "30",
            id="monthly-30",
        ),
        pytest.param(
            {"frequency": "monthly", "start_date": D("2027-01-31"), "end_date": D("2027-01-31")},
            "schedule.startDate",
            "31",
            id="monthly-31",
        ),
    ],
)
def test_validate_schedule_names_the_field(changes: dict, field: str, fragment: str) -> None:
    schedule = dataclasses.replace(make(), **changes)
    with pytest.raises(ScheduleError) as err:
        validate_schedule(schedule)
    assert err.value.field == field
    assert fragment in err.value.message
    assert isinstance(err.value, ValueError)
    assert str(err.value) == f"{field}: {err.value.message}"
    with pytest.raises(ScheduleError):
        sessions(schedule)
    with pytest.raises(ScheduleError):
        plan_segments(schedule)


def test_monthly_short_month_message_is_clear() -> None:
    with pytest.raises(ScheduleError) as err:
        validate_schedule(make("monthly", (), start_date="2027-01-31", end_date="2027-06-30"))
    assert "month" in err.value.message and "1 to 28" in err.value.message


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param(make(), id="weekly"),
        pytest.param(make("daily", ("funday",)), id="daily-ignores-days"),
        pytest.param(make("monthly", (), start_date="2027-02-28", end_date="2027-02-28"), id="monthly-28"),
        pytest.param(make(duration=1), id="duration-1"),
        pytest.param(make(duration=1440), id="duration-1440"),
        pytest.param(make(tz="UTC"), id="utc"),
        pytest.param(make(tz="America/Argentina/Buenos_Aires"), id="three-part-zone"),
        pytest.param(make(start_time=time(0, 0)), id="midnight"),
        pytest.param(make(start_time=time(23, 59)), id="last-minute"),
        pytest.param(
            Schedule("weekly", ["monday"], time(9), 30, D("2026-12-01"), D("2026-12-31"), "Asia/Riyadh"),
            id="days-as-list",
        ),  # type: ignore[arg-type]
    ],
)
def test_valid_schedules_pass(schedule: Schedule) -> None:
    validate_schedule(schedule)
    assert sessions(schedule)


def test_dataclasses_are_frozen() -> None:
    schedule = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        schedule.duration = 30  # type: ignore[misc]
    (segment, *_) = plan_segments(schedule)
    with pytest.raises(dataclasses.FrozenInstanceError):
        segment.start_time_local = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        segment.sessions[0].duration = 1  # type: ignore[misc]
    assert isinstance(make(days=["monday"]).days, tuple)  # type: ignore[arg-type]


def test_sessions_are_strictly_increasing_and_in_range() -> None:
    schedule = make(
        "biweekly",
        ("tuesday", "thursday", "saturday", "sunday"),
        start_date="2026-12-03",
        end_date="2028-03-01",
        tz="America/New_York",
    )
    result = sessions(schedule)
    assert all(a.start_utc < b.start_utc for a, b in itertools.pairwise(result))
    assert all(schedule.start_date <= x.start_local.date() <= schedule.end_date for x in result)


# --------------------------------------------------------------------------------------------------
# Lazy generation and bounds (hostile schedules cost milliseconds, never an exception)
# --------------------------------------------------------------------------------------------------

from datetime import UTC as _UTC  # noqa: E402
from datetime import date as _date  # noqa: E402
from datetime import datetime as _datetime  # noqa: E402
from datetime import time as _time  # noqa: E402

from shared.zoom.recurrence import (  # noqa: E402
    MAX_SESSIONS,
    Bounds,
    check_bounds,
    count_sessions,
    iter_sessions,
)

_LAZY_CASES = [
    Schedule("daily", (), _time(17), 60, _date(2026, 1, 1), _date(2028, 3, 1), "America/New_York"),
    Schedule(
        "weekly",
        ("monday", "friday"),
        _time(2, 30),
        45,
        _date(2025, 3, 1),
        _date(2027, 12, 31),
        "America/New_York",
    ),
    Schedule(
        "biweekly",
        ("sunday", "thursday"),
        _time(7),
        30,
        _date(2025, 11, 5),
        _date(2028, 2, 1),
        "Africa/Cairo",
    ),
    Schedule(
        "biweekly",
        ("saturday",),
        _time(23, 59),
        30,
        _date(2026, 2, 3),
        _date(2027, 9, 1),
        "Pacific/Kiritimati",
    ),
    Schedule("monthly", (), _time(9), 60, _date(2024, 1, 28), _date(2030, 1, 1), "Europe/London"),
]
_AFTERS = [
    _datetime(2020, 1, 1, tzinfo=_UTC),
    _datetime(2026, 3, 8, 7, 30, tzinfo=_UTC),
    _datetime(2026, 12, 1, 22, 0, tzinfo=_UTC),
    _datetime(2027, 6, 15, 12, 0, tzinfo=_UTC),
    _datetime(2031, 1, 1, tzinfo=_UTC),
]


@pytest.mark.parametrize("schedule_", _LAZY_CASES, ids=lambda s: f"{s.frequency}-{s.timezone}")
@pytest.mark.parametrize("after", _AFTERS, ids=lambda a: a.date().isoformat())
def test_skipping_to_after_gives_the_same_sessions_as_filtering_all(schedule_, after):
    everything = sessions(schedule_)
    assert sessions(schedule_, after=after) == [x for x in everything if x.start_utc > after]
    assert count_sessions(schedule_, after=after, cap=10) == min(11, len(sessions(schedule_, after=after)))


@pytest.mark.parametrize(
    "schedule_",
    [
        Schedule("daily", (), _time(23), 60, _date(2026, 12, 1), _date(9999, 12, 31), "America/New_York"),
        Schedule("weekly", WEEKDAYS, _time(10), 60, _date(2026, 12, 1), _date(9999, 12, 31), "Asia/Tokyo"),
        Schedule("monthly", (), _time(23), 60, _date(9000, 1, 1), _date(9999, 12, 31), "America/New_York"),
        Schedule("daily", (), _time(9), 60, _date(1, 1, 2), _date(9999, 12, 31), "UTC"),
    ],
    ids=["daily-9999-new-york", "weekly-all-days-9999", "monthly-9000-9999", "year-1-to-9999"],
)
def test_counting_stops_at_the_cap_and_never_overflows(schedule_):
    assert count_sessions(schedule_, after=_datetime(2026, 12, 1, tzinfo=_UTC)) == MAX_SESSIONS + 1
    late = list(iter_sessions(schedule_, after=_datetime(9999, 12, 30, tzinfo=_UTC)))
    assert all(x.start_utc.year == 9999 for x in late)
    with pytest.raises(ScheduleError) as exc:
        plan_segments(schedule_, after=_datetime(2026, 12, 1, tzinfo=_UTC))
    assert exc.value.field == "schedule.endDate"


_TODAY = _date(2026, 12, 1)


@pytest.mark.parametrize(
    ("start", "end", "start_changed", "field"),
    [
        (_date(2026, 12, 1), _date(2027, 12, 1), True, None),
        (_date(2025, 11, 30), _date(2026, 12, 31), True, None),  # 366 days back: the edge
        (_date(2025, 11, 29), _date(2026, 12, 31), True, "schedule.startDate"),
        (_date(1, 1, 2), _date(2026, 12, 31), True, "schedule.startDate"),
        (_date(2020, 1, 1), _date(2024, 12, 31), False, None),  # an old halaka keeping its start
        (_date(2028, 12, 1), _date(2029, 1, 1), True, None),  # 731 days ahead: the edge
        (_date(2028, 12, 2), _date(2029, 1, 1), True, "schedule.startDate"),
        (_date(9999, 1, 1), _date(9999, 12, 31), False, "schedule.startDate"),
        (_date(2026, 12, 1), _date(2031, 12, 2), True, None),  # 1827 days: the edge
        (_date(2026, 12, 1), _date(2031, 12, 3), True, "schedule.endDate"),
        (_date(2026, 12, 1), _date(9999, 12, 31), True, "schedule.endDate"),
    ],
)
def test_check_bounds(start, end, start_changed, field):
    s = Schedule("daily", (), _time(9), 60, start, end, "UTC")
    if field is None:
        check_bounds(s, _TODAY, Bounds(), start_changed=start_changed)
        return
    with pytest.raises(ScheduleError) as exc:
        check_bounds(s, _TODAY, Bounds(), start_changed=start_changed)
    assert exc.value.field == field
