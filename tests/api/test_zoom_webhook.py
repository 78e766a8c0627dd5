"""POST /api/v1/zoom/webhook: Zoom's signature over the raw bytes, freshness, the url_validation
oracle, durable deduplicated intake, bounded bodies (Flask test client, real PostgreSQL and Redis)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import text

from shared.db import get_engine
from shared.metrics import process_registry
from tests.webhook_fixture import WEBHOOK_PATH, WEBHOOK_SECRET, encode, sign

EVENT = {
    "event": "meeting.started",
    "event_ts": 1626230691572,
    "payload": {
        "account_id": "AAAAAABBBB",
        "object": {
            "id": "81234567890",
            "uuid": "4444AAAiAAAAAiAiAiiAii==",
            "host_id": "x1yCzABCDEfg23HiJKl4mN",
            "host_email": "host@example.com",
            "topic": "Tajweed",
            "type": 8,
            "start_time": "2027-01-04T15:00:00Z",
            "duration": 60,
        },
    },
}


def events(event: str, outcome: str) -> float:
    return (
        process_registry().get_sample_value(
            "halaka_webhook_events_total", {"event": event, "outcome": outcome}
        )
        or 0.0
    )


def signature_failures() -> float:
    return process_registry().get_sample_value("halaka_webhook_signature_failures_total") or 0.0


def stored() -> list[tuple]:
    with get_engine().connect() as conn:
        return conn.execute(text("SELECT event, body FROM webhook_events ORDER BY id")).all()


def post(client, body: bytes, headers: dict[str, str]):
    return client.post(WEBHOOK_PATH, data=body, headers=headers)


def assert_refused(response, status: int = 401) -> None:
    assert response.status_code == status, response.json
    assert response.json["status"] == "error" and response.json["message"]
    assert "encryptedToken" not in response.json


def test_without_a_configured_secret_it_answers_503_and_stores_nothing(client):
    body = encode(EVENT)
    assert_refused(post(client, body, sign(body)), 503)
    assert "ZOOM_WEBHOOK_SECRET_TOKEN" in post(client, body, sign(body)).json["message"]
    assert stored() == []


def test_a_valid_delivery_is_stored_raw_and_acknowledged(client, webhook_secret):
    body = encode(EVENT)
    before = events("meeting.started", "stored")
    response = post(client, body, sign(body))
    assert response.status_code == 200, response.json
    assert response.json == {"status": "success", "message": "Event received"}
    assert [(e, bytes(b)) for e, b in stored()] == [("meeting.started", body)]
    assert events("meeting.started", "stored") == before + 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: b[:-2] + b"1}", id="one byte of the body changed"),
        pytest.param(lambda b: b + b" ", id="a byte appended"),
        pytest.param(lambda b: json.dumps(json.loads(b)).encode(), id="same JSON, other bytes"),
    ],
)
def test_a_body_changed_after_signing_is_refused(client, webhook_secret, tamper):
    body = encode(EVENT)
    headers = sign(body)
    assert_refused(post(client, tamper(body), headers))
    assert stored() == []


def test_a_signature_made_with_another_secret_is_refused(client, webhook_secret):
    body = encode(EVENT)
    before = signature_failures()
    assert_refused(post(client, body, sign(body, secret="not-" + WEBHOOK_SECRET)))
    assert signature_failures() == before + 1


@pytest.mark.parametrize(
    "offset", [-301, 301, -86_400, 10**9], ids=["stale", "future", "a day old", "far future"]
)
def test_timestamps_outside_the_tolerance_are_refused_even_when_signed(client, webhook_secret, offset):
    body = encode(EVENT)
    response = post(client, body, sign(body, timestamp=int(time.time()) + offset))
    assert_refused(response)
    assert "window" in response.json["message"]
    assert stored() == []


def test_a_timestamp_inside_the_tolerance_is_accepted(client, webhook_secret):
    body = encode(EVENT)
    assert post(client, body, sign(body, timestamp=int(time.time()) - 290)).status_code == 200


@pytest.mark.parametrize("missing", ["x-zm-signature", "x-zm-request-timestamp"])
def test_missing_headers_are_refused(client, webhook_secret, missing):
    body = encode(EVENT)
    headers = sign(body)
    del headers[missing]
    before = signature_failures()
    assert_refused(post(client, body, headers))
    assert signature_failures() == before + 1


@pytest.mark.parametrize("timestamp", ["12.5", "-1", "١٢٣", "9" * 40, "abc"])
def test_malformed_timestamps_are_refused(client, webhook_secret, timestamp):
    body = encode(EVENT)
    headers = sign(body)
    headers["x-zm-request-timestamp"] = timestamp
    assert_refused(post(client, body, headers))


def test_no_body_at_all_is_refused(client, webhook_secret):
    assert_refused(client.post(WEBHOOK_PATH))


def url_validation(plain: str) -> bytes:
    return encode({"event": "endpoint.url_validation", "event_ts": 1, "payload": {"plainToken": plain}})


def test_signed_url_validation_is_answered_with_zoom_s_hmac(client, webhook_secret):
    body = url_validation("qgg8vlvZRS6UYooatFL8Aw")
    response = post(client, body, sign(body))
    assert response.status_code == 200, response.json
    expected = hmac.new(WEBHOOK_SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert response.json["plainToken"] == "qgg8vlvZRS6UYooatFL8Aw"
    assert response.json["encryptedToken"] == expected
    assert stored() == []  # answered, not stored


def test_the_url_validation_oracle_attack_fails(client, webhook_secret):
    """An attacker asks the endpoint to 'encrypt' v0:{ts}:{forged body}: that would be a valid
    signature for the forged event. Unsigned (or wrongly signed) validation requests get nothing."""
    forged = encode({**EVENT, "event": "meeting.deleted"})
    ts = str(int(time.time()))
    oracle = url_validation(f"v0:{ts}:{forged.decode()}")
    unsigned = {"Content-Type": "application/json"}
    assert_refused(post(client, oracle, unsigned))
    assert_refused(post(client, oracle, {**sign(oracle), "x-zm-signature": "v0=" + "0" * 64}))
    # and a guessed signature for the forged event itself is refused
    guess = {
        "x-zm-request-timestamp": ts,
        "x-zm-signature": "v0=" + "f" * 64,
        "Content-Type": "application/json",
    }
    assert_refused(post(client, forged, guess))
    assert stored() == []


@pytest.mark.parametrize("plain", ["", 5, None, "x" * 257])
def test_url_validation_without_a_usable_plain_token_is_400(client, webhook_secret, plain):
    body = url_validation(plain)
    response = post(client, body, sign(body))
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "payload.plainToken"


def test_the_same_delivery_replayed_is_stored_once(client, webhook_secret):
    body = encode(EVENT)
    headers = sign(body)
    before = events("meeting.started", "duplicate")
    first, again = post(client, body, headers), post(client, body, headers)
    redelivered = post(client, body, sign(body, timestamp=int(time.time()) + 2))  # Zoom's retry
    assert [first.status_code, again.status_code, redelivered.status_code] == [200, 200, 200]
    assert again.json["message"] == redelivered.json["message"] == "Event already received"
    assert len(stored()) == 1
    assert events("meeting.started", "duplicate") == before + 2


def test_an_oversized_body_is_413_before_any_hmac(client, webhook_secret):
    body = encode({**EVENT, "padding": "x" * 70_000})
    response = post(client, body, sign(body))
    assert_refused(response, 413)
    assert stored() == []


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"payload": {}}', b'{"event": ""}', b"[" * 5000 + b"]" * 5000]
)
def test_signed_bodies_that_are_not_zoom_events_are_400(client, webhook_secret, body):
    response = post(client, body, sign(body))
    assert response.status_code == 400, response.json
    assert response.json["status"] == "error"
    assert stored() == []


def test_when_the_event_cannot_be_stored_it_answers_5xx_so_zoom_retries(client, webhook_secret):
    body = encode(EVENT)
    with get_engine().begin() as conn:
        conn.execute(text("ALTER TABLE webhook_events RENAME TO webhook_events_away"))
    try:
        response = post(client, body, sign(body))
    finally:
        with get_engine().begin() as conn:
            conn.execute(text("ALTER TABLE webhook_events_away RENAME TO webhook_events"))
    assert_refused(response, 503)
    assert post(client, body, sign(body)).status_code == 200  # Zoom's retry then lands
    assert len(stored()) == 1


def test_the_endpoint_needs_no_jwt_and_says_so_in_the_openapi_document(client):
    operation = client.get("/api/v1/openapi.json").json["paths"][WEBHOOK_PATH]["post"]
    assert not operation.get("security")
