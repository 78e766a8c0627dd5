"""Injected faults: one-shot queue, random error/timeout rates, latency and outage."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
import requests

from tests.sandbox.sandbox_helpers import HOST, meeting_body
from tests.sandbox_fixture import ZoomApiClient
from zoomsim.control import SandboxControl, SandboxError

pytest_plugins = ["tests.sandbox_fixture"]

CREATE = f"/users/{HOST}/meetings"


def _create(api: ZoomApiClient, **kwargs: object) -> requests.Response:
    return api.post(CREATE, json=meeting_body(), **kwargs)  # type: ignore[arg-type]


def _assert_connection_error(exc: BaseException) -> None:
    """A dropped connection must look like one to a ``requests`` client, not like a response."""
    assert isinstance(exc, requests.ConnectionError), repr(exc)


def test_429_with_retry_after_seconds(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.fault(kind="429", count=2, retry_after="seconds", value=2, match="create")
    assert zoom_api.get(CREATE).status_code == 200
    for _ in range(2):
        response = _create(zoom_api)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "2"
        assert response.headers["X-RateLimit-Type"] == "QPS"
        assert response.json()["code"] == 429
    assert _create(zoom_api).status_code == 201
    stats = zoom_sandbox.stats()
    assert stats["faults_injected"] == 2 and stats["rate_limit_violations"] == 0


def test_429_with_retry_after_http_date(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.fault(kind="429", retry_after="http-date", value=30)
    response = zoom_api.get(CREATE)
    assert response.status_code == 429
    delay = (parsedate_to_datetime(response.headers["Retry-After"]) - datetime.now(UTC)).total_seconds()
    assert 25 <= delay <= 31


def test_429_without_retry_after(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.fault(kind="429", retry_after="none")
    response = zoom_api.get(CREATE)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("status", [500, 502, 503])
def test_error_fault(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient, status: int) -> None:
    zoom_sandbox.fault(kind="error", status=status, count=2, match="create")
    assert zoom_api.get(CREATE).status_code == 200
    assert [_create(zoom_api).status_code for _ in range(3)] == [status, status, 201]
    assert len(zoom_sandbox.meetings()) == 1
    assert zoom_sandbox.pending_faults() == []


def test_fault_for_token_endpoint_only_by_name(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.fault(kind="error", match="any")
    zoom_api.token()
    assert zoom_api.get(CREATE).status_code == 500
    zoom_sandbox.fault(kind="error", status=503, match="token")
    with pytest.raises(requests.HTTPError):
        zoom_sandbox.access_token()
    assert zoom_sandbox.access_token()


def test_commit_then_500(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.fault(kind="commit_then_fail", mode="500")
    response = _create(zoom_api)
    assert response.status_code == 500
    assert response.json() == {"code": 500, "message": "Internal server error"}
    stored = zoom_sandbox.meetings()
    assert len(stored) == 1 and stored[0]["agenda"] == meeting_body()["agenda"]
    entry = zoom_sandbox.requests_log()[-1]
    assert (entry["status"], entry["fault"]) == (500, "commit_then_fail:500")


def test_commit_then_drop(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.fault(kind="commit_then_fail", mode="drop")
    with pytest.raises(requests.RequestException) as caught:
        _create(zoom_api)
    _assert_connection_error(caught.value)
    assert len(zoom_sandbox.meetings()) == 1
    entry = zoom_sandbox.requests_log()[-1]
    assert (entry["status"], entry["fault"]) == (None, "commit_then_fail:drop")
    assert zoom_sandbox.stats()["responses"]["dropped"] == 1
    assert _create(zoom_api).status_code == 201


def test_hold_then_process(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.fault(kind="hold", seconds=0.5)
    started = time.monotonic()
    assert _create(zoom_api).status_code == 201
    assert time.monotonic() - started >= 0.5


def test_hold_creates_even_after_client_gave_up(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    zoom_sandbox.fault(kind="hold", seconds=0.8)
    with pytest.raises(requests.Timeout):
        _create(zoom_api, timeout=0.2)
    assert zoom_sandbox.meetings() == []
    zoom_sandbox.wait_until(lambda: len(zoom_sandbox.meetings()) == 1, timeout=3)


def test_hang_drops_connection_and_creates_nothing(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    zoom_sandbox.fault(kind="hang", seconds=0.3)
    started = time.monotonic()
    with pytest.raises(requests.RequestException) as caught:
        _create(zoom_api)
    assert time.monotonic() - started >= 0.3
    _assert_connection_error(caught.value)
    zoom_sandbox.fault(kind="hang", seconds=0.6)
    with pytest.raises(requests.Timeout):
        _create(zoom_api, timeout=0.2)
    time.sleep(0.6)
    assert zoom_sandbox.meetings() == []
    assert [e["fault"] for e in zoom_sandbox.requests_log() if e["operation"] == "create"] == ["hang", "hang"]


def test_malformed_answers_2xx_with_an_empty_object_and_does_nothing(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    zoom_sandbox.fault(kind="malformed", count=2, match="any")
    created = _create(zoom_api)
    assert (created.status_code, created.json()) == (201, {})
    listed = zoom_api.get(CREATE)
    assert (listed.status_code, listed.json()) == (200, {})
    assert zoom_sandbox.meetings() == []
    assert [r["fault"] for r in zoom_sandbox.requests_log()[-2:]] == ["malformed", "malformed"]


def test_error_rate(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.config(error_rate=1.0)
    response = zoom_api.get(CREATE)
    assert response.status_code == 500
    assert response.json() == {"code": 500, "message": "Internal server error"}
    assert zoom_api.token(refresh=True)
    zak = f"/users/{HOST}/token"
    zoom_sandbox.config(error_rate=0.5, seed=7)
    first = [zoom_api.get(zak, params={"type": "zak"}).status_code for _ in range(10)]
    zoom_sandbox.config(seed=7)
    second = [zoom_api.get(zak, params={"type": "zak"}).status_code for _ in range(10)]
    assert first == second and set(first) == {200, 500}


def test_timeout_rate(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.config(timeout_rate=1.0, hang_seconds=0.3)
    with pytest.raises(requests.RequestException) as caught:
        _create(zoom_api)
    _assert_connection_error(caught.value)
    assert zoom_sandbox.meetings() == []


def test_latency(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.config(latency_ms=300)
    started = time.monotonic()
    zoom_api.token()
    assert zoom_api.get(CREATE).status_code == 200
    assert time.monotonic() - started >= 0.6


def test_outage(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    token = zoom_api.token()
    zoom_sandbox.config(outage=True, latency_ms=2000)
    started = time.monotonic()
    assert zoom_api.get(CREATE, token=token).status_code == 503
    with pytest.raises(requests.HTTPError) as caught:
        zoom_sandbox.access_token()
    assert caught.value.response.status_code == 503
    assert time.monotonic() - started < 1
    zoom_sandbox.config(outage=False, latency_ms=0)
    assert zoom_api.get(CREATE, token=token).status_code == 200


def test_bad_fault_and_config_are_rejected(zoom_sandbox: SandboxControl) -> None:
    for fault in ({"kind": "explode"}, {"kind": "error", "status": 404}, {"kind": "429", "match": "nothing"}):
        with pytest.raises(SandboxError):
            zoom_sandbox.fault(**fault)
    for change in ({"error_rate": 2}, {"rate_limits": {"light": 0}}, {"bogus": 1}):
        with pytest.raises(SandboxError):
            zoom_sandbox.config(**change)
    assert zoom_sandbox.pending_faults() == []


def test_reset_clears_everything(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    token = zoom_api.token()
    _create(zoom_api)
    zoom_sandbox.fault(kind="error", count=5)
    zoom_sandbox.config(latency_ms=10, daily_limit=1)
    zoom_sandbox.reset()
    assert zoom_sandbox.meetings() == [] and zoom_sandbox.pending_faults() == []
    assert zoom_sandbox.requests_log() == []
    assert zoom_sandbox.config()["daily_limit"] == 100 and zoom_sandbox.config()["latency_ms"] == 0
    assert zoom_sandbox.stats()["token_requests"] == 0
    assert zoom_api.get(CREATE, token=token).status_code == 401
