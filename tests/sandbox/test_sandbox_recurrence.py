"""Recurrence expansion into occurrences, including DST changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from tests.sandbox.sandbox_helpers import (
    HOST,
    YEAR,
    last_sunday,
    local,
    local_starts,
    meeting_body,
    next_weekday,
    nth_sunday,
    utc_hours,
)
from tests.sandbox_fixture import ZoomApiClient

pytest_plugins = ["tests.sandbox_fixture"]


def _create(
    api: ZoomApiClient, start: str, tz: str, recurrence: dict[str, Any], duration: int = 60
) -> dict[str, Any]:
    body = meeting_body(start_time=start, timezone=tz, recurrence=recurrence, duration=duration)
    response = api.post(f"/users/{HOST}/meetings", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _days(meeting: dict[str, Any]) -> list[str]:
    return [s.split()[0] for s in local_starts(meeting)]


def test_occurrence_shape(zoom_api: ZoomApiClient) -> None:
    meeting = _create(zoom_api, local(date(YEAR, 5, 4), "08:00"), "UTC", {"type": 1, "end_times": 3}, 40)
    first = meeting["occurrences"][0]
    assert first == {
        "occurrence_id": str(int(datetime.fromisoformat(first["start_time"]).timestamp() * 1000)),
        "start_time": f"{YEAR}-05-04T08:00:00Z",
        "duration": 40,
        "status": "available",
    }


def test_daily_every_third_day(zoom_api: ZoomApiClient) -> None:
    start = date(YEAR, 4, 28)
    meeting = _create(
        zoom_api, local(start, "06:30"), "Asia/Karachi", {"type": 1, "repeat_interval": 3, "end_times": 4}
    )
    assert _days(meeting) == [str(start + timedelta(days=3 * i)) for i in range(4)]
    assert {s.split()[1] for s in local_starts(meeting)} == {"06:30"}
    assert meeting["occurrences"][0]["start_time"] == f"{YEAR}-04-28T01:30:00Z"


def test_default_end_is_one_occurrence(zoom_api: ZoomApiClient) -> None:
    meeting = _create(zoom_api, local(date(YEAR, 4, 28)), "UTC", {"type": 1})
    assert len(meeting["occurrences"]) == 1
    assert meeting["recurrence"]["end_times"] == 1


def test_weekly_several_days_from_midweek_start(zoom_api: ZoomApiClient) -> None:
    wednesday = next_weekday(date(YEAR, 6, 1), 2)
    meeting = _create(
        zoom_api, local(wednesday), "Europe/Berlin", {"type": 2, "weekly_days": "1,2,5", "end_times": 5}
    )
    sunday = wednesday + timedelta(days=4)
    expected = [
        wednesday + timedelta(days=1),
        sunday,
        sunday + timedelta(days=1),
        sunday + timedelta(days=4),
        sunday + timedelta(days=7),
    ]
    assert _days(meeting) == [str(d) for d in expected]
    assert meeting["start_time"] == meeting["occurrences"][0]["start_time"]


def test_biweekly_counts_weeks_from_start_week(zoom_api: ZoomApiClient) -> None:
    wednesday = next_weekday(date(YEAR, 6, 1), 2)
    meeting = _create(
        zoom_api,
        local(wednesday),
        "UTC",
        {"type": 2, "repeat_interval": 2, "weekly_days": "2,5", "end_times": 5},
    )
    monday = wednesday - timedelta(days=2)
    expected = [
        wednesday + timedelta(days=1),
        monday + timedelta(weeks=2),
        wednesday + timedelta(weeks=2, days=1),
        monday + timedelta(weeks=4),
        wednesday + timedelta(weeks=4, days=1),
    ]
    assert _days(meeting) == [str(d) for d in expected]


def test_monthly_skips_months_without_the_day(zoom_api: ZoomApiClient) -> None:
    meeting = _create(
        zoom_api,
        local(date(YEAR, 1, 31), "19:00"),
        "Africa/Cairo",
        {"type": 3, "monthly_day": 31, "end_times": 4},
    )
    assert _days(meeting) == [f"{YEAR}-01-31", f"{YEAR}-03-31", f"{YEAR}-05-31", f"{YEAR}-07-31"]


def test_monthly_every_two_months_from_later_day(zoom_api: ZoomApiClient) -> None:
    meeting = _create(
        zoom_api,
        local(date(YEAR, 1, 20)),
        "UTC",
        {"type": 3, "monthly_day": 15, "repeat_interval": 2, "end_times": 3},
    )
    assert _days(meeting) == [f"{YEAR}-03-15", f"{YEAR}-05-15", f"{YEAR}-07-15"]


def test_weekly_keeps_local_time_across_spring_forward_new_york(zoom_api: ZoomApiClient) -> None:
    dst_start = nth_sunday(YEAR, 3, 2)
    meeting = _create(
        zoom_api,
        local(dst_start - timedelta(days=13)),
        "America/New_York",
        {"type": 2, "weekly_days": "3", "end_times": 4},
    )
    assert {s.split()[1] for s in local_starts(meeting)} == {"17:00"}
    hours = [datetime.fromisoformat(o["start_time"]).hour for o in meeting["occurrences"]]
    assert hours == [22, 22, 21, 21]


def test_weekly_keeps_local_time_across_fall_back_london(zoom_api: ZoomApiClient) -> None:
    dst_end = last_sunday(YEAR, 10)
    meeting = _create(
        zoom_api,
        local(dst_end - timedelta(days=8)),
        "Europe/London",
        {"type": 2, "weekly_days": "6", "end_times": 3},
    )
    assert {s.split()[1] for s in local_starts(meeting)} == {"17:00"}
    assert utc_hours(meeting) == {16, 17}
    assert [datetime.fromisoformat(o["start_time"]).hour for o in meeting["occurrences"]] == [16, 17, 17]


def test_utc_start_expands_in_meeting_timezone(zoom_api: ZoomApiClient) -> None:
    dst_start = nth_sunday(YEAR, 3, 2)
    first = dst_start - timedelta(days=1)
    meeting = _create(zoom_api, f"{first}T22:00:00Z", "America/New_York", {"type": 1, "end_times": 3})
    assert local_starts(meeting) == [f"{first + timedelta(days=i)} 17:00" for i in range(3)]


def test_end_date_time_is_inclusive(zoom_api: ZoomApiClient) -> None:
    start = date(YEAR, 8, 3)
    end = f"{start + timedelta(days=4)}T10:00:00Z"
    meeting = _create(zoom_api, local(start, "10:00"), "UTC", {"type": 1, "end_date_time": end})
    assert len(meeting["occurrences"]) == 5
    assert meeting["occurrences"][-1]["start_time"] == end
    assert meeting["recurrence"]["end_date_time"] == end
    assert "end_times" not in meeting["recurrence"]


def test_fifty_occurrences_is_the_maximum(zoom_api: ZoomApiClient) -> None:
    meeting = _create(zoom_api, local(date(YEAR, 2, 1)), "UTC", {"type": 1, "end_times": 50})
    assert len(meeting["occurrences"]) == 50
    too_many = {"type": 1, "end_date_time": f"{YEAR}-03-23T17:00:00Z"}
    response = zoom_api.post(
        f"/users/{HOST}/meetings",
        json=meeting_body(start_time=local(date(YEAR, 2, 1)), timezone="UTC", recurrence=too_many),
    )
    assert response.status_code == 400
    assert response.json()["code"] == 300
    assert "50" in response.json()["message"]
