"""Calendar feed tokens: the secret in `GET /api/v1/calendar/{token}.ics`.

A token is HMAC-SHA256(server key, seed) with a 256-bit `secrets` seed, base64url (43 characters).
The database keeps the seed and the token's SHA-256 (`lookup`, unique): the feed finds its user by that
digest in one indexed query, whatever the token (a wrong one costs the same work and answers 404), and
`GET /calendar/token` can show the token again by deriving it from the seed. A copy of the database
alone yields no working URL (the key is not in it).

The key derives from `JWT_SECRET_KEY`: rotating that secret changes every derived token; the stored
digest still answers the old URL until the user next reads their token, which then re-keys the digest
to the new one (`current`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.models import CalendarToken
from shared.settings import get_settings

SEED_BYTES = 32
TOKEN_LENGTH = 43  # base64url of 32 bytes, unpadded


@lru_cache(maxsize=1)
def _server_key() -> bytes:
    jwt_secret = get_settings().jwt_secret_key.get_secret_value().encode()
    return hmac.new(jwt_secret, b"halaka calendar feed", hashlib.sha256).digest()


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def token_for(seed: bytes, key: bytes | None = None) -> str:
    digest = hmac.new(key if key is not None else _server_key(), seed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def lookup_digest(token: str) -> bytes:
    """What the feed looks up: the SHA-256 of the token as given (any text, any length up to the route's)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def token_row(s: Session, user_id: int) -> CalendarToken:
    """The user's token row, made on first use (a concurrent first use keeps the one that won)."""
    seed = new_seed()
    s.execute(
        insert(CalendarToken)
        .values(user_id=user_id, seed=seed, lookup=lookup_digest(token_for(seed)))
        .on_conflict_do_nothing()
    )
    row = s.get(CalendarToken, user_id, populate_existing=True)
    assert row is not None
    return row
