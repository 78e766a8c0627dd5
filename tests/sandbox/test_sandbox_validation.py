"""Bodies Zoom rejects with 400 code 300, and whether Zoom's own spec already rejects them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.sandbox.sandbox_helpers import HOST, YEAR, local, meeting_body
from tests.sandbox_fixture import ZoomApiClient
from tests.zoom_spec import validate_request
from zoomsim.control import SandboxControl

pytest_plugins = ["tests.sandbox_fixture"]

START = local(date(YEAR, 2, 1))


def _weekly(**fields: Any) -> dict[str, Any]:
    return {"recurrence": {"type": 2, "weekly_days": "2", "end_times": 3, **fields}}


CASES: list[tuple[str, dict[str, Any], bool, str]] = [
    # id, overrides of meeting_body (None deletes the key), spec rejects too, field named in message
    ("type-missing", {"type": None}, False, "type"),
    ("type-unknown", {"type": 5}, True, "type"),
    ("topic-too-long", {"topic": "t" * 201}, True, "topic"),
    ("agenda-too-long", {"agenda": "a" * 2001}, True, "agenda"),
    ("password-too-long", {"password": "abcdefghijk"}, True, "password"),
    ("password-bad-char", {"password": "abc#12"}, False, "password"),
    ("duration-zero", {"duration": 0}, True, "duration"),
    ("both-ends", _weekly(end_date_time=f"{YEAR}-03-01T00:00:00Z"), False, "end_times"),
    ("end-times-51", _weekly(end_times=51), False, "end_times"),
    ("end-date-too-far", _weekly(end_times=None, end_date_time=f"{YEAR + 2}-01-01T00:00:00Z"), False, "50"),
    (
        "end-date-not-utc",
        _weekly(end_times=None, end_date_time=f"{YEAR}-03-01T00:00:00"),
        True,
        "end_date_time",
    ),
    ("daily-interval-91", {"recurrence": {"type": 1, "repeat_interval": 91}}, False, "repeat_interval"),
    ("weekly-interval-13", _weekly(repeat_interval=13), False, "repeat_interval"),
    (
        "monthly-interval-4",
        {"recurrence": {"type": 3, "monthly_day": 2, "repeat_interval": 4}},
        False,
        "repeat_interval",
    ),
    ("weekly-days-8", _weekly(weekly_days="8"), True, "weekly_days"),
    ("weekly-days-semicolon", _weekly(weekly_days="1;3"), True, "weekly_days"),
    ("weekly-days-missing", {"recurrence": {"type": 2, "end_times": 2}}, False, "weekly_days"),
    ("monthly-day-0", {"recurrence": {"type": 3, "monthly_day": 0}}, False, "monthly_day"),
    ("monthly-day-32", {"recurrence": {"type": 3, "monthly_day": 32}}, False, "monthly_day"),
    (
        "monthly-week",
        {"recurrence": {"type": 3, "monthly_week": 1, "monthly_week_day": 2}},
        False,
        "monthly_week",
    ),
    ("recurrence-type-4", {"recurrence": {"type": 4}}, True, "recurrence.type"),
    ("recurrence-missing", {"recurrence": None}, False, "recurrence"),
    ("start-unparsable", {"start_time": "next tuesday"}, True, "start_time"),
    ("start-bad-date", {"start_time": f"{YEAR}-02-30T10:00:00"}, True, "start_time"),
    ("timezone-unknown", {"timezone": "Mars/Olympus_Mons"}, False, "timezone"),
]


def _body(overrides: dict[str, Any]) -> dict[str, Any]:
    body = meeting_body(start_time=START)
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    if isinstance(body.get("recurrence"), dict):
        body["recurrence"] = {k: v for k, v in body["recurrence"].items() if v is not None}
    return body


@pytest.mark.parametrize(
    ("overrides", "spec_rejects", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_create_rejected(
    zoom_sandbox: SandboxControl,
    zoom_api: ZoomApiClient,
    overrides: dict[str, Any],
    spec_rejects: bool,
    field: str,
) -> None:
    body = _body(overrides)
    if spec_rejects:
        with pytest.raises(AssertionError):
            validate_request("POST", "/users/{userId}/meetings", body)
    else:
        validate_request("POST", "/users/{userId}/meetings", body)
    response = zoom_api.post(f"/users/{HOST}/meetings", json=body, check_request=False)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == 300
    assert field in error["message"]
    assert zoom_sandbox.meetings() == []


def test_body_that_is_not_an_object(zoom_api: ZoomApiClient) -> None:
    response = zoom_api.post(f"/users/{HOST}/meetings", json=["not", "an", "object"], check_request=False)
    assert response.status_code == 400
    assert response.json()["code"] == 300


def test_limits_themselves_are_accepted(zoom_api: ZoomApiClient) -> None:
    body = meeting_body(
        start_time=START,
        topic="t" * 200,
        agenda="a" * 2000,
        password="aZ9@-_*!xY",
        recurrence={"type": 2, "weekly_days": "1,2,3,4,5,6,7", "repeat_interval": 12, "end_times": 50},
    )
    response = zoom_api.post(f"/users/{HOST}/meetings", json=body)
    assert response.status_code == 201, response.text
    assert len(response.json()["occurrences"]) == 50
    for recurrence in (
        {"type": 1, "repeat_interval": 90, "end_times": 2},
        {"type": 3, "monthly_day": 28, "repeat_interval": 3, "end_times": 2},
    ):
        ok = zoom_api.post(
            f"/users/{HOST}/meetings", json=meeting_body(start_time=START, recurrence=recurrence)
        )
        assert ok.status_code == 201, ok.text
