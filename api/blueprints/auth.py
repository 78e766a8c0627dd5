"""Register, login, refresh, logout, me (docs/api.md)."""

from __future__ import annotations

import logging

from flask_jwt_extended import get_jwt, jwt_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.auth_context import (
    access_token_for,
    auth_required,
    issue_tokens,
    me,
    revoke_all_logins,
    revoke_login,
)
from api.blueprints import BEARER, api_blueprint
from api.db_session import db
from api.errors import ApiError
from api.extensions import (
    app_settings,
    known_client,
    limiter,
    login_account_key,
    login_failed,
    remember_client,
)
from api.responses import created, ok
from api.schemas.common import MessageResponse, responses, validated
from api.schemas.users import (
    AccessTokenEnvelope,
    AccessTokenOut,
    LoginBody,
    LogoutBody,
    MeEnvelope,
    MeOut,
    RegisterBody,
    TokensEnvelope,
    TokensOut,
    UserCreatedEnvelope,
    UserOut,
)
from shared.host_budget import budget_of
from shared.models import Role, User
from shared.passwords import hash_password, verify_password

log = logging.getLogger(__name__)
bp = api_blueprint("auth", __name__, "/auth", secured=False)  # register and login need no token


def _login_limit() -> str:
    return app_settings().login_rate_limit


def _account_limit() -> str:
    return app_settings().login_account_rate_limit


def _register_limit() -> str:
    return app_settings().register_rate_limit


def _approved_on_signup(role: str) -> bool:
    """Students are approved at once; teachers per TEACHER_SIGNUP (approval | open | closed)."""
    policy = app_settings().teacher_signup
    if role != Role.teacher:
        return True
    if policy == "closed":
        raise ApiError(
            403,
            "Teacher sign-up is closed: ask an admin for a teacher account",
            [{"field": "role", "message": "teacher sign-up is closed"}],
        )
    return policy == "open"


@bp.post("/register", responses=responses({201: UserCreatedEnvelope}, 403, 409, 429))
@limiter.limit(_register_limit)
def register(body: RegisterBody):
    """Create a student or teacher account (admins are created with the CLI); a self-registered teacher
    waits for an admin's approval before creating halakat (TEACHER_SIGNUP)."""
    user = User(
        name=body.name,
        email=str(body.email).lower(),
        password_hash=hash_password(body.password),
        role=body.role,
        active=True,
        approved=_approved_on_signup(body.role),
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
@limiter.limit(_account_limit, key_func=login_account_key, deduct_when=login_failed, exempt_when=known_client)
@limiter.limit(_login_limit)
def login(body: LoginBody):
    """Exchange email and password for an access and a refresh token (one login: logout revokes both)."""
    email = body.email.strip().lower()
    user = db().scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else None, body.password) or not (user and user.active):
        log.info("login failed")
        raise ApiError(401, "Invalid email or password")
    access, refresh_token = issue_tokens(user.id, user.role)
    remember_client(email)
    log.info("login succeeded", extra={"user_id": user.id})
    return ok(
        "Logged in successfully",
        TokensOut(access_token=access, refresh_token=refresh_token, user=UserOut.of(user)),
    )


@bp.post("/refresh", responses=responses({200: AccessTokenEnvelope}, 401), security=BEARER)
@jwt_required(refresh=True)
def refresh():
    """Use a refresh token (as the bearer token) to get a new access token of the same login."""
    token = access_token_for(me(), get_jwt())
    return ok("Token refreshed successfully", AccessTokenOut(access_token=token))


@bp.post("/logout", responses=responses({200: MessageResponse}, 401), security=BEARER)
@jwt_required(verify_type=False)
@validated
def logout(body: LogoutBody):
    """Revoke the whole login of the bearer token (access or refresh): its access and refresh tokens.
    A `refreshToken` in the body is accepted for older clients; it belongs to the same login."""
    revoke_login(get_jwt())
    return ok("Logged out successfully")


@bp.post("/logout-all", responses=responses({200: MessageResponse}, 401), security=BEARER)
@jwt_required(verify_type=False)
def logout_all():
    """Revoke every login of the user, on every device (tokens issued before now stop working)."""
    user = me()
    revoke_all_logins(user)
    db().commit()
    log.info("all logins revoked", extra={"user_id": user.id})
    return ok("Logged out everywhere")


@bp.get("/me", responses=responses({200: MeEnvelope}, 401), security=BEARER)
@auth_required()
def get_me():
    """The authenticated user, with what is left today of their Zoom-write budget on a shared host."""
    user = me()
    return ok(
        "Current user",
        MeOut(**UserOut.of(user).model_dump(), zoom_write_budget=budget_of(user, app_settings())),
    )


__all__ = ["Role", "bp"]
