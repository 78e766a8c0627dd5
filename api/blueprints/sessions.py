"""Sessions of a halaka, one at a time (issue 11): the list, and cancel, restore, move and add.

A write records the wanted state of one session (`shared.sessions`, a `session_changes` row) under the
halaka's row lock, charges the shared-host budget, commits, then enqueues the session task
(`workers/sessions.py`), which brings Zoom to it under the provisioner's halaka lock. No Zoom call here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api.auth_context import auth_required
from api.blueprints import api_blueprint
from api.blueprints.halaka import charge_writes, load_managed, viewer
from api.db_session import db
from api.errors import ApiError
from api.extensions import app_settings
from api.responses import created, ok
from api.schemas.common import IdPath, responses, validated
from api.schemas.sessions import (
    SessionAdd,
    SessionCancel,
    SessionCreatedEnvelope,
    SessionEnvelope,
    SessionMove,
    SessionOut,
    SessionPath,
    SessionsEnvelope,
    SessionsOut,
    SessionsQuery,
)
from shared import sessions as single
from shared.celery_config import SESSION_TASK
from shared.models import Halaka, Role, SessionChange, ZoomStatus
from shared.task_queue import enqueue, lease

bp = api_blueprint("sessions", __name__, "/halaka", tag="halaka")
#: Upcoming extra sessions a halaka may hold (cancelled ones count until they are over): each is a Zoom
#: meeting of its own, and every sessions list and feed reads them all.
MAX_EXTRA_SESSIONS = 100


def _field_error(status: int, field: str, message: str) -> ApiError:
    return ApiError(status, f"{field}: {message}", [{"field": field, "message": message}])


def _instant(value: str, field: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A `from`/`to` value: a date (that day in the halaka's zone) or a date-time (naive: local)."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.max if end_of_day else time.min, tzinfo=zone)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.utcoffset() is None:
                moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _field_error(400, field, "must be a date (YYYY-MM-DD) or an ISO date-time") from None


def _out(halaka: Halaka, v: single.SessionView) -> SessionOut:
    return SessionOut(
        occurrence_id=v.occurrence_id,
        start_local=v.start_utc.astimezone(ZoneInfo(halaka.schedule.timezone)).isoformat(),
        start_utc=v.start_utc,
        duration=v.duration,
        meeting_id=str(v.meeting_id) if v.meeting_id is not None else None,
        status=v.status,
        cancel_reason=v.cancel_reason,
        original_start_utc=v.original_start_utc,
        extra=v.extra,
        restored=v.restored,
        pending=v.pending,
    )


@bp.get("/<int:id>/sessions", responses=responses({200: SessionsEnvelope}, 401, 404))
@auth_required()
@validated
def list_sessions(path: IdPath, query: SessionsQuery):
    """Sessions (from the one running now; `includePast`: the last 90 days too) in the halaka's timezone
    and in UTC, each with its `occurrenceId`, `status` (`scheduled | live | ended | cancelled`),
    `cancelReason` and, when moved, `originalStartUtc`. `from`/`to` bound the starts; `status` filters."""
    halaka = db().get(Halaka, path.id)
    if halaka is None:
        raise ApiError(404, "Halaka not found")
    zone = ZoneInfo(halaka.schedule.timezone)
    now = datetime.now(UTC)
    floor = now - timedelta(days=single.PAST_DAYS)
    since = floor if query.include_past else now - timedelta(minutes=halaka.schedule.duration)
    if query.from_ is not None:
        since = max(_instant(query.from_, "from", zone, end_of_day=False), floor)
    until = _instant(query.to, "to", zone, end_of_day=True) if query.to is not None else None
    views = single.halaka_sessions(
        db(), halaka, since=since, until=until, status=query.status, limit=query.limit
    )
    body = SessionsOut(timezone=halaka.schedule.timezone, sessions=[_out(halaka, v) for v in views])
    return ok("Sessions fetched successfully", body)


def _managed_ready(halaka_id: int) -> Halaka:
    halaka = load_managed(halaka_id)
    if halaka.zoom_status != ZoomStatus.ready:
        raise ApiError(
            409, f"Single sessions can be changed once the halaka is ready (it is {halaka.zoom_status})"
        )
    return halaka


def _planned(halaka: Halaka, occurrence_id: str) -> datetime:
    """The planned start an occurrence id names (404 unless it is a session of the schedule)."""
    start = single.start_of_occurrence(occurrence_id)
    if start is None or not single.planned_session_at(halaka.schedule, start):
        raise ApiError(404, "This halaka has no session with this occurrenceId")
    return start


def _change_of(halaka: Halaka, occurrence_id: str) -> SessionChange:
    """The session's change row, locked; a new (unsaved-yet) one for an untouched planned session."""
    change = single.find_change(db(), halaka.id, occurrence_id, lock=True)
    if change is not None:
        return change
    if occurrence_id.startswith(single.EXTRA_PREFIX):
        raise ApiError(404, "This halaka has no session with this occurrenceId")
    start = _planned(halaka, occurrence_id)
    change = SessionChange(
        halaka_id=halaka.id,
        occurrence_id=occurrence_id,
        planned_start=start,
        start_utc=start,
        duration=halaka.schedule.duration,
        cancelled=False,
        occurrence_deleted=False,
        version=0,
        applied_version=0,
    )
    db().add(change)
    return change


def _not_past(change: SessionChange, field: str = "occurrenceId") -> None:
    if change.start_utc <= datetime.now(UTC):
        raise _field_error(400, field, "this session has already begun or is over")


def _submit(halaka: Halaka, change: SessionChange, writes: int = 1) -> SessionChange:
    """A changed session: version up, charged, committed, enqueued (a lost enqueue is the
    reconciler's: the lease expires)."""
    if halaka.teacher is not None and viewer().role != Role.admin:
        charge_writes(halaka.teacher, writes)
    change.version += 1
    change.changed_at = datetime.now(UTC)
    change.tries, change.error = 0, None
    change.due_at = datetime.now(UTC) + lease()
    session = db()
    session.commit()
    enqueue(SESSION_TASK, change.id)
    return change


def _answer(halaka: Halaka, change: SessionChange, message: str):
    db().refresh(halaka)
    return ok(message, _out(halaka, single.view_of(halaka, change)))


@bp.post(
    "/<int:id>/sessions/<occurrence_id>/cancel",
    responses=responses({200: SessionEnvelope}, 401, 403, 404, 409, 429),
)
@auth_required(Role.teacher, Role.admin)
@validated
def cancel_session(path: SessionPath, body: SessionCancel):
    """Cancel one session: its Zoom occurrence is deleted (no e-mail), or its standalone meeting."""
    halaka = _managed_ready(path.id)
    change = _change_of(halaka, path.occurrence_id)
    if change.cancelled:
        return _answer(halaka, change, "Session already cancelled")
    _not_past(change)
    change.cancelled = True
    change.occurrence_deleted = change.occurrence_id is not None
    change.reason = body.reason.strip() or None if body.reason else None
    change.source = "platform"
    return _answer(halaka, _submit(halaka, change), "Session cancellation scheduled")


@bp.post(
    "/<int:id>/sessions/<occurrence_id>/restore",
    responses=responses({200: SessionEnvelope}, 401, 403, 404, 409, 429),
)
@auth_required(Role.teacher, Role.admin)
@validated
def restore_session(path: SessionPath):
    """Bring a cancelled session back: Zoom cannot undelete an occurrence, so a standalone scheduled
    meeting (type 2) holds it."""
    halaka = _managed_ready(path.id)
    change = single.find_change(db(), halaka.id, path.occurrence_id, lock=True)
    if change is None and path.occurrence_id.startswith(single.EXTRA_PREFIX):
        raise ApiError(404, "This halaka has no session with this occurrenceId")
    if change is None:
        _planned(halaka, path.occurrence_id)  # 404 unless a session of the schedule
    if change is None or not change.cancelled:
        raise ApiError(409, "Only a cancelled session can be restored")
    _not_past(change)
    if single.collides(
        db(), halaka, change.start_utc, change.duration, own=change, own_planned=change.planned_start
    ):
        raise _field_error(400, "occurrenceId", "another session now takes this session's time")
    change.cancelled, change.reason = False, None
    return _answer(halaka, _submit(halaka, change), "Session restore scheduled")


def _new_start(halaka: Halaka, body: SessionMove, current: datetime) -> tuple[datetime, str]:
    if body.start_utc is not None:
        if body.on_date is not None or body.start_time is not None:
            raise _field_error(400, "startUtc", "give either startUtc or date and startTime, not both")
        start = (
            body.start_utc if body.start_utc.utcoffset() is not None else body.start_utc.replace(tzinfo=UTC)
        )
        return start.astimezone(UTC), "startUtc"
    if body.on_date is None and body.start_time is None:
        return current, "duration"
    if body.on_date is None or body.start_time is None:
        field = "date" if body.on_date is None else "startTime"
        raise _field_error(400, field, "date and startTime go together")
    return _local(halaka, body.on_date, body.start_time), "date"


def _local(halaka: Halaka, day: date, at: time) -> datetime:
    try:
        return datetime.combine(day, at, tzinfo=ZoneInfo(halaka.schedule.timezone)).astimezone(UTC)
    except OverflowError:
        raise _field_error(400, "date", "out of range") from None


def _check_slot(
    halaka: Halaka, start: datetime, minutes: int, field: str, change: SessionChange | None
) -> None:
    if start <= datetime.now(UTC):
        raise _field_error(400, field, "must be in the future")
    settings = app_settings()
    reach = settings.schedule_horizon_days + settings.schedule_max_span_days
    if start.year >= 9999 or start > datetime.now(UTC) + timedelta(days=reach):
        raise _field_error(
            400, field, f"must be no later than {reach} days from now (as far as a schedule may reach)"
        )
    own_planned = change.planned_start if change is not None else None
    if single.collides(db(), halaka, start, minutes, own=change, own_planned=own_planned):
        raise _field_error(400, field, "overlaps another session of this halaka")


@bp.patch(
    "/<int:id>/sessions/<occurrence_id>",
    responses=responses({200: SessionEnvelope}, 401, 403, 404, 409, 429),
)
@auth_required(Role.teacher, Role.admin)
@validated
def move_session(path: SessionPath, body: SessionMove):
    """Move one session (`startUtc`, or `date` + `startTime` local to the halaka) and/or change its
    `duration`: its Zoom occurrence is PATCHed (or its standalone meeting)."""
    halaka = _managed_ready(path.id)
    change = _change_of(halaka, path.occurrence_id)
    if change.cancelled:
        raise ApiError(409, "A cancelled session cannot be moved: restore it first")
    _not_past(change)
    start, field = _new_start(halaka, body, change.start_utc)
    minutes = body.duration or change.duration
    if (start, minutes) == (change.start_utc, change.duration):  # no write, no charge, no new version
        if change.version == 0:
            db().expunge(change)
        return _answer(halaka, change, "Session unchanged")
    _check_slot(halaka, start, minutes, field, change)
    change.start_utc, change.duration = start, minutes
    return _answer(halaka, _submit(halaka, change), "Session move scheduled")


@bp.post("/<int:id>/sessions", responses=responses({201: SessionCreatedEnvelope}, 401, 403, 404, 409, 429))
@auth_required(Role.teacher, Role.admin)
@validated
def add_session(path: IdPath, body: SessionAdd):
    """An extra session: a standalone scheduled Zoom meeting (type 2) linked to the halaka."""
    halaka = _managed_ready(path.id)
    start = _local(halaka, body.on_date, body.start_time)
    minutes = body.duration or halaka.schedule.duration
    _check_slot(halaka, start, minutes, "date", None)
    if single.upcoming_extra_count(db(), halaka.id, datetime.now(UTC)) >= MAX_EXTRA_SESSIONS:
        raise _field_error(
            400, "date", f"a halaka holds at most {MAX_EXTRA_SESSIONS} upcoming extra sessions"
        )
    change = SessionChange(
        halaka_id=halaka.id, start_utc=start, duration=minutes, version=0, applied_version=0
    )
    db().add(change)
    db().flush()
    _submit(halaka, change)
    db().refresh(halaka)
    return created("Extra session scheduled", _out(halaka, single.view_of(halaka, change)))


__all__ = ["bp"]
