"""Zoom webhook signatures (pure functions; no Flask, no I/O).

Zoom signs each delivery with the app's secret token: header `x-zm-signature` = `v0=` + hex
HMAC-SHA256(secret, `v0:{x-zm-request-timestamp}:{raw body}`), the timestamp in epoch seconds.
The sandbox signs with :func:`signature`; the API checks with :func:`verify`.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "v0"


def _hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `x-zm-signature` value Zoom sends for `body` at `timestamp`."""
    return f"{PREFIX}=" + _hex_hmac(secret, f"{PREFIX}:{timestamp}:".encode() + body)


def encrypted_token(secret: str, plain_token: str) -> str:
    """The answer to `endpoint.url_validation`: hex HMAC-SHA256(secret, plainToken)."""
    return _hex_hmac(secret, plain_token.encode())


def verify(
    secret: str, timestamp: str | None, given: str | None, body: bytes, now: float, tolerance: int
) -> str | None:
    """None when the delivery is authentic and fresh, else why not (a short reason, never a secret).

    The timestamp is checked before any HMAC is computed, so a stale replay costs nothing; the digest
    comparison is constant-time."""
    if not timestamp or not given:
        return "missing"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "malformed timestamp"
    if abs(now - int(timestamp)) > tolerance:
        return "stale"
    if not hmac.compare_digest(given.encode("utf-8", "replace"), signature(secret, timestamp, body).encode()):
        return "mismatch"
    return None
