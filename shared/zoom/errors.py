"""Typed Zoom failures, and the one function that turns an HTTP error response into one of them.

Callers decide what to do by type (or by `permanent`): transient errors and rate limits are retried
with backoff, permanent ones end the work with a readable reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from requests.structures import CaseInsensitiveDict

from shared.zoom.retry_after import parse_retry_after

TRACKING_HEADER = "x-zm-trackingid"
RATE_LIMIT_TYPE_HEADER = "X-RateLimit-Type"

CODE_INVALID_TOKEN = 124
CODE_USER_NOT_FOUND = 1001
CODE_MEETING_NOT_FOUND = 3001
RATE_LIMIT_CODES = frozenset({429, 4001})

_MAX_MESSAGE = 300


class ZoomError(Exception):
    """Base of every Zoom failure; `code` is Zoom's error code when the body carried one."""

    permanent: bool = False

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: int | None = None,
        tracking_id: str | None = None,
        *,
        permanent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.tracking_id = tracking_id
        if permanent is not None:
            self.permanent = permanent

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code is not None:
            parts.append(f"code={self.code}")
        return " ".join(parts)


class ZoomConfigError(ZoomError):
    """Zoom credentials or settings are missing; names the variables, never their values."""

    permanent = True


class ZoomAuthError(ZoomError):
    """The OAuth endpoint rejected the app's credentials, or Zoom rejected a fresh token."""

    permanent = True


class ZoomInvalidRequest(ZoomError):
    """Zoom refused the request as sent (validation 300, 3161 may not host, …)."""

    permanent = True


class ZoomNotFound(ZoomError):
    """User (1001) or meeting (3001) does not exist."""

    permanent = True


class ZoomTransientError(ZoomError):
    """Timeouts, connection failures, 5xx and malformed answers: worth retrying later."""


class ZoomRateLimited(ZoomError):
    """HTTP 429. `retry_after` is in seconds (None when Zoom gave no usable hint); `daily` marks the
    per-host daily create/update limit, which only resets at 00:00 UTC."""

    def __init__(
        self,
        message: str,
        status: int | None = 429,
        code: int | None = None,
        tracking_id: str | None = None,
        *,
        retry_after: float | None = None,
        daily: bool = False,
    ) -> None:
        super().__init__(message, status, code, tracking_id)
        self.retry_after = retry_after
        self.daily = daily


def parse_error(status: int, headers: Mapping[str, str], body: bytes | str | None) -> ZoomError:
    """Map a non-2xx Zoom API response to a typed error. Never raises, whatever the body."""
    headers = CaseInsensitiveDict(headers)
    tracking_id = headers.get(TRACKING_HEADER)
    code, message = _code_and_message(body)
    message = message or f"Zoom answered HTTP {status}"
    if status == 429 or code in RATE_LIMIT_CODES:
        daily = "daily" in headers.get(RATE_LIMIT_TYPE_HEADER, "").lower() or "daily" in message.lower()
        return ZoomRateLimited(
            message,
            status,
            code,
            tracking_id,
            retry_after=parse_retry_after(headers.get("Retry-After")),
            daily=daily,
        )
    if status >= 500:
        return ZoomTransientError(message, status, code, tracking_id)
    if status == 401:
        return ZoomAuthError(message, status, code, tracking_id)
    if status == 404 or code in (CODE_USER_NOT_FOUND, CODE_MEETING_NOT_FOUND):
        return ZoomNotFound(message, status, code, tracking_id)
    if 400 <= status < 500:
        return ZoomInvalidRequest(message, status, code, tracking_id)
    return ZoomTransientError(message, status, code, tracking_id)


def _code_and_message(body: bytes | str | None) -> tuple[int | None, str]:
    """Zoom's `{"code": int, "message": str}`; OAuth's `{"error", "reason"}`; or a text snippet."""
    if not body:
        return None, ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return None, _snippet(text)
    if not isinstance(data, dict):
        return None, _snippet(text)
    code = data.get("code")
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool):
        code = None
    message = data.get("message") or data.get("reason") or data.get("error") or ""
    return code, _snippet(message if isinstance(message, str) else str(message))


def _snippet(text: str) -> str:
    return " ".join(text.split())[:_MAX_MESSAGE]
