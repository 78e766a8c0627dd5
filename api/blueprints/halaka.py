"""Halaka endpoints (docs/api.md). Create never calls Zoom: it commits, then enqueues."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert

from api import start_links
from api.auth_context import auth_required, me
from api.blueprints import api_blueprint
from api.db_session import db
from api.errors import ApiError
from api.extensions import app_settings
from api.halaka_view import current_meeting, halaka_out
from api.responses import created, no_store, ok
from api.schemas.common import IdPath, MessageResponse, responses, validated
from api.schemas.halaka import (
    HalakaCreate,
    HalakaCreatedEnvelope,
    HalakaEnvelope,
    HalakaPage,
    HalakaPageEnvelope,
    HalakaPatch,
    HalakaQuery,
    PreferHeader,
    StartEnvelope,
    StartOut,
)
from api.waiting import wait_for_outcome, wait_slot
from shared import host_budget, lifecycle, sessions
from shared.access import Viewer, can_create_halaka, can_enroll, can_host, can_manage_halaka
from shared.celery_config import DELETE_TASK, SESSION_TASK, SYNC_TASK
from shared.db import read_connections
from shared.models import Enrollment, Halaka, HostCredentialAudit, Role, User, ZoomStatus
from shared.task_queue import enqueue
from shared.zoom.errors import ZoomError
from shared.zoom.recurrence import (
    MAX_SESSIONS,
    Bounds,
    Schedule,
    ScheduleError,
    check_bounds,
    count_sessions,
    validate_schedule,
)

log = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 30
IN_PROGRESS = {ZoomStatus.pending, ZoomStatus.provisioning, ZoomStatus.updating}
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait=(\d+)")

bp = api_blueprint("halaka", __name__, "/halaka")


def viewer() -> Viewer:
    user = me()
    return Viewer(user.id, user.role, user.zoom_user_id, user.approved)


def _load(halaka_id: int, *, lock: bool = False) -> Halaka:
    """The halaka (404 if none); with `lock`, under a row lock until this request commits."""
    halaka = lifecycle.lock(db(), halaka_id) if lock else db().get(Halaka, halaka_id)
    if halaka is None:
        raise ApiError(404, "Halaka not found")
    return halaka


def load_managed(halaka_id: int) -> Halaka:
    """A halaka the caller may change, locked: concurrent changes of one halaka apply one after another."""
    halaka = _load(halaka_id, lock=True)
    if not can_manage_halaka(viewer(), halaka.teacher_id):
        raise ApiError(403, "Only the halaka's teacher or an admin may do this")
    if halaka.zoom_status == ZoomStatus.deleting:
        raise ApiError(409, "This halaka is being deleted")
    return halaka


def _is_enrolled(halaka_id: int, user_id: int) -> bool:
    return bool(
        db().scalar(
            select(exists().where(Enrollment.halaka_id == halaka_id, Enrollment.student_id == user_id))
        )
    )


def _bounds() -> Bounds:
    settings = app_settings()
    return Bounds(
        settings.schedule_past_days, settings.schedule_horizon_days, settings.schedule_max_span_days
    )


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(400, f"Invalid schedule: {message}", [{"field": field, "message": message}])


def _checked_schedule(schedule: Schedule, *, start_changed: bool = True) -> Schedule:
    """Validate a schedule (400 naming the field): its dates within the bounds, then at least one and
    at most MAX_SESSIONS upcoming sessions, counted lazily and no further than MAX_SESSIONS + 1."""
    now = datetime.now(UTC)
    try:
        validate_schedule(schedule)
        check_bounds(schedule, now.date(), _bounds(), start_changed=start_changed)
        upcoming = count_sessions(schedule, after=now, cap=MAX_SESSIONS)
    except ScheduleError as exc:
        raise _invalid(exc.field, exc.message) from None
    if not upcoming:
        raise _invalid("schedule.endDate", "every session is in the past")
    if upcoming > MAX_SESSIONS:
        raise _invalid("schedule.endDate", f"at most {MAX_SESSIONS} sessions per halaka")
    return schedule


def _zoom_host(teacher: User) -> str:
    host = teacher.zoom_user_id or app_settings().zoom_default_host_user
    if not host:
        raise ApiError(
            409,
            "No Zoom user is linked to this teacher and no default host is configured: "
            "an admin must link a Zoom user (PATCH /api/v1/users/{id} zoomUserId)",
        )
    return host


def _teacher_for(body: HalakaCreate) -> User:
    me_ = me()
    if me_.role != Role.admin:
        if body.teacher_id not in (None, me_.id):
            raise ApiError(
                403,
                "Teachers create halakat for themselves only",
                [{"field": "teacherId", "message": "only admins may set it"}],
            )
        return me_
    if body.teacher_id is None:
        raise ApiError(
            400,
            "teacherId is required when an admin creates a halaka",
            [{"field": "teacherId", "message": "required for admins"}],
        )
    teacher = db().get(User, body.teacher_id)
    if teacher is None or teacher.role != Role.teacher or not teacher.active or not teacher.approved:
        raise ApiError(
            400,
            "teacherId must be an active, approved teacher",
            [{"field": "teacherId", "message": "not an active, approved teacher"}],
        )
    return teacher


def _schedule_work(halaka: Halaka, task: str) -> None:
    """Commit the row, then enqueue; a failed enqueue leaves it due for the reconciler."""
    session = db()
    session.commit()
    if not enqueue(task, halaka.id):
        lifecycle.release(session, halaka.id)
        session.commit()


def _transition(change: Callable[[Halaka], None], halaka: Halaka, refused: str) -> None:
    """A lifecycle change of the locked halaka; a transition its state does not allow is 409."""
    try:
        change(halaka)
    except lifecycle.Refused as exc:
        raise ApiError(409, f"{refused} (it is {exc.state})") from None


def _wait_seconds(prefer: str | None) -> int:
    match = _PREFER_WAIT.search(prefer or "")
    return min(int(match.group(1)), MAX_WAIT_SECONDS) if match else 0


def _settled(halaka_id: int) -> bool:
    """One autocommit read of the halaka's status (no transaction is held while waiting)."""
    row = read_connections.fetch_one(_STATUS_SQL, {"id": halaka_id})
    return row is None or row[0] not in IN_PROGRESS


_STATUS_SQL = "SELECT zoom_status FROM halakat WHERE id = %(id)s"


def _charge_zoom_writes(teacher: User, schedule: Schedule, more: int = 0) -> None:
    """A teacher on a shared host spends their daily Zoom-write budget (429 when it would run out):
    one write per segment, plus `more`; admins and teachers on their own Zoom user are bounded by
    Zoom's per-host limit only."""
    settings = app_settings()
    if me().role == Role.admin or host_budget.shared_host_of(teacher, settings) is None:
        return
    charge_writes(teacher, host_budget.writes_for(schedule) + more, "this change")


def charge_writes(teacher: User, writes: int, what: str = "this session change") -> None:
    """Spend `writes` of a shared-host teacher's daily budget (429 when it would run out)."""
    settings = app_settings()
    host = host_budget.shared_host_of(teacher, settings)
    if host is None:
        return
    charged, budget = host_budget.charge(host, teacher.id, writes, settings)
    if not charged:
        raise ApiError(
            429,
            f"Daily Zoom budget on the shared host reached: {what} needs {writes} Zoom meeting "
            f"write(s) and {budget.remaining} of {budget.limit} remain today (resets at 00:00 UTC). "
            "Ask an admin to link your own Zoom user for more.",
        )


@bp.post("/", responses=responses({201: HalakaCreatedEnvelope}, 401, 403, 409, 429))
@auth_required(Role.teacher, Role.admin)
@validated
def create_halaka(body: HalakaCreate, header: PreferHeader):
    """Create a halaka; its Zoom meetings are provisioned in the background (`zoomStatus: pending`)."""
    if not can_create_halaka(viewer()):
        if me().role == Role.teacher:
            raise ApiError(403, "Your teacher account is awaiting approval: an admin must approve it first")
        raise ApiError(403, "Only teachers and admins create halakat")
    schedule = _checked_schedule(body.schedule.to_schedule())
    teacher = _teacher_for(body)
    host = _zoom_host(teacher)
    _charge_zoom_writes(teacher, schedule)
    halaka = Halaka(
        title=body.title,
        description=body.description,
        teacher_id=teacher.id,
        schedule=schedule,
        zoom_host=host,
        provisioning_key=uuid.uuid4().hex,
    )
    lifecycle.created(halaka)
    db().add(halaka)
    _schedule_work(halaka, SYNC_TASK)
    wait = _wait_seconds(header.prefer)
    waited = False
    if wait:
        with wait_slot(app_settings().prefer_wait_max_concurrent) as may_wait:
            if may_wait:
                waited = True
                wait_for_outcome(halaka.id, wait, lambda: _settled(halaka.id))
        session = db()
        session.refresh(halaka)
    response = created("Halaka created successfully", halaka_out(halaka, viewer(), False))
    if waited:
        response.headers["Preference-Applied"] = f"wait={wait}"
    return response


@bp.get("/", responses=responses({200: HalakaPageEnvelope}, 401))
@auth_required()
@validated
def list_halakat(query: HalakaQuery):
    """List halakat (paginated); filter by teacher, `mine` (teacher's own) or `enrolled` (student's)."""
    user = viewer()
    stmt = select(Halaka)
    if query.teacher_id:
        stmt = stmt.where(Halaka.teacher_id == query.teacher_id)
    if query.mine:
        stmt = stmt.where(Halaka.teacher_id == user.id)
    if query.enrolled:
        stmt = stmt.where(Halaka.id.in_(select(Enrollment.halaka_id).where(Enrollment.student_id == user.id)))
    if query.zoom_status:
        stmt = stmt.where(Halaka.zoom_status == query.zoom_status)
    session = db()
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(
            stmt.order_by(Halaka.id.desc()).offset((query.page - 1) * query.per_page).limit(query.per_page)
        )
    )
    enrolled = set(
        session.scalars(
            select(Enrollment.halaka_id).where(
                Enrollment.student_id == user.id, Enrollment.halaka_id.in_([h.id for h in rows])
            )
        )
    )
    page = HalakaPage(
        items=[halaka_out(h, user, h.id in enrolled) for h in rows],
        page=query.page,
        per_page=query.per_page,
        total=total,
    )
    return ok("Halakat fetched successfully", page.model_dump(by_alias=True, mode="json", exclude_unset=True))


@bp.get("/<int:id>", responses=responses({200: HalakaEnvelope}, 401, 404))
@auth_required()
@validated
def get_halaka(path: IdPath):
    """One halaka; meeting secrets only for those the trust model allows."""
    halaka = _load(path.id)
    user = viewer()
    out = halaka_out(halaka, user, _is_enrolled(halaka.id, user.id), with_start_link=True)
    return no_store(ok("Halaka fetched successfully", out))


@bp.patch("/<int:id>", responses=responses({200: HalakaEnvelope}, 401, 403, 404, 409, 429))
@auth_required(Role.teacher, Role.admin)
@validated
def update_halaka(path: IdPath, body: HalakaPatch):
    """Update; only a change of schedule reaches Zoom (each host may create/update 100 meetings a day)."""
    halaka = load_managed(path.id)
    if body.title is not None:
        halaka.title = body.title
    if body.description is not None:
        halaka.description = body.description
    current = halaka.schedule
    if body.schedule is not None:
        merged = body.schedule.applied_to(current)
        if merged != current:
            start_changed = merged.start_date != current.start_date
            checked = _checked_schedule(merged, start_changed=start_changed)
            now = datetime.now(UTC)
            halaka.schedule = merged
            dropped = sessions.keep_surviving_changes(db(), halaka, merged, now)
            # kept single-session changes are written again; dropped standalone meetings deleted
            kept = sessions.writes_to_keep(db(), halaka.id, merged, now)
            _charge_zoom_writes(halaka.teacher, checked, kept + len(dropped))  # 429: all rolled back
            lifecycle.request_sync(halaka)  # the row is locked: no other PATCH computes the same version
            _schedule_work(halaka, SYNC_TASK)
            for change_id in dropped:
                enqueue(SESSION_TASK, change_id)
    db().commit()
    return ok("Halaka updated successfully", halaka_out(halaka, viewer(), False))


@bp.delete("/<int:id>", responses=responses({200: HalakaEnvelope}, 401, 403, 404, 409))
@auth_required(Role.teacher, Role.admin)
@validated
def delete_halaka(path: IdPath):
    """Delete: its Zoom meetings are deleted in the background, then the halaka (`zoomStatus: deleting`)."""
    halaka = load_managed(path.id)
    lifecycle.request_delete(halaka)
    _schedule_work(halaka, DELETE_TASK)
    return ok("Halaka deletion scheduled", halaka_out(halaka, viewer(), False))


@bp.post("/<int:id>/zoom/retry", responses=responses({200: HalakaEnvelope}, 401, 403, 404, 409))
@auth_required(Role.teacher, Role.admin)
@validated
def retry_provisioning(path: IdPath):
    """Provision again a halaka whose Zoom provisioning failed."""
    halaka = load_managed(path.id)
    _transition(lifecycle.retry, halaka, "Only a failed halaka can be retried")
    if not halaka.meetings:
        halaka.zoom_host = _zoom_host(db().get_one(User, halaka.teacher_id))
    _schedule_work(halaka, SYNC_TASK)
    return ok("Provisioning retry scheduled", halaka_out(halaka, viewer(), False))


@bp.post("/<int:id>/start", responses=responses({200: StartEnvelope}, 401, 403, 404, 409, 502))
@auth_required(Role.teacher, Role.admin)
@validated
def start_meeting(path: IdPath):
    """A start link for the segment holding the next session, fetched from Zoom now (it expires after
    two hours): only for the meeting's own host and admins. Each hand-out is audit-logged (never the link)."""
    halaka = _load(path.id)
    user = viewer()
    if not can_host(user, halaka.teacher_id, halaka.zoom_host):
        raise ApiError(
            403,
            "Only the meeting's own host (the teacher whose linked Zoom user hosts it) "
            "or an admin may start it",
        )
    meeting = current_meeting(list(halaka.meetings))
    if meeting is None:
        raise ApiError(409, f"This halaka has no Zoom meeting yet (it is {halaka.zoom_status})")
    try:
        link = start_links.fresh(meeting.meeting_id)
    except ZoomError as exc:
        log.warning("start link fetch failed", extra={"halaka_id": halaka.id, "error": type(exc).__name__})
        raise ApiError(502, "Zoom did not return a start link; try again shortly") from None
    session = db()
    session.add(
        HostCredentialAudit(
            user_id=user.id, halaka_id=halaka.id, meeting_id=meeting.meeting_id, credential="start_url"
        )
    )
    session.commit()
    log.info("start link handed out", extra={"halaka_id": halaka.id, "user_id": user.id})
    body = StartOut(start_url=link.url, meeting_id=str(meeting.meeting_id), expires_at=link.expires_at)
    return no_store(ok("Start link fetched from Zoom", body))


@bp.post("/<int:id>/enroll", responses=responses({200: MessageResponse}, 401, 403, 404))
@auth_required()
@validated
def enroll(path: IdPath):
    """Enroll the current student (idempotent)."""
    if not can_enroll(viewer()):
        raise ApiError(403, "Only students enroll in halakat")
    halaka = _load(path.id)
    if halaka.zoom_status == ZoomStatus.deleting:
        raise ApiError(404, "Halaka not found")
    session = db()
    session.execute(
        insert(Enrollment).values(halaka_id=halaka.id, student_id=me().id).on_conflict_do_nothing()
    )
    session.commit()
    return ok("Enrolled successfully")


@bp.delete("/<int:id>/enroll", responses=responses({200: MessageResponse}, 401, 403, 404))
@auth_required()
@validated
def unenroll(path: IdPath):
    """Leave a halaka (idempotent)."""
    if not can_enroll(viewer()):
        raise ApiError(403, "Only students enroll in halakat")
    halaka = _load(path.id)
    session = db()
    enrollment = session.get(Enrollment, (halaka.id, me().id))
    if enrollment is not None:
        session.delete(enrollment)
        session.commit()
    return ok("Unenrolled successfully")


__all__ = ["bp"]
