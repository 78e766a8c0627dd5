"""Zoom error responses become typed errors, whatever the body looks like."""

from __future__ import annotations

import json

import pytest

from shared.zoom.errors import (
    ZoomAuthError,
    ZoomConfigError,
    ZoomError,
    ZoomInvalidRequest,
    ZoomNotFound,
    ZoomRateLimited,
    ZoomTransientError,
    parse_error,
)


def body(code: int, message: str) -> str:
    return json.dumps({"code": code, "message": message})


@pytest.mark.parametrize(
    ("status", "code", "expected", "permanent"),
    [
        (400, 300, ZoomInvalidRequest, True),
        (400, 3161, ZoomInvalidRequest, True),
        (403, 2306, ZoomInvalidRequest, True),
        (404, 1001, ZoomNotFound, True),
        (404, 3001, ZoomNotFound, True),
        (401, 124, ZoomAuthError, True),
        (429, 429, ZoomRateLimited, False),
        (429, 4001, ZoomRateLimited, False),
        (500, 500, ZoomTransientError, False),
        (503, 503, ZoomTransientError, False),
    ],
)
def test_status_and_code_map_to_types(status, code, expected, permanent):
    error = parse_error(status, {"x-zm-trackingid": "WEB_abc"}, body(code, "boom"))
    assert type(error) is expected
    assert (error.status, error.code, error.message, error.tracking_id) == (status, code, "boom", "WEB_abc")
    assert error.permanent is permanent
    assert isinstance(error, ZoomError)


def test_rate_limit_code_in_a_non_429_status_is_still_a_rate_limit():
    error = parse_error(400, {}, body(4001, "You have reached the maximum per-second rate limit"))
    assert isinstance(error, ZoomRateLimited)


@pytest.mark.parametrize(
    ("headers", "message", "daily"),
    [
        ({"X-RateLimit-Type": "Daily-limit"}, "Too many requests", True),
        ({}, "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests", True),
        ({"X-RateLimit-Type": "QPS"}, "You have exceeded the rate limit for this API.", False),
        ({}, "Too many requests", False),
    ],
)
def test_daily_limit_is_recognised_by_header_or_message(headers, message, daily):
    error = parse_error(429, headers, body(429, message))
    assert isinstance(error, ZoomRateLimited)
    assert error.daily is daily


def test_retry_after_header_is_parsed_case_insensitively():
    error = parse_error(429, {"retry-after": "7"}, body(429, "slow down"))
    assert isinstance(error, ZoomRateLimited)
    assert error.retry_after == 7.0
    assert parse_error(429, {}, "").retry_after is None


@pytest.mark.parametrize(
    "raw",
    [b"<html>502 Bad Gateway</html>", b"", None, b"[1, 2]", b'{"code": "abc"}', b"\xff\xfe", b"null"],
)
def test_non_json_or_odd_bodies_never_raise(raw):
    error = parse_error(502, {}, raw)
    assert isinstance(error, ZoomTransientError)
    assert error.code is None
    assert error.message


def test_numeric_string_code_and_oauth_shaped_body():
    assert parse_error(404, {}, b'{"code": "3001", "message": "gone"}').code == 3001
    oauth = parse_error(
        401, {}, b'{"reason": "Invalid client_id or client_secret", "error": "invalid_client"}'
    )
    assert isinstance(oauth, ZoomAuthError)
    assert oauth.message == "Invalid client_id or client_secret"


def test_unknown_404_without_code_is_not_found():
    assert isinstance(parse_error(404, {}, b"Not Found"), ZoomNotFound)


def test_long_non_json_body_is_trimmed_to_a_snippet():
    error = parse_error(500, {}, "x" * 5000)
    assert len(error.message) <= 300


def test_config_error_is_permanent_and_instance_can_override():
    assert ZoomConfigError("missing").permanent is True
    assert ZoomAuthError("odd", permanent=False).permanent is False
    assert ZoomAuthError("odd").permanent is True


def test_str_shows_status_and_code():
    assert (
        str(ZoomNotFound("Meeting does not exist: 1.", 404, 3001))
        == "Meeting does not exist: 1. status=404 code=3001"
    )
