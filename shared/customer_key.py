"""The stable opaque key a platform user passes as the Meeting SDK's `customerKey` (docs/api.md).

Zoom echoes it as `participant.customer_key` in participant events, which is how attendance knows who
joined. It is an HMAC of the user id with a server key: stable, at most 35 characters (Zoom's limit
is 36), and it reveals neither the id nor anything else about the user.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from shared.settings import Settings, get_settings

KEY_LENGTH = 32  # hex characters; Zoom's customerKey may hold at most 36


def server_key(settings: Settings) -> bytes:
    """CUSTOMER_KEY_SECRET, else a key derived from the JWT secret (set the former to survive rotating
    the latter)."""
    if settings.customer_key_secret is not None:
        return settings.customer_key_secret.get_secret_value().encode()
    jwt_secret = settings.jwt_secret_key.get_secret_value().encode()
    return hmac.new(jwt_secret, b"halaka customer key", hashlib.sha256).digest()


@lru_cache(maxsize=1)
def _process_key() -> bytes:
    """The workers' key, from the environment (the API passes its app's: `server_key(settings)`)."""
    return server_key(get_settings())


def customer_key(user_id: int, key: bytes | None = None) -> str:
    key = key if key is not None else _process_key()
    return hmac.new(key, f"user:{user_id}".encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]
