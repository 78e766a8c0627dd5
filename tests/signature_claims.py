"""The claims a Meeting SDK signature carries (Zoom's Meeting SDK auth: `appKey`, `sdkKey`, `mn`, `role`,
`iat`, `exp`, `tokenExp`, and `video_webrtc_mode` only when asked for): the one expected form, for the
unit tests of the signer and the endpoint's tests alike."""

from __future__ import annotations

from typing import Any


def signature_claims(
    sdk_key: str,
    meeting_number: str,
    role: int,
    iat: int,
    expires_in: int = 7200,
    video_webrtc_mode: int | None = None,
) -> dict[str, Any]:
    """Written from Zoom's documentation, independently of the signer: both key claims carry the SDK
    key, `exp` and `tokenExp` are one instant."""
    keys = dict.fromkeys(("appKey", "sdkKey"), sdk_key)
    expiry = dict.fromkeys(("exp", "tokenExp"), iat + expires_in)
    webrtc = {} if video_webrtc_mode is None else {"video_webrtc_mode": video_webrtc_mode}
    return {**keys, "mn": meeting_number, "role": role, "iat": iat, **expiry, **webrtc}
