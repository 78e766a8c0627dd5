"""Password hashing with Argon2id (argon2-cffi's RFC 9106 low-memory profile).

The test suite (APP_ENV=test) uses argon2-cffi's cheapest profile: the same code path at a cost that
lets hundreds of test users log in quickly. Hashes record their parameters, so either verifies.
"""

from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from shared.settings import get_settings


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    if get_settings().app_env == "test":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so login timing does not reveal which e-mails exist."""
    return _hasher().hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
