"""Zoom webhook signatures and the customer key, as pure functions."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from shared.customer_key import customer_key
from shared.zoom.webhook_signature import encrypted_token, signature, verify

SECRET = "s3cret"
BODY = b'{"event":"meeting.started"}'
NOW = 1_700_000_000


def test_signature_is_zoom_s_v0_hmac():
    expected = hmac.new(SECRET.encode(), b"v0:1700000000:" + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, "1700000000", BODY) == "v0=" + expected


def test_encrypted_token_is_hex_hmac_of_the_plain_token():
    assert encrypted_token(SECRET, "abc") == hmac.new(b"s3cret", b"abc", hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("timestamp", "given", "body", "reason"),
    [
        (str(NOW), signature(SECRET, str(NOW), BODY), BODY, None),
        (str(NOW - 300), signature(SECRET, str(NOW - 300), BODY), BODY, None),
        (str(NOW - 301), signature(SECRET, str(NOW - 301), BODY), BODY, "stale"),
        (str(NOW + 301), signature(SECRET, str(NOW + 301), BODY), BODY, "stale"),
        (str(NOW), signature(SECRET, str(NOW), BODY), BODY + b" ", "mismatch"),
        (str(NOW), signature("other", str(NOW), BODY), BODY, "mismatch"),
        (str(NOW + 1), signature(SECRET, str(NOW), BODY), BODY, "mismatch"),  # the timestamp is signed
        (str(NOW), signature(SECRET, str(NOW), BODY).upper(), BODY, "mismatch"),
        (None, "v0=x", BODY, "missing"),
        (str(NOW), None, BODY, "missing"),
        ("", "v0=x", BODY, "missing"),
        ("1e9", "v0=x", BODY, "malformed timestamp"),
        ("٣٣", "v0=x", BODY, "malformed timestamp"),
        (str(NOW), "v0=é", BODY, "mismatch"),
    ],
)
def test_verify(timestamp, given, body, reason):
    assert verify(SECRET, timestamp, given, body, NOW, 300) == reason


def test_customer_key_is_stable_opaque_and_short():
    key = b"server-key"
    assert customer_key(42, key) == customer_key(42, key)
    assert customer_key(42, key) != customer_key(43, key)
    assert customer_key(42, key) != customer_key(42, b"another key")
    assert len(customer_key(42, key)) <= 35 and customer_key(42, key).isalnum()
    assert customer_key(42, key) != "42"
