"""tests/zoom_spec.py itself: path mapping, spec patches, readable failures."""

from __future__ import annotations

import pytest

from tests.zoom_spec import operation_for, validate_request, validate_response

CREATE = "/users/{userId}/meetings"


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/v2/users/x@y.com/meetings", CREATE),
        ("GET", "/v2/users/x%40y.com/meetings?page_size=30", CREATE),
        ("GET", "http://127.0.0.1:9090/v2/meetings/81234567890", "/meetings/{meetingId}"),
        ("DELETE", "/meetings/81234567890", "/meetings/{meetingId}"),
        ("GET", "/v2/meetings/81234567890/token", "/meetings/{meetingId}/token"),
        ("GET", "/v2/users/abc/token", "/users/{userId}/token"),
        ("PUT", "/v2/users/abc/meetings", None),
        ("GET", "/v2/nothing/here", None),
    ],
)
def test_operation_for(method: str, path: str, template: str | None) -> None:
    assert operation_for(method, path) == template


def test_weekly_days_enum_removed_and_form_checked() -> None:
    body = {"type": 8, "recurrence": {"type": 2, "weekly_days": "2,4"}}
    validate_request("POST", CREATE, body)
    validate_request("PATCH", "/meetings/{meetingId}", body)
    for bad in ("2,", "0", "1 ,2", "12"):
        with pytest.raises(AssertionError, match="weekly_days"):
            validate_request("POST", CREATE, {"type": 8, "recurrence": {"type": 2, "weekly_days": bad}})


def test_local_start_time_allowed_in_requests_not_in_responses() -> None:
    validate_request("POST", CREATE, {"type": 2, "start_time": "2030-01-01T17:00:00", "timezone": "UTC"})
    with pytest.raises(AssertionError, match="start_time"):
        validate_response("POST", CREATE, 201, {"id": 81234567890, "start_time": "2030-01-01T17:00:00"})


def test_failures_are_readable() -> None:
    with pytest.raises(AssertionError) as caught:
        validate_response("GET", "/meetings/{meetingId}", 200, {"id": "12", "topic": 5})
    message = str(caught.value)
    assert "200 response of GET /meetings/{meetingId}" in message
    assert "at id:" in message and "at topic:" in message


def test_error_bodies_and_statuses() -> None:
    validate_response(
        "DELETE", "/meetings/{meetingId}", 404, {"code": 3001, "message": "Meeting does not exist: 1."}
    )
    validate_response("POST", CREATE, 503, {"code": 503, "message": "Service unavailable"})
    validate_response("DELETE", "/meetings/{meetingId}", 204, None)
    with pytest.raises(AssertionError, match="code: int"):
        validate_response("POST", CREATE, 500, {"error": "boom"})
    with pytest.raises(AssertionError, match="not documented"):
        validate_response("POST", CREATE, 200, {})
    with pytest.raises(AssertionError, match="no JSON body"):
        validate_request("DELETE", "/meetings/{meetingId}", {"x": 1})
    with pytest.raises(AssertionError, match="not an operation"):
        validate_request("PUT", CREATE, {})
