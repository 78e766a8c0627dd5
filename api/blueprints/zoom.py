"""Meeting SDK signatures and host ZAK tokens (DESIGN.md 4.1), with the 4.2 authorisation."""

from __future__ import annotations

import logging

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import exists, select

from api.auth_context import auth_required, me
from api.db_session import db
from api.errors import ApiError
from api.responses import created
from api.schemas.common import responses
from api.schemas.zoom import SignatureBody, SignatureEnvelope, SignatureOut, ZakBody, ZakResponse
from shared.access import Viewer, can_fetch_zak, can_sign
from shared.models import Enrollment, Halaka, ZoomMeeting, ZoomStatus
from shared.settings import get_settings
from shared.zoom.client import get_zoom_client
from shared.zoom.errors import CODE_USER_NOT_FOUND, ZoomConfigError, ZoomError, ZoomNotFound
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


def _meeting_access(meeting_number: int, user_id: int) -> tuple[int, bool] | None:
    """(teacher id, caller enrolled) of the live halaka holding this meeting: one indexed query."""
    enrolled = exists().where(Enrollment.halaka_id == Halaka.id, Enrollment.student_id == user_id)
    row = (
        db()
        .execute(
            select(Halaka.teacher_id, enrolled)
            .join(ZoomMeeting, ZoomMeeting.halaka_id == Halaka.id)
            .where(
                ZoomMeeting.meeting_id == meeting_number,
                Halaka.zoom_status.not_in((ZoomStatus.deleting, ZoomStatus.deleted)),
            )
        )
        .first()
    )
    return (row[0], bool(row[1])) if row else None


@bp.post("/signature", responses=responses({201: SignatureEnvelope}, 401, 403, 404))
@auth_required()
def signature(body: SignatureBody):
    """A Meeting SDK signature to join (role 0) or start (role 1) a meeting of this platform."""
    key, secret = _sdk_credentials()
    user = me()
    access = _meeting_access(int(body.meeting_number), user.id)
    if access is None:
        raise ApiError(404, "No halaka on this platform has this meeting number")
    if not can_sign(Viewer(user.id, user.role), access[0], access[1], body.role):
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
        created("Zoom signature generated successfully", SignatureOut(signature=token, sdk_key=key))
    )


@bp.post("/zak-token", responses=responses({200: ZakResponse}, 401, 403, 404))
@auth_required()
def zak_token(body: ZakBody):
    """The host's ZAK, to start a meeting as host. Never cached, never logged."""
    user = me()
    if not can_fetch_zak(Viewer(user.id, user.role, user.zoom_user_id), body.user_id):
        raise ApiError(403, "You may only fetch the ZAK of the Zoom user linked to your account")
    try:
        zak = get_zoom_client().get_zak(body.user_id)
    except ZoomConfigError as exc:
        raise ApiError(500, exc.message) from None
    except ZoomNotFound as exc:
        if exc.code == CODE_USER_NOT_FOUND:
            raise ApiError(404, "Zoom user not found") from None
        raise ApiError(500, "Failed to fetch ZAK token") from None
    except ZoomError as exc:
        log.warning("ZAK fetch failed", extra={"error": type(exc).__name__, "code": exc.code})
        raise ApiError(500, "Failed to fetch ZAK token") from None
    return _no_store(jsonify({"status": "success", "message": "ZAK token fetched successfully", "zak": zak}))
