"""`GET /api/v1/halaka/{id}/attendance`: who attended each session that took place, from Zoom's
participant events (README, Trust model: the halaka's teacher and admins see everyone, an enrolled student
only their own rows). `?format=csv` downloads the same rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask import Response
from sqlalchemy import select

from api.auth_context import auth_required, me
from api.blueprints import api_blueprint
from api.db_session import db
from api.errors import ApiError
from api.extensions import app_settings
from api.responses import ok
from api.schemas.attendance import (
    AttendanceEnvelope,
    AttendanceOut,
    AttendanceQuery,
    AttendeeOut,
    SessionAttendanceOut,
)
from api.schemas.common import IdPath, responses, validated
from shared import attendance
from shared.access import Viewer, attendance_scope
from shared.models import AttendanceInterval, Enrollment, Halaka, MeetingInstance, User

bp = api_blueprint("attendance", __name__, "/halaka", tag="halaka")
CSV_COLUMNS = (
    "sessionStartUtc",
    "sessionStatus",
    "userId",
    "name",
    "minutes",
    "joinedAt",
    "leftAt",
    "status",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rules() -> attendance.Rules:
    settings = app_settings()
    return attendance.Rules(settings.attendance_late_minutes, settings.attendance_min_presence_percent)


def _report(halaka: Halaka, only_user: int | None) -> list[attendance.SessionAttendance]:
    session = db()
    instances = [
        attendance.Instance(i.id, i.scheduled_start, i.status, i.started_at, i.ended_at)
        for i in session.scalars(select(MeetingInstance).where(MeetingInstance.halaka_id == halaka.id))
    ]
    intervals = [
        attendance.Interval(r.instance_id, r.identity, r.user_id, r.name, r.joined_at, r.left_at)
        for r in session.scalars(
            select(AttendanceInterval)
            .join(MeetingInstance, MeetingInstance.id == AttendanceInterval.instance_id)
            .where(MeetingInstance.halaka_id == halaka.id)
            .order_by(AttendanceInterval.id)
        )
    ]
    enrolled = dict(
        session.execute(
            select(User.id, User.name)
            .join(Enrollment, Enrollment.student_id == User.id)
            .where(Enrollment.halaka_id == halaka.id)
        ).all()
    )
    return attendance.report(
        instances,
        intervals,
        enrolled=enrolled,
        duration=halaka.schedule.duration,
        rules=_rules(),
        now=datetime.now(UTC),
        only_user=only_user,
    )


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula (a guest's display name) is quoted."""
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(halaka_id: int, sessions: list[SessionAttendanceOut]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for s in sessions:
        for a in s.attendees:
            row = (s.start_utc, s.status, a.user_id, a.name, a.minutes, a.joined_at, a.left_at, a.status)
            writer.writerow([_cell(v) for v in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="halaka-{halaka_id}-attendance.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:id>/attendance", responses=responses({200: AttendanceEnvelope}, 401, 403, 404))
@auth_required()
@validated
def get_attendance(path: IdPath, query: AttendanceQuery):
    """Attendance of each session that took place: present, late or absent, minutes, first join and
    last leave. The halaka's teacher and admins: everyone; an enrolled student: their own rows."""
    halaka = db().get(Halaka, path.id)
    if halaka is None:
        raise ApiError(404, "Halaka not found")
    user = me()
    enrolled = db().get(Enrollment, (halaka.id, user.id)) is not None
    scope = attendance_scope(
        Viewer(user.id, user.role, user.zoom_user_id, user.approved), halaka.teacher_id, enrolled
    )
    if scope is None:
        raise ApiError(403, "Only the halaka's teacher, an admin or an enrolled student may see attendance")
    sessions = [
        SessionAttendanceOut(
            start_utc=s.start_utc,
            status=s.status,
            started_at=s.started_at,
            ended_at=s.ended_at,
            attendees=[AttendeeOut(**a.__dict__) for a in s.attendees],
        )
        for s in _report(halaka, None if scope == "all" else user.id)
    ]
    if query.format == "csv":
        return _csv(halaka.id, sessions)
    return ok("Attendance fetched successfully", AttendanceOut(sessions=sessions))
