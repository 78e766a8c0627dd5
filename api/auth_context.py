"""The authenticated user of a request and role checks (JWT via flask-jwt-extended)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache, wraps
from types import MappingProxyType
from typing import Any

import jwt as pyjwt
from flask import Flask, Response, g, request
from flask_jwt_extended import current_user, get_jwt, jwt_required, verify_jwt_in_request
from flask_jwt_extended import default_callbacks as jwt_defaults
from flask_jwt_extended.config import config as jwt_config

from api.db_session import db
from api.errors import ApiError, error_response
from api.extensions import jwt
from shared.models import Role, User
from shared.redis_client import get_redis

REVOKED_PREFIX = "jwt:revoked:"
USER_UNAVAILABLE = "User not found or inactive"


class _Unloaded:
    """What `current_user` is under `token_required`: the view loads the user in its own query."""

    def __repr__(self) -> str:
        return "<user not loaded: the view checks it>"


UNLOADED = _Unloaded()


def revoke_token(jti: str, expires_at: int) -> None:
    """Blocklist a token in Redis until it would have expired anyway."""
    ttl = max(1, int(expires_at - datetime.now(UTC).timestamp()))
    get_redis().set(REVOKED_PREFIX + jti, "1", ex=ttl)


def register_jwt_callbacks(app: Flask) -> None:
    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        return is_revoked(payload["jti"])

    @jwt.user_lookup_loader
    def _lookup(_header: dict, payload: dict) -> User | _Unloaded | None:
        if g.get("_defer_user_lookup"):
            return UNLOADED
        user = db().get(User, int(payload["sub"]))
        return user if user is not None and user.active else None

    def _unauthorized(message: str) -> Response:
        return error_response(401, message)

    jwt.unauthorized_loader(lambda reason: _unauthorized("Missing or malformed Authorization header"))
    jwt.invalid_token_loader(lambda reason: _unauthorized("Invalid token"))
    jwt.expired_token_loader(lambda h, p: _unauthorized("Token has expired"))
    jwt.revoked_token_loader(lambda h, p: _unauthorized("Token has been revoked"))
    jwt.needs_fresh_token_loader(lambda h, p: _unauthorized("Fresh token required"))
    jwt.user_lookup_error_loader(lambda h, p: _unauthorized(USER_UNAVAILABLE))
    jwt.token_verification_failed_loader(lambda h, p: _unauthorized("Invalid token"))


def me() -> User:
    user = current_user
    if user is UNLOADED:
        raise RuntimeError("under token_required the view loads the user itself (caller_id, check_caller)")
    return user  # type: ignore[return-value]


def auth_required(*roles: Role) -> Callable:
    """Require a valid access token and, when roles are given, one of those roles (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @jwt_required()
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if roles and me().role not in {r.value for r in roles}:
                return error_response(403, "You do not have permission to perform this action")
            return view(*args, **kwargs)

        return wrapper

    return decorator


def token_required(view: Callable) -> Callable:
    """Every token check of `auth_required` (signature, `alg`, expiry, access type, revocation), but the
    user row is left to the view, which reads it in the same statement as whatever else it needs and
    passes what it read to `check_caller`: one database round trip instead of two.

    The common case (one well-formed `Authorization: Bearer <jwt>` that verifies) is checked with one
    PyJWT decode using flask-jwt-extended's own settings (remembered per token until it expires; the
    revocation check runs on every request); anything else goes through
    flask-jwt-extended's full `verify_jwt_in_request`, so every failure answers exactly as elsewhere.
    `me()` raises under this decorator, so a view cannot silently run without its user check.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g._defer_user_lookup = True
        claims = _verified_claims_fast()
        if claims is None:
            verify_jwt_in_request()
            claims = get_jwt()
        g.token_claims = claims
        return view(*args, **kwargs)

    return wrapper


def _fast_path_applies() -> bool:
    """The single decode reproduces flask-jwt-extended only for what this app configures: tokens in
    headers, and the library's own decode-key and claims-verification callbacks. Otherwise: full path."""
    return (
        list(jwt_config.token_location) == ["headers"]
        and getattr(jwt, "_decode_key_callback", None) is jwt_defaults.default_decode_key_callback
        and getattr(jwt, "_token_verification_callback", None)
        is jwt_defaults.default_token_verification_callback
    )


def _verified_claims_fast() -> dict | None:
    """The claims of a valid, unrevoked access token in the usual header form, else None."""
    header = request.headers.get(jwt_config.header_name, "")
    prefix = jwt_config.header_type + " "
    if not header.startswith(prefix) or "," in header or not _fast_path_applies():
        return None
    token = header[len(prefix) :]
    if not token or " " in token:
        return None
    audience = jwt_config.decode_audience
    try:
        claims = _decode_verified(
            token,
            jwt_config.decode_key,
            tuple(jwt_config.decode_algorithms),
            tuple(audience) if isinstance(audience, list | set | tuple) else audience,
            jwt_config.decode_issuer,
            jwt_config.leeway,
            jwt_config.verify_sub,
        )
    except pyjwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if exp is not None and exp <= time.time() - _seconds(jwt_config.leeway):
        return None  # expired since it was first verified: the full path answers "Token has expired"
    if (
        jwt_config.identity_claim_key not in claims
        or claims.get("type") != "access"
        or not claims.get("jti")
        or is_revoked(claims["jti"])
    ):
        return None
    return dict(claims)


def _seconds(leeway: float | timedelta) -> float:
    return leeway.total_seconds() if isinstance(leeway, timedelta) else leeway


@lru_cache(maxsize=4096)
def _decode_verified(
    token: str,
    key: str,
    algorithms: tuple[str, ...],
    audience: str | tuple[str, ...] | None,
    issuer: str | None,
    leeway: float | timedelta,
    verify_sub: bool,
) -> Mapping[str, Any]:
    """PyJWT's full verification of a token, remembered per token and decode settings.

    A token that verified once stays valid until its `exp` (the caller re-checks that; `nbf` and `iat`
    only become more valid with time), so a client re-using its token pays the decode once. Failures
    raise and are not remembered; revocation is never cached (checked in Redis on every request).
    """
    claims = pyjwt.decode(
        token,
        key,
        algorithms=list(algorithms),
        audience=list(audience) if isinstance(audience, tuple) else audience,
        issuer=issuer,
        leeway=leeway,
        options={"verify_aud": audience is not None, "verify_sub": verify_sub},
    )
    return MappingProxyType(claims)


def is_revoked(jti: str) -> bool:
    return bool(get_redis().exists(REVOKED_PREFIX + jti))


def caller_id() -> int:
    """The user id of the verified token (under `token_required`)."""
    return int(g.token_claims[jwt_config.identity_claim_key])


def check_caller(active: bool | None) -> None:
    """401 exactly as `auth_required` answers when the token's user is deactivated or gone (None)."""
    if not active:
        raise ApiError(401, USER_UNAVAILABLE)
