"""The authenticated user of a request and role checks (JWT via flask-jwt-extended)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import Flask, Response
from flask_jwt_extended import current_user, jwt_required

from api.db_session import db
from api.errors import error_response
from api.extensions import jwt
from shared.models import Role, User
from shared.redis_client import get_redis

REVOKED_PREFIX = "jwt:revoked:"


def revoke_token(jti: str, expires_at: int) -> None:
    """Blocklist a token in Redis until it would have expired anyway."""
    ttl = max(1, int(expires_at - datetime.now(UTC).timestamp()))
    get_redis().set(REVOKED_PREFIX + jti, "1", ex=ttl)


def register_jwt_callbacks(app: Flask) -> None:
    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        return bool(get_redis().exists(REVOKED_PREFIX + payload["jti"]))

    @jwt.user_lookup_loader
    def _lookup(_header: dict, payload: dict) -> User | None:
        user = db().get(User, int(payload["sub"]))
        return user if user is not None and user.active else None

    def _unauthorized(message: str) -> Response:
        return error_response(401, message)

    jwt.unauthorized_loader(lambda reason: _unauthorized("Missing or malformed Authorization header"))
    jwt.invalid_token_loader(lambda reason: _unauthorized("Invalid token"))
    jwt.expired_token_loader(lambda h, p: _unauthorized("Token has expired"))
    jwt.revoked_token_loader(lambda h, p: _unauthorized("Token has been revoked"))
    jwt.needs_fresh_token_loader(lambda h, p: _unauthorized("Fresh token required"))
    jwt.user_lookup_error_loader(lambda h, p: _unauthorized("User not found or inactive"))
    jwt.token_verification_failed_loader(lambda h, p: _unauthorized("Invalid token"))


def me() -> User:
    return current_user  # type: ignore[return-value]


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
