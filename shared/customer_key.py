"""The stable opaque key a platform user passes as the Meeting SDK's `customerKey` (DESIGN.md 4.1).

Zoom echoes it as `participant.customer_key` in participant events, which is how attendance knows who
joined. It is an HMAC of the user id with a server key: stable, at most 35 characters (Zoom's limit
is 36), and it reveals neither the id nor anything else about the user.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from shared.settings import get_settings

KEY_LENGTH = 32  # hex characters; Zoom's customerKey may hold at most 36


@lru_cache(maxsize=1)
def _server_key() -> bytes:
    """CUSTOMER_KEY_SECRET, else a key derived from the JWT secret (set the former to survive rotating
    the latter)."""
    settings = get_settings()
    if settings.customer_key_secret is not None:
        return settings.customer_key_secret.get_secret_value().encode()
    jwt_secret = settings.jwt_secret_key.get_secret_value().encode()
    return hmac.new(jwt_secret, b"halaka customer key", hashlib.sha256).digest()


def customer_key(user_id: int, server_key: bytes | None = None) -> str:
    key = server_key if server_key is not None else _server_key()
    return hmac.new(key, f"user:{user_id}".encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]
