"""The authenticated user of a request and role checks (JWT via flask-jwt-extended)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache, wraps
from types import MappingProxyType
from typing import Any

import jwt as pyjwt
from flask import Flask, Response, current_app, g, request
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    current_user,
    decode_token,
    get_jwt,
    jwt_required,
    verify_jwt_in_request,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert

from api.db_session import db
from api.errors import ApiError, error_response
from api.extensions import jwt
from shared.models import RevokedLogin, Role, User

USER_UNAVAILABLE = "User not found or inactive"
REVOKED = "Token has been revoked"
LOGIN_CLAIM, AUTH_TIME_CLAIM = "lid", "auth_time"


class _Unloaded:
    """What `current_user` is under `token_required`: the view loads the user in its own query."""

    def __repr__(self) -> str:
        return "<user not loaded: the view checks it>"


UNLOADED = _Unloaded()


def login_claims(role: str, login_id: str | None = None, auth_time: float | None = None) -> dict[str, Any]:
    """The claims every token of one login carries: the role, the login's id (logout revokes both of its
    tokens) and the instant it began (`tokens_valid_after` revokes every login before it, to the µs)."""
    return {
        "role": role,
        LOGIN_CLAIM: login_id or uuid.uuid4().hex,
        AUTH_TIME_CLAIM: auth_time if auth_time is not None else time.time(),
    }


def issue_tokens(
    user_id: int, role: str, login_id: str | None = None, auth_time: float | None = None
) -> tuple[str, str]:
    """An access and a refresh token of one login."""
    claims = login_claims(role, login_id, auth_time)
    identity = str(user_id)
    return (
        create_access_token(identity=identity, additional_claims=claims),
        create_refresh_token(identity=identity, additional_claims=claims),
    )


def access_token_for(user: User, claims: Mapping[str, Any]) -> str:
    """A new access token of the same login (refresh)."""
    return issue_tokens(user.id, user.role, claims[LOGIN_CLAIM], claims[AUTH_TIME_CLAIM])[0]


def revoke_login(claims: Mapping[str, Any]) -> None:
    """Revoke the login the token belongs to (its access and refresh tokens) until it would expire."""
    expires = datetime.now(UTC) + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    statement = insert(RevokedLogin).values(login_id=claims[LOGIN_CLAIM], expires_at=expires)
    session = db()
    session.execute(statement.on_conflict_do_nothing())
    session.commit()


def revoke_all_logins(user: User) -> None:
    """Every token issued to the user so far stops working (logout-all, deactivation); the caller commits."""
    user.tokens_valid_after = datetime.now(UTC)


def token_revoked(auth_time: Any, valid_after: datetime | None, login_revoked: bool) -> bool:
    """Pure: a token is revoked when its login was, or its login began before `tokens_valid_after`.
    A token without a login time (minted before logins carried one) counts as revoked."""
    if login_revoked or not isinstance(auth_time, int | float):
        return True
    return valid_after is not None and auth_time <= valid_after.timestamp()


def login_revoked_clause(login_id: Any) -> Any:
    return exists().where(RevokedLogin.login_id == login_id)


def register_jwt_callbacks(app: Flask) -> None:
    app.extensions[RememberedDecodes.EXTENSION] = RememberedDecodes(app)

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        """One query: the token's user and whether its login was revoked; the user is kept for lookup."""
        row = (
            db()
            .execute(
                select(User, login_revoked_clause(payload.get(LOGIN_CLAIM, "")).label("revoked")).where(
                    User.id == int(payload["sub"])
                )
            )
            .first()
        )
        g._token_user = row[0] if row is not None else None
        if row is None or not row[0].active:
            return False  # the user lookup answers "User not found or inactive"
        return token_revoked(payload.get(AUTH_TIME_CLAIM), row[0].tokens_valid_after, row[1])

    @jwt.user_lookup_loader
    def _lookup(_header: dict, payload: dict) -> User | _Unloaded | None:
        if g.get("_defer_user_lookup"):
            return UNLOADED
        user = g.pop("_token_user", None)
        return user if user is not None and user.active else None

    def _unauthorized(message: str) -> Response:
        return error_response(401, message)

    jwt.unauthorized_loader(lambda reason: _unauthorized("Missing or malformed Authorization header"))
    jwt.invalid_token_loader(lambda reason: _unauthorized("Invalid token"))
    jwt.expired_token_loader(lambda h, p: _unauthorized("Token has expired"))
    jwt.revoked_token_loader(lambda h, p: _unauthorized(REVOKED))
    jwt.needs_fresh_token_loader(lambda h, p: _unauthorized("Fresh token required"))
    jwt.user_lookup_error_loader(lambda h, p: _unauthorized(USER_UNAVAILABLE))
    jwt.token_verification_failed_loader(lambda h, p: _unauthorized("Invalid token"))


def me() -> User:
    user = current_user
    if user is UNLOADED:
        raise RuntimeError("under token_required the view loads the user itself (caller_id, check_caller)")
    return user


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
    """Every token check of `auth_required` (signature, `alg`, expiry, access type), but the user row and
    the revocation are left to the view, which reads them in the same statement as whatever else it
    needs and passes what it read to `check_caller`: one database round trip, no Redis.

    The common case (one well-formed `Authorization: Bearer <jwt>`) is verified with flask-jwt-extended's
    public `decode_token`, remembered per token until it expires (`RememberedDecodes`); anything else
    goes through its full `verify_jwt_in_request`, so every failure answers exactly as elsewhere.
    `me()` raises under this decorator, so a view cannot silently run without its user check.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g._defer_user_lookup = True
        claims = remembered_decodes().claims()
        if claims is None:
            verify_jwt_in_request(skip_revocation_check=True)  # the view checks revocation in its query
            claims = get_jwt()
        g.token_claims = claims
        return view(*args, **kwargs)

    return wrapper


class RememberedDecodes:
    """The claims of the request's access token, verified by flask-jwt-extended's `decode_token` and
    remembered per token (at most `MAX_TOKENS`) until its `exp`, so a client re-using its token pays the
    decode once. One per app (its settings and key): `remembered_decodes()`.

    Only the usual form is handled here: a header-only app, the token in `JWT_HEADER_NAME` after
    `JWT_HEADER_TYPE` and one space, and no decode-key or claims-verification loader registered
    (`api.extensions.JWT` notes those, the only checks `decode_token` may not run or may answer
    differently for later). Anything else (no header, another form, a failure, an expired remembered
    token) returns None and the caller runs the library's full check, which answers as every endpoint
    does. Failures are not remembered; revocation never is (the view reads it in PostgreSQL).
    """

    MAX_TOKENS = 4096
    EXTENSION = "halaka-remembered-decodes"

    def __init__(self, app: Flask) -> None:
        config = app.config
        locations = config["JWT_TOKEN_LOCATION"]
        self.headers_only = [locations] == ["headers"] or list(locations) == ["headers"]
        self.header_name: str = config["JWT_HEADER_NAME"]
        self.prefix: str = config["JWT_HEADER_TYPE"] + " "
        self.leeway = _seconds(config["JWT_DECODE_LEEWAY"])
        self.identity_claim: str = config["JWT_IDENTITY_CLAIM"]
        self._decode = lru_cache(maxsize=self.MAX_TOKENS)(_decode_once)

    def claims(self) -> Mapping[str, Any] | None:
        token = self._usual_token()
        if token is None:
            return None
        try:
            claims = self._decode(token)
        except (pyjwt.PyJWTError, JWTExtendedException):
            return None
        exp = claims.get("exp")
        if exp is not None and exp <= time.time() - self.leeway:
            return None  # expired since it was first verified: the full path answers "Token has expired"
        if claims["type"] != "access":
            return None
        return claims

    def _usual_token(self) -> str | None:
        if not self.headers_only or jwt.custom_verification:
            return None
        header = request.headers.get(self.header_name, "")
        if not header.startswith(self.prefix) or "," in header:
            return None
        token = header[len(self.prefix) :]
        return token if token and " " not in token else None


def _decode_once(token: str) -> Mapping[str, Any]:
    """flask-jwt-extended's own verification of `token` (signature, algorithms, `exp`/`nbf`/`iat`,
    audience, issuer, the identity claim), read-only so that no caller can change what is remembered."""
    return MappingProxyType(decode_token(token))


def _seconds(leeway: float | timedelta) -> float:
    return leeway.total_seconds() if isinstance(leeway, timedelta) else leeway


def remembered_decodes() -> RememberedDecodes:
    return current_app.extensions[RememberedDecodes.EXTENSION]


def caller_id() -> int:
    """The user id of the verified token (under `token_required`)."""
    return int(g.token_claims[remembered_decodes().identity_claim])


def login_id() -> str:
    """The login id of the verified token (under `token_required`), for `login_revoked_clause`."""
    return str(g.token_claims.get(LOGIN_CLAIM, ""))


def check_caller(
    active: bool | None, valid_after: datetime | None = None, login_revoked: bool = False
) -> None:
    """401 exactly as `auth_required` answers when the token's user is deactivated or gone (None), or
    the token was revoked (read in the view's own query)."""
    if active is None:
        raise ApiError(401, USER_UNAVAILABLE)
    if token_revoked(g.token_claims.get(AUTH_TIME_CLAIM), valid_after, login_revoked):
        raise ApiError(401, REVOKED)
    if not active:
        raise ApiError(401, USER_UNAVAILABLE)
