"""The shared OAuth token: request format, caching, near-expiry refresh, single flight, the 124 path.

Zoom is mocked with `responses`; Redis is the real test Redis (the lock and compare-and-delete are Lua).
"""

from __future__ import annotations

import base64
import logging
import threading
import time

import pytest
import redis
import requests
import responses

from shared.settings import Settings
from shared.zoom.client import ZoomClient
from shared.zoom.errors import ZoomAuthError, ZoomConfigError, ZoomInvalidRequest, ZoomTransientError
from shared.zoom.oauth import TokenProvider, credentials_from
from shared.zoom.rate_budget import RateBudget
from stack.embedded import free_port

BASE = "https://zoom.test/v2"
OAUTH = "https://zoom.test/oauth/token"
SECRET = "unit-client-secret"
TOKEN_KEY = "zoom:oauth:unit-client:token"
MEETING_URL = f"{BASE}/meetings/85746065"
INVALID_TOKEN = {"code": 124, "message": "Invalid access token."}


UNUSED_DATABASE = "postgresql://unused@127.0.0.1:1/none"  # the client never touches the database


def make_settings(redis_url: str, **overrides) -> Settings:
    values = {
        "database_url": UNUSED_DATABASE,
        "redis_url": redis_url,
        "zoom_account_id": "unit-account",
        "zoom_client_id": "unit-client",
        "zoom_client_secret": SECRET,
        "zoom_api_base_url": BASE,
        "zoom_oauth_url": OAUTH,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return make_settings(redis_url)


@pytest.fixture
def client(settings: Settings, rds: redis.Redis) -> ZoomClient:
    unlimited = RateBudget(rds, {"light": 1e6, "medium": 1e6, "heavy": 1e6}, scope="unit")
    return ZoomClient(settings, rds, rate_budget=unlimited)


def token_reply(token: str, expires_in: int = 3600) -> responses.BaseResponse:
    return responses.post(
        OAUTH,
        json={
            "access_token": token,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": "meeting:read",
        },
    )


def token_calls() -> list:
    return [c for c in responses.calls if c.request.url == OAUTH]


def bearer(call) -> str:
    return call.request.headers["Authorization"].removeprefix("Bearer ")


@responses.activate
def test_token_request_is_form_encoded_with_basic_auth(settings, rds):
    token_reply("tok-1")
    assert TokenProvider(settings, rds).token() == "tok-1"
    request = token_calls()[0].request
    assert request.method == "POST"
    assert request.body == "grant_type=account_credentials&account_id=unit-account"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(f"unit-client:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


@responses.activate
def test_token_is_shared_through_redis_and_kept_in_process(settings, rds):
    token_reply("tok-1")
    first, second = TokenProvider(settings, rds), TokenProvider(settings, rds)
    assert first.token() == second.token() == "tok-1"
    assert len(token_calls()) == 1
    assert 3539_000 <= rds.pttl(TOKEN_KEY) <= 3540_000
    rds.delete(TOKEN_KEY)
    assert first.token() == "tok-1", "the hot path must not need Redis"
    assert len(token_calls()) == 1


@responses.activate
def test_refreshed_near_expiry_only(settings, rds):
    token_reply("tok-1")
    token_reply("tok-2")
    now = [1000.0]
    provider = TokenProvider(settings, rds, clock=lambda: now[0])
    assert provider.token() == "tok-1"
    now[0] += 3541
    assert provider.token() == "tok-1", (
        "near expiry it re-checks Redis, which another process may have refreshed"
    )
    rds.delete(TOKEN_KEY)
    assert provider.token() == "tok-1", "the process copy lives as long as the Redis key it was read from"
    now[0] += 3541
    assert provider.token() == "tok-2"
    assert len(token_calls()) == 2


@responses.activate
def test_short_lived_tokens_refresh_a_tenth_of_their_life_early(settings, rds):
    token_reply("tok-1", expires_in=10)
    TokenProvider(settings, rds).token()
    assert 8_900 <= rds.pttl(TOKEN_KEY) <= 9_000


@responses.activate
def test_concurrent_refresh_is_single_flight(settings, rds):
    def slow_token(request):
        time.sleep(0.3)
        return 200, {}, '{"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600, "scope": ""}'

    responses.add_callback(responses.POST, OAUTH, callback=slow_token)
    barrier = threading.Barrier(16)
    results: list[str] = []

    def worker() -> None:
        provider = TokenProvider(settings, redis.Redis.from_url(settings.redis_url))
        barrier.wait()
        results.append(provider.token())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["tok-1"] * 16
    assert len(token_calls()) == 1


@responses.activate
def test_a_crashed_lock_holder_delays_but_does_not_block_refresh(settings, rds):
    token_reply("tok-1")
    rds.set("zoom:oauth:unit-client:lock", "someone-who-died", px=300)
    started = time.monotonic()
    assert TokenProvider(settings, rds).token() == "tok-1"
    assert time.monotonic() - started >= 0.25
    assert len(token_calls()) == 1


@responses.activate
def test_replace_drops_only_the_token_that_failed(settings, rds):
    token_reply("tok-1")
    token_reply("tok-3")
    provider = TokenProvider(settings, rds)
    assert provider.token() == "tok-1"
    rds.set(TOKEN_KEY, "tok-2", px=60_000)
    assert provider.replace("tok-1") == "tok-2", "another process already refreshed: reuse its token"
    assert rds.get(TOKEN_KEY) == b"tok-2"
    assert provider.replace("tok-1") == "tok-2", "a late 124 for an old token costs nothing"
    assert provider.replace("tok-2") == "tok-3"
    assert rds.get(TOKEN_KEY) == b"tok-3"
    assert len(token_calls()) == 2


@responses.activate
def test_replace_never_hands_back_the_rejected_token(settings, rds):
    """The race CI once hit: thread B reads tok-1 from Redis, thread A gets 124 and deletes it, then B
    stores tok-1 as the process copy. A's retry must not take that copy."""
    token_reply("tok-1")
    token_reply("tok-2")
    provider = TokenProvider(settings, rds)
    assert provider.token() == "tok-1"
    rds.delete(TOKEN_KEY)
    assert provider.token() == "tok-1", "the stale process copy"
    assert provider.replace("tok-1") == "tok-2"
    assert provider.token() == "tok-2"
    rds.set(TOKEN_KEY, "tok-2", px=60_000)
    assert provider.replace("tok-1") == "tok-2"
    assert len(token_calls()) == 2


@responses.activate
def test_124_refreshes_once_and_retries_once(client):
    token_reply("tok-1")
    token_reply("tok-2")
    responses.get(MEETING_URL, status=401, json=INVALID_TOKEN)
    responses.get(MEETING_URL, json={"id": 85746065, "topic": "Halaka"})
    assert client.get_meeting(85746065)["topic"] == "Halaka"
    api_calls = [c for c in responses.calls if c.request.url == MEETING_URL]
    assert [bearer(c) for c in api_calls] == ["tok-1", "tok-2"]
    assert len(token_calls()) == 2


@responses.activate
def test_second_124_is_an_error_after_one_refresh(client):
    token_reply("tok-1")
    token_reply("tok-2")
    responses.get(MEETING_URL, status=401, json=INVALID_TOKEN)
    with pytest.raises(ZoomAuthError) as info:
        client.get_meeting(85746065)
    assert info.value.code == 124
    assert info.value.permanent is False
    assert len([c for c in responses.calls if c.request.url == MEETING_URL]) == 2
    assert len(token_calls()) == 2


@responses.activate
def test_124_reuses_a_token_another_process_already_refreshed(client, rds):
    token_reply("tok-1")
    responses.get(MEETING_URL, status=401, json=INVALID_TOKEN)
    responses.get(MEETING_URL, json={"id": 85746065})
    client._tokens.token()
    rds.set(TOKEN_KEY, "tok-other", px=60_000)
    client.get_meeting(85746065)
    assert [bearer(c) for c in responses.calls if c.request.url == MEETING_URL] == ["tok-1", "tok-other"]
    assert len(token_calls()) == 1


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"zoom_account_id": None}, ["ZOOM_ACCOUNT_ID"]),
        ({"zoom_client_id": "", "zoom_client_secret": None}, ["ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"]),
        (
            {"zoom_account_id": " ", "zoom_client_id": None, "zoom_client_secret": ""},
            ["ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"],
        ),
    ],
)
@responses.activate
def test_missing_credentials_name_the_variables_not_the_secret(redis_url, rds, overrides, missing):
    settings = make_settings(redis_url, **overrides)
    with pytest.raises(ZoomConfigError) as info:
        TokenProvider(settings, rds).token()
    message = str(info.value)
    for name in missing:
        assert name in message
    for name in {"ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"} - set(missing):
        assert name not in message
    assert SECRET not in message
    assert info.value.permanent is True
    assert len(responses.calls) == 0


def test_credentials_repr_hides_the_secret(settings):
    assert SECRET not in repr(credentials_from(settings))


@responses.activate
def test_rejected_credentials_are_a_permanent_auth_error(settings, rds):
    responses.post(
        OAUTH, status=401, json={"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
    )
    with pytest.raises(ZoomAuthError) as info:
        TokenProvider(settings, rds).token()
    assert "Invalid client_id or client_secret" in str(info.value)
    assert SECRET not in str(info.value)
    assert info.value.permanent is True
    assert rds.get(TOKEN_KEY) is None


@pytest.mark.parametrize(
    "reply",
    [
        {"status": 503, "body": "upstream down"},
        {"body": requests.ConnectTimeout("connect timed out")},
        {"body": requests.ConnectionError("refused")},
        {"status": 200, "body": "not json"},
        {"status": 200, "json": {"token_type": "bearer"}},
        {"status": 200, "json": {"access_token": "", "expires_in": 3600}},
    ],
)
@responses.activate
def test_oauth_outages_and_malformed_answers_are_transient(settings, rds, reply):
    responses.post(OAUTH, **reply)
    with pytest.raises(ZoomTransientError):
        TokenProvider(settings, rds).token()
    assert rds.get(TOKEN_KEY) is None


@responses.activate
def test_failures_are_logged_with_tracking_id_and_without_secrets(client, caplog):
    token_reply("unit-access-token")
    responses.post(
        f"{BASE}/users/host%40example.com/meetings",
        status=400,
        json={"code": 300, "message": "Invalid field."},
        headers={"x-zm-trackingid": "WEB_track_1"},
    )
    caplog.set_level(logging.DEBUG, logger="shared.zoom")
    with pytest.raises(ZoomInvalidRequest) as info:
        client.create_meeting("host@example.com", {"topic": "t", "password": "s3cret-pw"})
    assert info.value.tracking_id == "WEB_track_1"
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert failures and failures[0].tracking_id == "WEB_track_1"
    logged = " ".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    for secret in ("unit-access-token", SECRET, "s3cret-pw", "Bearer"):
        assert secret not in logged


def test_redis_outage_is_a_transient_zoom_error(settings):
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=0.2, socket_timeout=0.2)
    with pytest.raises(ZoomTransientError, match="unavailable"):
        ZoomClient(settings, unreachable).get_zak("host@example.com")
