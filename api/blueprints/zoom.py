"""Meeting SDK signatures and host ZAK tokens (docs/api.md), with the trust model's authorisation."""

from __future__ import annotations

import logging
from typing import Any

from api.auth_context import (
    USER_UNAVAILABLE,
    auth_required,
    caller_id,
    check_caller,
    login_id,
    me,
    token_required,
)
from api.blueprints import api_blueprint
from api.errors import ApiError
from api.extensions import app_settings
from api.responses import created, no_store, ok
from api.schemas.common import responses, validated
from api.schemas.zoom import (
    SignatureBody,
    SignatureEnvelope,
    SignatureOut,
    ZakBody,
    ZakResponse,
)
from shared.access import Viewer, can_fetch_zak, can_sign
from shared.customer_key import customer_key, server_key
from shared.db import read_connections
from shared.models import ZoomStatus
from shared.zoom.client import get_zoom_client
from shared.zoom.errors import ZoomConfigError, ZoomError, ZoomNotFound
from shared.zoom.signature import meeting_sdk_signature

log = logging.getLogger(__name__)
bp = api_blueprint("zoom", __name__, "/zoom")


def _sdk_credentials() -> tuple[str, str]:
    settings = app_settings()
    key = settings.zoom_sdk_key or ""
    secret = settings.zoom_sdk_secret.get_secret_value() if settings.zoom_sdk_secret else ""
    missing = [name for name, value in (("ZOOM_SDK_KEY", key), ("ZOOM_SDK_SECRET", secret)) if not value]
    if missing:
        raise ApiError(500, f"Zoom Meeting SDK is not configured: set {', '.join(missing)}")
    return key, secret


MAX_MEETING_ID = 2**63 - 1  # zoom_meetings.meeting_id is a BIGINT

MEETING_ACCESS_SQL = """
SELECT users.active, users.tokens_valid_after,
       EXISTS (SELECT FROM revoked_logins WHERE revoked_logins.login_id = %(login)s) AS login_revoked,
       users.role, users.approved, users.zoom_user_id, halakat.teacher_id, halakat.zoom_host,
       EXISTS (SELECT FROM enrollments
               WHERE enrollments.halaka_id = halakat.id AND enrollments.student_id = users.id) AS enrolled
FROM users LEFT OUTER JOIN (
    zoom_meetings JOIN halakat ON halakat.id = zoom_meetings.halaka_id AND halakat.zoom_status != %(deleting)s
) ON zoom_meetings.meeting_id = %(meeting)s::BIGINT
WHERE users.id = %(user)s::INTEGER
"""
"""The caller's row (active, token cut-off, role, approval, linked Zoom user), whether the token's login
was revoked, and, if this is a meeting of a live halaka, its teacher, its host and whether the caller is
enrolled: one statement on the users PK, the revoked_logins PK, the unique meeting_id index, the halakat
PK and the enrollments PK. No row: the user is gone. Null teacher: not a platform meeting.

Plain SQL on a pooled autocommit connection (`shared.db.read_connections`), which psycopg prepares once
a connection has run it a few times: the hottest statement pays no ORM, no compilation and no
transaction."""


def meeting_access_params(meeting_number: int, user_id: int, login: str) -> dict[str, Any]:
    return {
        "meeting": meeting_number if meeting_number <= MAX_MEETING_ID else -1,  # beyond BIGINT: no meeting
        "user": user_id,
        "login": login,
        "deleting": ZoomStatus.deleting.value,
    }


def _meeting_access(meeting_number: int, user_id: int, login: str) -> tuple | None:
    """The row of `MEETING_ACCESS_SQL` for this caller and meeting; None: no such user."""
    params = meeting_access_params(meeting_number, user_id, login)
    return read_connections.fetch_one(MEETING_ACCESS_SQL, params)


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
        raise ApiError(401, USER_UNAVAILABLE)  # as `check_caller` answers for a user that is gone
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
    return no_store(
        created(
            "Zoom signature generated successfully",
            SignatureOut(
                signature=token, sdk_key=key, customer_key=customer_key(user_id, server_key(app_settings()))
            ),
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
    return no_store(ok("ZAK token fetched successfully", zak=zak))
