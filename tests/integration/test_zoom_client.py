"""The Zoom client against the sandbox over HTTP and the real Redis: meetings, ZAK, errors, OAuth.

Every request body the client sends is checked against Zoom's OpenAPI spec through `on_request`.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import redis

from shared.settings import Settings
from shared.zoom.backoff import seconds_until_utc_midnight
from shared.zoom.client import ZoomClient
from shared.zoom.errors import (
    ZoomAuthError,
    ZoomInvalidRequest,
    ZoomNotFound,
    ZoomRateLimited,
    ZoomTransientError,
)
from shared.zoom.rate_budget import RateBudget
from tests.integration.conftest_zoom import all_errors, run_in_processes, sandbox_settings, spec_checking_hook
from zoomsim.control import SandboxControl

HOST = "teacher@example.com"
FAST = {"light": 1000, "medium": 1000, "heavy": 1000}


def weekly_payload(**changes: Any) -> dict[str, Any]:
    payload = {
        "topic": "Halaka: Surat Al-Baqara",
        "type": 8,
        "start_time": "2030-01-06T18:00:00",
        "timezone": "Asia/Riyadh",
        "duration": 60,
        "password": "aB3-x_9*",
        "agenda": "Weekly circle\n[halaka-key:4f1c]",
        "recurrence": {"type": 2, "repeat_interval": 1, "weekly_days": "1,3", "end_times": 4},
        "settings": {"join_before_host": False, "waiting_room": True},
    }
    return {**payload, **changes}


@pytest.fixture
def settings(database_url: str, redis_url: str, zoom_sandbox: SandboxControl) -> Settings:
    return sandbox_settings(database_url, redis_url, zoom_sandbox)


@pytest.fixture
def sent() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def zoom(settings: Settings, rds: redis.Redis, sent: list[tuple[str, str]]) -> ZoomClient:
    return ZoomClient(settings, rds, on_request=spec_checking_hook(sent))


def test_meeting_lifecycle(zoom: ZoomClient, zoom_sandbox: SandboxControl, sent):
    created = zoom.create_meeting(HOST, weekly_payload())
    meeting_id = created["id"]
    assert len(created["occurrences"]) == 4
    assert created["agenda"] == "Weekly circle\n[halaka-key:4f1c]"

    assert zoom.get_meeting(meeting_id)["topic"] == "Halaka: Surat Al-Baqara"
    assert zoom.update_meeting(meeting_id, {"topic": "Halaka: Al-Imran"}) is None
    assert zoom.get_meeting(meeting_id)["topic"] == "Halaka: Al-Imran"

    listed = list(zoom.list_meetings(HOST))
    assert [m["id"] for m in listed] == [meeting_id]
    assert listed[0]["agenda"] == created["agenda"]

    assert zoom.delete_meeting(meeting_id) is True
    assert zoom.delete_meeting(meeting_id) is False, "3001 on a repeated delete means already gone"
    assert zoom_sandbox.meetings() == []
    assert sent == [
        ("POST", "/users/{userId}/meetings"),
        ("GET", "/meetings/{meetingId}"),
        ("PATCH", "/meetings/{meetingId}"),
        ("GET", "/meetings/{meetingId}"),
        ("GET", "/users/{userId}/meetings"),
        ("DELETE", "/meetings/{meetingId}"),
        ("DELETE", "/meetings/{meetingId}"),
    ]


def test_zak_always_asks_for_type_zak_and_quotes_the_user(zoom: ZoomClient, zoom_sandbox: SandboxControl):
    zoom_sandbox.add_user("first+halaka@example.com")
    assert len(zoom.get_zak("first+halaka@example.com")) > 20
    entry = zoom_sandbox.requests_log()[-1]
    assert entry["query"] == {"type": "zak"}
    assert entry["status"] == 200
    assert zoom_sandbox.stats()["zak_wrong_type"] == 0


def test_list_follows_next_page_token(database_url, redis_url, zoom_sandbox: SandboxControl, rds, sent):
    zoom_sandbox.config(rate_limits=FAST, daily_limit=1000)
    settings = sandbox_settings(
        database_url,
        redis_url,
        zoom_sandbox,
        zoom_rate_light=1000,
        zoom_rate_medium=1000,
        zoom_rate_heavy=1000,
    )
    zoom = ZoomClient(settings, rds, on_request=spec_checking_hook(sent))
    created = {zoom.create_meeting(HOST, weekly_payload(topic=f"Halaka {i}"))["id"] for i in range(301)}
    listed = [m["id"] for m in zoom.list_meetings(HOST)]
    assert sorted(listed) == sorted(created)
    assert sent.count(("GET", "/users/{userId}/meetings")) == 2
    assert {e["query"].get("page_size") for e in zoom_sandbox.requests_log() if e["operation"] == "list"} == {
        "300"
    }


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda z: z.create_meeting("nobody@example.com", weekly_payload()), 1001),
        (lambda z: z.get_zak("nobody@example.com"), 1001),
        (lambda z: list(z.list_meetings("nobody@example.com")), 1001),
        (lambda z: z.get_meeting(12345678901), 3001),
        (lambda z: z.update_meeting(12345678901, {"topic": "x"}), 3001),
    ],
)
def test_unknown_user_and_meeting_are_not_found(zoom: ZoomClient, call, code):
    with pytest.raises(ZoomNotFound) as info:
        call(zoom)
    assert info.value.code == code
    assert info.value.permanent
    assert info.value.tracking_id


def test_user_who_may_not_host_is_a_permanent_invalid_request(zoom: ZoomClient, zoom_sandbox: SandboxControl):
    zoom_sandbox.add_user("guest@example.com", can_host=False)
    with pytest.raises(ZoomInvalidRequest) as info:
        zoom.create_meeting("guest@example.com", weekly_payload())
    assert (info.value.status, info.value.code, info.value.permanent) == (400, 3161, True)


def test_validation_error_carries_zoom_code_and_message(settings: Settings, rds):
    unchecked = ZoomClient(settings, rds)
    with pytest.raises(ZoomInvalidRequest) as info:
        unchecked.create_meeting(HOST, weekly_payload(password="far-too-long-password"))
    assert info.value.code == 300
    assert info.value.message


@pytest.mark.parametrize(
    ("form", "value", "low", "high"),
    [("seconds", 2, 2.0, 2.0), ("http-date", 3, 1.0, 3.0), ("none", 1, None, None)],
)
def test_429_retry_after_forms(
    zoom: ZoomClient, zoom_sandbox: SandboxControl, rds, settings, form, value, low, high
):
    zoom_sandbox.fault(kind="429", count=1, retry_after=form, value=value)
    with pytest.raises(ZoomRateLimited) as info:
        zoom.get_zak(HOST)
    error = info.value
    assert error.status == 429 and not error.daily and not error.permanent
    if low is None:
        assert error.retry_after is None
    else:
        assert low <= error.retry_after <= high
    paused = RateBudget.from_settings(settings, rds).paused_for("light")
    assert 0 < paused <= (high or 1.0), "a 429 pauses the category for every process"


def test_429_pause_holds_other_callers_back_without_calling_zoom(zoom, zoom_sandbox, settings, rds):
    zoom_sandbox.fault(kind="429", count=1, retry_after="seconds", value=5)
    with pytest.raises(ZoomRateLimited):
        zoom.get_zak(HOST)
    sent_before = len(zoom_sandbox.requests_log())
    other_process = ZoomClient(settings, rds, budget_timeout=1.0)
    with pytest.raises(ZoomRateLimited) as info:
        other_process.get_zak(HOST)
    assert info.value.status is None and 4 < info.value.retry_after <= 5
    assert len(zoom_sandbox.requests_log()) == sent_before


def test_daily_limit_is_flagged_and_does_not_pause_everyone(zoom, zoom_sandbox, settings, rds):
    zoom_sandbox.config(daily_limit=1)
    zoom.create_meeting(HOST, weekly_payload())
    with pytest.raises(ZoomRateLimited) as info:
        zoom.create_meeting(HOST, weekly_payload())
    assert info.value.daily is True
    assert abs(info.value.retry_after - seconds_until_utc_midnight()) < 5
    assert RateBudget.from_settings(settings, rds).paused_for("light") == 0
    assert zoom.get_zak(HOST)


def test_server_errors_and_dropped_connections_are_transient(zoom: ZoomClient, zoom_sandbox: SandboxControl):
    zoom_sandbox.fault(kind="error", status=503)
    with pytest.raises(ZoomTransientError) as info:
        zoom.get_meeting(1)
    assert info.value.status == 503 and not info.value.permanent
    zoom_sandbox.fault(kind="hang", seconds=0.1)
    with pytest.raises(ZoomTransientError):
        zoom.get_zak(HOST)


def test_read_timeout_is_transient(database_url, redis_url, zoom_sandbox: SandboxControl, rds):
    settings = sandbox_settings(database_url, redis_url, zoom_sandbox, zoom_timeout_read=0.3)
    zoom = ZoomClient(settings, rds)
    zoom.get_zak(HOST)
    zoom_sandbox.fault(kind="hold", match="zak", seconds=1.5)
    with pytest.raises(ZoomTransientError, match="timed out"):
        zoom.get_zak(HOST)


def test_wrong_credentials_are_a_permanent_auth_error(database_url, redis_url, zoom_sandbox, rds):
    settings = sandbox_settings(database_url, redis_url, zoom_sandbox, zoom_client_secret="wrong-secret")
    with pytest.raises(ZoomAuthError) as info:
        ZoomClient(settings, rds).get_zak(HOST)
    assert info.value.permanent
    assert "wrong-secret" not in str(info.value)


def test_one_token_for_200_calls_from_4_processes_and_one_refresh_after_revoke(
    settings: Settings, zoom_sandbox: SandboxControl
):
    zoom_sandbox.config(rate_limits=FAST)
    fast = settings.model_copy(update={"zoom_rate_light": 1000.0})
    reports, elapsed = run_in_processes(fast, "get_zak", (HOST,), processes=4, calls=50, threads=5)
    assert all_errors(reports) == []
    assert sum(r.calls for r in reports) == 200
    assert len({r.pid for r in reports} | {os.getpid()}) == 5
    stats = zoom_sandbox.stats()
    print(
        f"\n200 ZAK calls, 4 processes x 5 threads, {elapsed:.2f}s: {stats['token_requests']} token requests"
    )
    assert stats["token_requests"] == 1

    assert zoom_sandbox.revoke_tokens() >= 1
    reports, _ = run_in_processes(fast, "get_zak", (HOST,), processes=4, calls=10, threads=5)
    assert all_errors(reports) == []
    stats = zoom_sandbox.stats()
    print(f"after revoking: {stats['token_requests']} token requests in all")
    assert stats["token_requests"] == 2


def test_revoked_token_is_refreshed_once_and_the_call_succeeds(
    zoom: ZoomClient, zoom_sandbox: SandboxControl
):
    zoom.get_zak(HOST)
    zoom_sandbox.revoke_tokens()
    assert zoom.get_zak(HOST)
    assert zoom_sandbox.stats()["token_requests"] == 2
    statuses = [e["status"] for e in zoom_sandbox.requests_log() if e["operation"] == "zak"]
    assert statuses == [200, 401, 200]
