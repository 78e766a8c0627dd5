"""Unit tests for shared.zoom.signature: the Meeting SDK JWT, decoded and checked claim by claim."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest

from shared.zoom import signature as signature_module
from shared.zoom.signature import meeting_sdk_signature
from tests.signature_claims import signature_claims

SDK_KEY = "abcDEF123sdkKEY"
SDK_SECRET = "s3cr3t-0123456789-abcdefghij-KLMNOPQRST"  # ≥ 32 bytes, as HS256 wants
NOW = 1_780_000_000


def sign(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "sdk_key": SDK_KEY,
        "sdk_secret": SDK_SECRET,
        "meeting_number": "74382934944",
        "role": 0,
        "now": NOW,
    }
    arguments.update(overrides)
    return meeting_sdk_signature(**arguments)


def decode(token: str, secret: str = SDK_SECRET) -> dict[str, Any]:
    return jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})


def raw_part(token: str, index: int) -> bytes:
    part = token.split(".")[index]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


IAT = NOW - 30  # the signer backdates iat by 30 s for clock skew


@pytest.mark.parametrize(
    ("overrides", "claims"),
    [
        pytest.param({}, signature_claims(SDK_KEY, "74382934944", 0, IAT), id="attendee-default-expiry"),
        pytest.param(
            {"role": 1, "meeting_number": "123456789"},
            signature_claims(SDK_KEY, "123456789", 1, IAT),
            id="host",
        ),
        pytest.param(
            {"expiration_seconds": 1800},
            signature_claims(SDK_KEY, "74382934944", 0, IAT, 1800),
            id="shortest-expiry",
        ),
        pytest.param(
            {"expiration_seconds": 172800, "video_webrtc_mode": 1},
            signature_claims(SDK_KEY, "74382934944", 0, IAT, 172800, video_webrtc_mode=1),
            id="longest-expiry-webrtc-1",
        ),
        pytest.param(
            {"video_webrtc_mode": 0},
            signature_claims(SDK_KEY, "74382934944", 0, IAT, video_webrtc_mode=0),
            id="webrtc-0-is-sent",
        ),
        pytest.param(
            {"meeting_number": "0012345678901"},
            signature_claims(SDK_KEY, "0012345678901", 0, IAT),
            id="leading-zeros-kept",
        ),
    ],
)
def test_signature_claims(overrides: dict[str, Any], claims: dict[str, Any]) -> None:
    token = sign(**overrides)
    assert decode(token) == claims
    assert json.loads(raw_part(token, 1)) == claims
    assert isinstance(decode(token)["mn"], str)


def test_signature_header_is_exactly_hs256_jwt() -> None:
    token = sign()
    assert raw_part(token, 0) == b'{"alg":"HS256","typ":"JWT"}'
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_signature_is_signed_with_the_sdk_secret() -> None:
    token = sign()
    with pytest.raises(jwt.InvalidSignatureError):
        decode(token, secret="another-secret-0123456789-abcdefghij")


def test_signature_verifies_with_exp_and_iat_checks_at_current_time() -> None:
    token = sign(now=None)
    claims = jwt.decode(token, SDK_SECRET, algorithms=["HS256"])  # exp and iat verified for real
    assert claims["exp"] - claims["iat"] == 7200


def test_now_defaults_to_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signature_module.time, "time", lambda: 1_790_000_000.9)
    claims = decode(sign(now=None))
    assert claims == signature_claims(SDK_KEY, "74382934944", 0, 1_790_000_000 - 30)


def test_signature_is_deterministic_for_the_same_inputs() -> None:
    assert sign() == sign()
    assert sign() != sign(role=1)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        pytest.param({"expiration_seconds": 1799}, "expiration", id="expiry-too-short"),
        pytest.param({"expiration_seconds": 172801}, "expiration", id="expiry-too-long"),
        pytest.param({"expiration_seconds": 0}, "expiration", id="expiry-zero"),
        pytest.param({"expiration_seconds": 7200.0}, "expiration", id="expiry-float"),
        pytest.param({"expiration_seconds": "7200"}, "expiration", id="expiry-string"),
        pytest.param({"role": 2}, "role", id="role-2"),
        pytest.param({"role": -1}, "role", id="role-negative"),
        pytest.param({"role": True}, "role", id="role-bool"),
        pytest.param({"role": "1"}, "role", id="role-string"),
        pytest.param({"role": None}, "role", id="role-none"),
        pytest.param({"meeting_number": ""}, "meeting_number", id="mn-empty"),
        pytest.param({"meeting_number": "7438293494a"}, "meeting_number", id="mn-letter"),
        pytest.param({"meeting_number": "743 829 349"}, "meeting_number", id="mn-spaces"),
        pytest.param({"meeting_number": "-74382934944"}, "meeting_number", id="mn-negative"),
        pytest.param({"meeting_number": "٧٤٣٨٢٩٣٤٩٤٤"}, "meeting_number", id="mn-arabic-indic-digits"),
        pytest.param({"meeting_number": "74382934944\n"}, "meeting_number", id="mn-newline"),
        pytest.param({"meeting_number": 74382934944}, "meeting_number", id="mn-int"),
        pytest.param({"meeting_number": "1" * 21}, "meeting_number", id="mn-too-long"),
        pytest.param({"video_webrtc_mode": 2}, "video_webrtc_mode", id="webrtc-2"),
        pytest.param({"video_webrtc_mode": True}, "video_webrtc_mode", id="webrtc-bool"),
        pytest.param({"sdk_key": ""}, "sdk_key", id="no-key"),
        pytest.param({"sdk_secret": ""}, "sdk_secret", id="no-secret"),
        pytest.param({"now": 1.5}, "now", id="now-float"),
    ],
)
def test_signature_rejects_bad_arguments(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment) as err:
        sign(**overrides)
    assert SDK_SECRET not in str(err.value)
