"""Register, login, refresh, logout, me (DESIGN.md 4.3)."""

from __future__ import annotations

import logging

from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
    jwt_required,
)
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth_context import auth_required, me, revoke_token
from api.db_session import db
from api.errors import ApiError
from api.extensions import limiter, login_email_key
from api.responses import created, ok
from api.schemas.common import MessageResponse, responses, validated
from api.schemas.users import (
    AccessTokenEnvelope,
    AccessTokenOut,
    LoginBody,
    LogoutBody,
    RegisterBody,
    TokensEnvelope,
    TokensOut,
    UserCreatedEnvelope,
    UserEnvelope,
    UserOut,
)
from shared.models import Role, User
from shared.passwords import hash_password, verify_password
from shared.settings import get_settings

log = logging.getLogger(__name__)
SECURITY = [{"jwt": []}]
bp = APIBlueprint("auth", __name__, url_prefix="/api/v1/auth", abp_tags=[Tag(name="auth")])


def _login_limit() -> str:
    return get_settings().login_rate_limit


@bp.post("/register", responses=responses({201: UserCreatedEnvelope}, 409))
def register(body: RegisterBody):
    """Create a student or teacher account (admins are created with the CLI)."""
    user = User(
        name=body.name,
        email=str(body.email).lower(),
        password_hash=hash_password(body.password),
        role=body.role,
        active=True,
    )
    session = db()
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ApiError(
            409,
            "A user with this email already exists",
            [{"field": "email", "message": "already registered"}],
        ) from None
    log.info("user registered", extra={"user_id": user.id, "role": user.role})
    return created("User registered successfully", UserOut.of(user))


@bp.post("/login", responses=responses({200: TokensEnvelope}, 401, 429))
@limiter.limit(_login_limit, key_func=login_email_key)
@limiter.limit(_login_limit)
def login(body: LoginBody):
    """Exchange email and password for an access and a refresh token."""
    user = db().scalar(select(User).where(User.email == body.email.strip().lower()))
    if not verify_password(user.password_hash if user else None, body.password) or not user.active:
        log.info("login failed")
        raise ApiError(401, "Invalid email or password")
    claims = {"role": user.role}
    tokens = TokensOut(
        access_token=create_access_token(identity=str(user.id), additional_claims=claims),
        refresh_token=create_refresh_token(identity=str(user.id), additional_claims=claims),
        user=UserOut.of(user),
    )
    log.info("login succeeded", extra={"user_id": user.id})
    return ok("Logged in successfully", tokens)


@bp.post("/refresh", responses=responses({200: AccessTokenEnvelope}, 401), security=SECURITY)
@jwt_required(refresh=True)
def refresh():
    """Use a refresh token (as the bearer token) to get a new access token."""
    user = me()
    token = create_access_token(identity=str(user.id), additional_claims={"role": user.role})
    return ok("Token refreshed successfully", AccessTokenOut(access_token=token))


@bp.post("/logout", responses=responses({200: MessageResponse}, 401), security=SECURITY)
@jwt_required(verify_type=False)
@validated
def logout(body: LogoutBody):
    """Revoke the bearer token (access or refresh) and, if given, the refresh token in the body."""
    claims = get_jwt()
    revoke_token(claims["jti"], claims["exp"])
    if body.refresh_token:
        try:
            other = decode_token(body.refresh_token)
        except Exception:  # noqa: BLE001 - an invalid token needs no revoking
            other = None
        if other and other.get("sub") == claims["sub"]:
            revoke_token(other["jti"], other["exp"])
    return ok("Logged out successfully")


@bp.get("/me", responses=responses({200: UserEnvelope}, 401), security=SECURITY)
@auth_required()
def get_me():
    """The authenticated user."""
    return ok("Current user", UserOut.of(me()))


__all__ = ["Role", "bp"]
