"""Zoom Meeting SDK signature: the HS256 JWT that a web or mobile client joins a meeting with.

Signed with the Meeting SDK secret, header ``{"alg":"HS256","typ":"JWT"}``, payload as Zoom's own
sample signature endpoint makes it: ``appKey`` and ``sdkKey`` (both the SDK key / client id), ``mn``
(the meeting number as a string of digits), ``role`` (0 attendee, 1 host), ``iat`` (now - 30 s, for
clock skew), ``exp`` (``iat`` + expiration), ``tokenExp`` (= ``exp``) and ``video_webrtc_mode`` only
when given.
"""

from __future__ import annotations

import re
import time
from typing import Any, Final

import jwt

from shared.zoom.recurrence import is_int

MIN_EXPIRATION_SECONDS: Final[int] = 1800
MAX_EXPIRATION_SECONDS: Final[int] = 172800
DEFAULT_EXPIRATION_SECONDS: Final[int] = 7200
CLOCK_SKEW_SECONDS: Final[int] = 30
ROLES: Final[tuple[int, ...]] = (0, 1)
VIDEO_WEBRTC_MODES: Final[tuple[int, ...]] = (0, 1)

_MEETING_NUMBER = re.compile(r"[0-9]{1,20}")


def meeting_sdk_signature(
    *,
    sdk_key: str,
    sdk_secret: str,
    meeting_number: str,
    role: int,
    now: int | None = None,
    expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS,
    video_webrtc_mode: int | None = None,
) -> str:
    """The Meeting SDK signature for ``meeting_number`` and ``role``, valid ``expiration_seconds``.

    ``now`` is the current Unix time in seconds (default: the clock). Raises :class:`ValueError`
    for an empty key or secret, a meeting number that is not 1..20 ASCII digits, a role other than
    0/1, an expiration outside 1800..172800 s, or a ``video_webrtc_mode`` other than 0/1. No message
    ever contains the secret.
    """
    if not isinstance(sdk_key, str) or not sdk_key:
        raise ValueError("sdk_key is required")
    if not isinstance(sdk_secret, str) or not sdk_secret:
        raise ValueError("sdk_secret is required")
    if not isinstance(meeting_number, str) or not _MEETING_NUMBER.fullmatch(meeting_number):
        raise ValueError("meeting_number must be a string of digits")
    if not is_int(role) or role not in ROLES:
        raise ValueError("role must be 0 (attendee) or 1 (host)")
    if (
        not is_int(expiration_seconds)
        or not MIN_EXPIRATION_SECONDS <= expiration_seconds <= MAX_EXPIRATION_SECONDS
    ):
        raise ValueError(f"expiration_seconds must be {MIN_EXPIRATION_SECONDS} to {MAX_EXPIRATION_SECONDS}")
    if video_webrtc_mode is not None and (
        not is_int(video_webrtc_mode) or video_webrtc_mode not in VIDEO_WEBRTC_MODES
    ):
        raise ValueError("video_webrtc_mode must be 0 or 1")
    if now is None:
        now = int(time.time())
    elif not is_int(now):
        raise ValueError("now must be a Unix time in whole seconds")

    iat = now - CLOCK_SKEW_SECONDS
    exp = iat + expiration_seconds
    payload: dict[str, Any] = {
        "appKey": sdk_key,
        "sdkKey": sdk_key,
        "mn": meeting_number,
        "role": role,
        "iat": iat,
        "exp": exp,
        "tokenExp": exp,
    }
    if video_webrtc_mode is not None:
        payload["video_webrtc_mode"] = video_webrtc_mode
    return jwt.encode(payload, sdk_secret, algorithm="HS256", headers={"alg": "HS256", "typ": "JWT"})
