"""Per-second (QPS) and per-host daily rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from tests.sandbox.sandbox_helpers import HOST, OTHER_HOST, meeting_body
from tests.sandbox_fixture import ZoomApiClient
from zoomsim.control import SandboxControl

pytest_plugins = ["tests.sandbox_fixture"]

QPS_BODY = {"code": 429, "message": "You have exceeded the rate limit for this API. Please try again later."}


def test_per_second_limit_light(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    meeting = zoom_api.post(f"/users/{HOST}/meetings", json=meeting_body()).json()
    zoom_sandbox.config(rate_limits={"light": 3})
    statuses = []
    for _ in range(12):
        response = zoom_api.get(f"/meetings/{meeting['id']}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json() == QPS_BODY
            assert response.headers["Retry-After"] == "1"
            assert response.headers["X-RateLimit-Category"] == "light"
            assert response.headers["X-RateLimit-Type"] == "QPS"
    violations = statuses.count(429)
    assert violations >= 1
    assert set(statuses) == {200, 429}
    stats = zoom_sandbox.stats()
    assert stats["rate_limit_violations"] == violations
    assert stats["max_requests_in_any_second"]["light"] == 3
    assert stats["requests"]["light"] == 13
    assert stats["responses"]["429"] == violations
    logged = [e for e in zoom_sandbox.requests_log() if e["status"] == 429]
    assert len(logged) == violations and {e["fault"] for e in logged} == {"rate_limit"}


def test_list_is_medium(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.config(rate_limits={"medium": 2, "light": 100})
    responses = [zoom_api.get(f"/users/{HOST}/meetings") for _ in range(7)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited
    assert {r.headers["X-RateLimit-Category"] for r in limited} == {"medium"}
    assert zoom_api.get(f"/users/{HOST}/token", params={"type": "zak"}).status_code == 200
    stats = zoom_sandbox.stats()
    assert stats["max_requests_in_any_second"]["medium"] == 2
    assert stats["requests"]["medium"] == 7


def test_daily_limit_per_host(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.config(daily_limit=2)
    first = zoom_api.post(f"/users/{HOST}/meetings", json=meeting_body())
    assert first.status_code == 201
    assert zoom_api.patch(f"/meetings/{first.json()['id']}", json={"topic": "one update"}).status_code == 204
    blocked = zoom_api.post(f"/users/{HOST}/meetings", json=meeting_body())
    assert blocked.status_code == 429
    assert blocked.json() == {
        "code": 429,
        "message": "You have reached the maximum daily rate limit for this API. Please try again tomorrow.",
    }
    assert blocked.headers["X-RateLimit-Type"] == "Daily-limit"
    retry_at = parsedate_to_datetime(blocked.headers["Retry-After"])
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    assert retry_at == datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)
    assert zoom_api.patch(f"/meetings/{first.json()['id']}", json={"topic": "x"}).status_code == 429
    assert zoom_api.get(f"/meetings/{first.json()['id']}").status_code == 200
    assert zoom_api.post(f"/users/{OTHER_HOST}/meetings", json=meeting_body()).status_code == 201
    assert zoom_sandbox.stats()["daily_limit_hits"] == 2
    assert len(zoom_sandbox.meetings()) == 2


def test_failed_create_does_not_use_daily_quota(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    zoom_sandbox.config(daily_limit=1)
    invalid = zoom_api.post(
        f"/users/{HOST}/meetings", json=meeting_body(topic="t" * 201), check_request=False
    )
    assert invalid.status_code == 400
    assert zoom_api.post(f"/users/{HOST}/meetings", json=meeting_body()).status_code == 201
    assert zoom_api.post(f"/users/{HOST}/meetings", json=meeting_body()).status_code == 429
