"""Meeting SDK signatures and host ZAK tokens (DESIGN.md 4.1), with the 4.2 authorisation."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from flask import Response, request
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import BigInteger, BindParameter, Integer, Select, String, and_, bindparam, exists, select

from api.auth_context import (
    auth_required,
    caller_id,
    check_caller,
    login_id,
    login_revoked_clause,
    me,
    token_required,
)
from api.errors import ApiError
from api.extensions import limiter
from api.responses import created, ok
from api.schemas.common import responses, validated
from api.schemas.zoom import (
    SignatureBody,
    SignatureEnvelope,
    SignatureOut,
    ZakBody,
    ZakResponse,
)
from shared.access import Viewer, can_fetch_zak, can_sign
from shared.customer_key import customer_key
from shared.db import get_engine, read_connections
from shared.models import Enrollment, Halaka, User, ZoomMeeting, ZoomStatus
from shared.settings import get_settings
from shared.zoom.client import get_zoom_client
from shared.zoom.errors import ZoomConfigError, ZoomError, ZoomNotFound
from shared.zoom.signature import meeting_sdk_signature

log = logging.getLogger(__name__)
bp = APIBlueprint(
    "zoom",
    __name__,
    url_prefix="/api/v1/zoom",
    abp_tags=[Tag(name="zoom")],
    abp_security=[{"jwt": []}],
)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _sdk_credentials() -> tuple[str, str]:
    settings = get_settings()
    key = settings.zoom_sdk_key or ""
    secret = settings.zoom_sdk_secret.get_secret_value() if settings.zoom_sdk_secret else ""
    missing = [name for name, value in (("ZOOM_SDK_KEY", key), ("ZOOM_SDK_SECRET", secret)) if not value]
    if missing:
        raise ApiError(500, f"Zoom Meeting SDK is not configured: set {', '.join(missing)}")
    return key, secret


MAX_MEETING_ID = 2**63 - 1  # zoom_meetings.meeting_id is a BIGINT


def meeting_access_statement(
    meeting_number: int | BindParameter, user_id: int | BindParameter, login: str | BindParameter
) -> Select:
    """The caller's row (active, role, approval, linked Zoom user, token cut-off), whether the token's
    login was revoked, and, if this is a meeting of a live halaka, its teacher, its host and whether the
    caller is enrolled: one statement on the users PK, the revoked_logins PK, the unique meeting_id
    index, the halakat PK and the enrollments PK. No row: the user is gone. Null teacher: not a platform
    meeting."""
    enrolled = exists().where(Enrollment.halaka_id == Halaka.id, Enrollment.student_id == User.id)
    live_meeting = ZoomMeeting.__table__.join(
        Halaka.__table__,
        and_(
            Halaka.id == ZoomMeeting.halaka_id,
            Halaka.zoom_status != ZoomStatus.deleting.value,
        ),
    )
    return (
        select(
            User.active,
            User.tokens_valid_after,
            login_revoked_clause(login).label("login_revoked"),
            User.role,
            User.approved,
            User.zoom_user_id,
            Halaka.teacher_id,
            Halaka.zoom_host,
            enrolled.label("enrolled"),
        )
        .select_from(User.__table__)
        .outerjoin(live_meeting, ZoomMeeting.meeting_id == meeting_number)
        .where(User.id == user_id)
    )


@lru_cache(maxsize=1)
def _meeting_access_sql() -> tuple[str, dict[str, Any]]:
    """The statement compiled once for the driver, with its constant parameters."""
    statement = meeting_access_statement(
        bindparam("meeting", 0, type_=BigInteger()),
        bindparam("user", 0, type_=Integer()),
        bindparam("login", "", type_=String()),
    )
    compiled = statement.compile(dialect=get_engine().dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), dict(compiled.params)


def _meeting_access(meeting_number: int, user_id: int, login: str) -> tuple | None:
    """The row of `meeting_access_statement` for this caller and meeting; None: no such user."""
    sql, constants = _meeting_access_sql()
    meeting = meeting_number if meeting_number <= MAX_MEETING_ID else -1  # beyond BIGINT: no meeting
    return read_connections.fetch_one(sql, {**constants, "meeting": meeting, "user": user_id, "login": login})


@limiter.request_filter
def _signature_is_not_rate_limited() -> bool:
    """The signature route has no limit; this spares it the limiter's per-request bookkeeping (about
    a tenth of its CPU), which `limiter.exempt` would still run."""
    return request.endpoint == "zoom.signature"


@bp.post("/signature", responses=responses({201: SignatureEnvelope}, 401, 403, 404))
@token_required
@validated
def signature(body: SignatureBody):
    """A Meeting SDK signature to join (role 0) or start (role 1) a meeting of this platform.

    Never calls Zoom; one indexed query reads the caller's account and their relation to the meeting."""
    key, secret = _sdk_credentials()
    user_id = caller_id()
    row = _meeting_access(int(body.meeting_number), user_id, login_id())
    if row is None:
        check_caller(None, None, False)
    active, valid_after, login_revoked, role, approved, zoom_user, teacher_id, host, enrolled = row
    check_caller(active, valid_after, login_revoked)
    if teacher_id is None:
        raise ApiError(404, "No halaka on this platform has this meeting number")
    viewer = Viewer(user_id, role, zoom_user, approved)
    if not can_sign(viewer, teacher_id, bool(enrolled), body.role, host):
        raise ApiError(403, "You may not join this meeting with this role")
    token = meeting_sdk_signature(
        sdk_key=key,
        sdk_secret=secret,
        meeting_number=body.meeting_number,
        role=body.role,
        expiration_seconds=body.expiration_seconds,
        video_webrtc_mode=body.video_webrtc_mode,
    )
    return _no_store(
        created(
            "Zoom signature generated successfully",
            SignatureOut(signature=token, sdk_key=key, customer_key=customer_key(user_id)),
        )
    )


@bp.post("/zak-token", responses=responses({200: ZakResponse}, 401, 403, 404))
@auth_required()
@validated
def zak_token(body: ZakBody):
    """The host's ZAK, to start a meeting as host. Never cached, never logged."""
    user = me()
    if not can_fetch_zak(Viewer(user.id, user.role, user.zoom_user_id, user.approved), body.user_id):
        raise ApiError(403, "You may only fetch the ZAK of the Zoom user linked to your account")
    try:
        zak = get_zoom_client().get_zak(body.user_id)
    except ZoomConfigError as exc:
        raise ApiError(500, exc.message) from None
    except ZoomNotFound:
        raise ApiError(404, "Zoom user not found") from None
    except ZoomError as exc:
        log.warning("ZAK fetch failed", extra={"error": type(exc).__name__, "code": exc.code})
        raise ApiError(500, "Failed to fetch ZAK token") from None
    return _no_store(ok("ZAK token fetched successfully", zak=zak))
