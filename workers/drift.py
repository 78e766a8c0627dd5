"""Drift: meetings changed or deleted in Zoom (its web portal, another app) rather than by the project.

The project's own writes echo back as `meeting.updated` / `meeting.deleted`; they are recognised (the
write was remembered, or Zoom's occurrences equal the plan) and ignored. What remains is drift:

- the whole meeting deleted: its row is forgotten, and under `ZOOM_DRIFT_POLICY=heal` the halaka is
  re-planned from now, which provisions one new meeting for it; under `flag` it is `failed` with a
  readable reason (`POST /halaka/{id}/zoom/retry` provisions it again);
- one occurrence deleted: that session shows as cancelled;
- the times changed: the meeting's fingerprint is forgotten (it still says Zoom holds the plan), then heal
  re-plans (PATCHes the times back) or flag fails the halaka with the reason (its retry PATCHes them).

Single-session changes (shared.sessions) are part of what Zoom must hold: a segment's occurrences are
judged against the plan *with* them (`compare`, the rule the provisioner uses too), so a platform cancel or
move is never drift; one Zoom lost is applied again, and a restored or extra session's own meeting deleted
or re-timed in Zoom is created again or put back by the session task.

`check_halaka` is the slow safety net for lost events (Zoom stops retrying a delivery after three more
tries): it reads each meeting back from Zoom and applies the same rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session

from shared import lifecycle
from shared.celery_config import SESSION_TASK, SYNC_TASK
from shared.db import session_scope
from shared.models import Halaka, SessionChange, ZoomMeeting, ZoomStatus
from shared.redis_client import get_redis
from shared.sessions import (
    Expected,
    changes_by_occurrence,
    expected_occurrences,
    judge,
    occurrence_id_of,
    start_of_occurrence,
)
from shared.settings import get_settings
from shared.task_queue import enqueue
from shared.zoom import own_writes
from shared.zoom.client import ZoomClient
from shared.zoom.errors import CODE_MEETING_NOT_FOUND, ZoomNotFound
from shared.zoom.recurrence import ScheduleError, plan_segments
from workers.meeting_events import lock_meeting, meeting_number, meeting_row, parse_time
from workers.provisioner import forget_fingerprint, halaka_lock

log = logging.getLogger(__name__)
SCHEDULE_FIELDS = ("start_time", "occurrences", "recurrence", "duration", "timezone")
AfterCommit = list[Callable[[], object]]


@dataclass(frozen=True)
class Findings:
    """What Zoom's occurrences say against what it must hold: occurrences deleted in Zoom (planned
    starts), whether the upcoming start times differ, and single-session changes Zoom does not hold
    although they were applied (to apply again)."""

    cancelled: tuple[datetime, ...] = ()
    times_changed: bool = False
    unapplied: tuple[str, ...] = ()


def compare(
    expected: Iterable[Expected],
    occurrences: Iterable[dict[str, Any]],
    now: datetime,
    *,
    partial: bool = False,
) -> Findings:
    """Pure: Zoom's `occurrences` (as a meeting object lists them) against the expected ones
    (`shared.sessions.expected_occurrences`: the plan with the single-session changes). Past
    occurrences are left out (Zoom stops listing them once they are over)."""
    expected = list(expected)
    for occurrence in occurrences:
        parse_time(occurrence.get("start_time"), "occurrences.start_time")
    verdict = judge(expected, occurrences, now, partial=partial)
    settled = {e.occurrence_id for e in expected if e.settled}
    return Findings(
        verdict.deleted_elsewhere, verdict.differs, tuple(o for o in verdict.unapplied if o in settled)
    )


def expected_for(s: Session, halaka: Halaka, row: ZoomMeeting) -> list[Expected]:
    """What Zoom must hold for this segment: its planned sessions (planned from the halaka's anchor, as
    the provisioner plans them) with the single-session changes made to them."""
    try:
        segments = plan_segments(halaka.schedule, after=halaka.plan_after or datetime.now(UTC))
    except ScheduleError:
        return []
    if not 0 <= row.segment_index < len(segments):
        return []
    planned = [(x.start_utc, x.duration) for x in segments[row.segment_index].sessions]
    changes = changes_by_occurrence(s, halaka.id, [start for start, _ in planned])
    return expected_occurrences(planned, changes)


def record_cancelled(s: Session, row: ZoomMeeting, starts: Iterable[datetime], reason: str) -> int:
    """Occurrences deleted in Zoom (not by the platform), by planned start, become cancelled sessions:
    a session change with `source="zoom"`, the one record of a cancelled session (shared.sessions)."""
    count = 0
    now = datetime.now(UTC)
    for start in starts:
        oid = occurrence_id_of(start)
        existing = s.scalar(
            select(SessionChange)
            .where(SessionChange.halaka_id == row.halaka_id, SessionChange.occurrence_id == oid)
            .with_for_update()
        )
        if existing is not None and existing.occurrence_deleted:
            continue  # the platform deleted it (the echo of a cancel or a restore)
        if existing is None:
            s.add(
                SessionChange(
                    halaka_id=row.halaka_id,
                    occurrence_id=oid,
                    planned_start=start,
                    start_utc=start,
                    duration=row.halaka.schedule.duration,
                    cancelled=True,
                    occurrence_deleted=True,
                    reason=reason,
                    source="zoom",
                    version=1,
                    applied_version=1,
                    changed_at=now,
                )
            )
        else:
            existing.cancelled = existing.occurrence_deleted = True
            existing.dropped = False
            existing.reason, existing.source = reason, "zoom"
            existing.version += 1
            existing.applied_version, existing.changed_at = existing.version, now
        count += 1
    s.flush()
    return count


def apply_again(s: Session, halaka_id: int, occurrence_ids: Iterable[str], after: AfterCommit) -> None:
    """Single-session changes Zoom lost (reverted in Zoom): due again for the session task."""
    ids = list(
        s.scalars(
            select(SessionChange.id).where(
                SessionChange.halaka_id == halaka_id, SessionChange.occurrence_id.in_(list(occurrence_ids))
            )
        )
    )
    if ids:
        s.execute(
            sa_update(SessionChange)
            .where(SessionChange.id.in_(ids))
            .values(applied_version=0, due_at=func.now())
        )
        after.extend(partial(enqueue, SESSION_TASK, change_id) for change_id in ids)


def _act(s: Session, halaka_id: int, reason: str, after: AfterCommit) -> str:
    """Heal or flag, per ZOOM_DRIFT_POLICY, by asking the lifecycle: a sync re-planned from now (heal:
    enqueued; flag: failed with `reason` right after, so that a retry provisions what is missing)."""
    halaka = lifecycle.lock(s, halaka_id)
    if halaka is None or halaka.zoom_status == ZoomStatus.deleting:
        return "halaka is being deleted"
    try:
        lifecycle.request_sync(halaka)
    except lifecycle.Refused:
        return f"left alone while the halaka is {halaka.zoom_status}"
    if get_settings().zoom_drift_policy == "flag":
        after.append(lambda: lifecycle.fail(halaka_id, lifecycle.Run.SYNC, reason=lambda _host: reason))
        log.warning("drift flagged", extra={"halaka_id": halaka_id, "reason": reason})
        return "flagged"
    after.append(lambda: enqueue(SYNC_TASK, halaka_id))
    log.warning("drift healing", extra={"halaka_id": halaka_id, "reason": reason})
    return "healing"


def times_moved(s: Session, row: ZoomMeeting, reason: str, after: AfterCommit) -> str:
    """The meeting's times were changed in Zoom: heal or flag, and forget its fingerprint (after the
    halaka's lock, the order the provisioner takes), since the fingerprint still says Zoom holds the plan
    and the run would otherwise keep the segment as it is instead of PATCHing it back."""
    outcome = _act(s, row.halaka_id, reason, after)
    forget_fingerprint(s, row.meeting_id)
    return outcome


def _planned_start(occurrence: dict[str, Any]) -> datetime:
    """The planned start of an occurrence an event names: its id (the planned start in ms), else its
    start time."""
    planned = start_of_occurrence(str(occurrence.get("occurrence_id") or ""))
    return planned or parse_time(occurrence.get("start_time"), "occurrences.start_time")


def _operator(payload: dict[str, Any]) -> str:
    operator = payload.get("operator")
    return f" by {operator}" if isinstance(operator, str) and operator else ""


def meeting_gone(s: Session, row: ZoomMeeting, reason: str, after: AfterCommit) -> str:
    halaka_id = row.halaka_id
    s.delete(row)
    s.flush()
    return _act(s, halaka_id, reason, after)


def _platform_meeting(s: Session, payload: dict[str, Any]) -> tuple[dict[str, Any], int, ZoomMeeting | None]:
    """The event's object, its meeting id (locked for this transaction) and the platform's row of it."""
    obj = payload.get("object")
    if not isinstance(obj, dict):
        obj = {}
    meeting_id = meeting_number(obj)
    lock_meeting(s, meeting_id)
    return obj, meeting_id, meeting_row(s, meeting_id)


def on_deleted(s: Session, payload: dict[str, Any], after: AfterCommit) -> str:
    obj, meeting_id, row = _platform_meeting(s, payload)
    if row is None:
        return "not a platform meeting (or already forgotten)"
    if row.halaka.zoom_status == ZoomStatus.deleting:
        return "halaka is being deleted"
    occurrences = obj.get("occurrences")
    if payload.get("operation") in ("single", "range") and isinstance(occurrences, list) and occurrences:
        starts = [_planned_start(o) for o in occurrences]
        count = record_cancelled(s, row, starts, f"deleted in Zoom{_operator(payload)}")
        return f"{count} occurrence(s) cancelled" if count else "echo of our own cancel"
    if own_writes.was_ours(get_redis(), "delete", meeting_id):
        return "echo of our own delete"
    if row.standalone:
        return standalone_drift(s, row, None, after)
    return meeting_gone(s, row, f"Zoom meeting {meeting_id} was deleted in Zoom{_operator(payload)}", after)


def times_differ(
    s: Session,
    row: ZoomMeeting,
    occurrences: list[dict[str, Any]],
    why: str,
    after: AfterCommit,
    *,
    partial: bool = False,
) -> bool:
    """Record occurrences deleted in Zoom as cancelled, apply lost single-session changes again; True
    when the upcoming times differ from what Zoom must hold (`partial`: only the listed occurrences
    are judged — `meeting.updated` with `scope: "single"` lists the one changed)."""
    findings = compare(expected_for(s, row.halaka, row), occurrences, datetime.now(UTC), partial=partial)
    record_cancelled(s, row, findings.cancelled, why)
    apply_again(s, row.halaka_id, findings.unapplied, after)
    return findings.times_changed


def standalone_drift(s: Session, row: ZoomMeeting, meeting: dict[str, Any] | None, after: AfterCommit) -> str:
    """A restored or extra session's own meeting deleted or re-timed in Zoom: its change is due again,
    so the session task creates it again or PATCHes its time back (both policies: it is one session)."""
    if meeting is not None:
        start = meeting.get("start_time")
        if not start or parse_time(start, "start_time") == row.first_start:
            return "matches"
    change_id = row.session_change_id
    if change_id is None:
        return "not a session's meeting"
    if meeting is None:
        s.delete(row)
    s.execute(
        sa_update(SessionChange)
        .where(SessionChange.id == change_id)
        .values(applied_version=0, due_at=func.now())
    )
    after.append(partial(enqueue, SESSION_TASK, change_id))
    return "session meeting restored" if meeting is None else "session meeting re-timed back"


def on_updated(s: Session, payload: dict[str, Any], after: AfterCommit) -> str:
    obj, meeting_id, row = _platform_meeting(s, payload)
    if row is None:
        return "not a platform meeting"
    if not any(name in obj for name in SCHEDULE_FIELDS):
        return "no schedule change"
    if row.halaka.zoom_status != ZoomStatus.ready:
        return f"ignored while the halaka is {row.halaka.zoom_status}"
    if row.standalone:
        if own_writes.was_ours(get_redis(), "update", meeting_id):
            return "echo of our own update"
        return standalone_drift(s, row, obj, after)
    occurrences = obj.get("occurrences")
    if isinstance(occurrences, list):
        single = payload.get("scope") == "single"
        if not times_differ(
            s, row, occurrences, f"deleted in Zoom{_operator(payload)}", after, partial=single
        ):
            return "matches the plan"
    elif own_writes.was_ours(get_redis(), "update", meeting_id):
        return "echo of our own update"
    reason = f"The times of Zoom meeting {meeting_id} were changed in Zoom{_operator(payload)}"
    return times_moved(s, row, reason, after)


@dataclass
class CheckResult:
    checked: int = 0
    outcome: str = "matches"
    after: AfterCommit = field(default_factory=list)


def check_halaka(halaka_id: int, client: ZoomClient) -> str:
    """Read each of the halaka's meetings back from Zoom (one Light call each, through the shared rate
    budget) and apply the drift rules to what events missed. Zoom errors propagate (the next run
    tries again)."""
    with halaka_lock(halaka_id) as got:
        if not got:
            return "busy"
        with session_scope() as s:
            halaka = s.get(Halaka, halaka_id)
            if halaka is None or halaka.zoom_status != ZoomStatus.ready:
                return "not ready"
            meeting_ids = [m.meeting_id for m in halaka.meetings]
        result = CheckResult()
        for meeting_id in meeting_ids:
            try:
                meeting: dict[str, Any] | None = client.get_meeting(meeting_id)
            except ZoomNotFound as exc:
                if exc.code != CODE_MEETING_NOT_FOUND:
                    raise
                meeting = None
            result.checked += 1
            with session_scope() as s:
                row = meeting_row(s, meeting_id)
                if row is None:
                    continue
                if row.standalone:
                    if standalone_drift(s, row, meeting, result.after) != "matches":
                        result.outcome = "session meeting repaired"
                    continue
                if meeting is None:
                    reason = f"Zoom meeting {meeting_id} no longer exists in Zoom (found by the drift check)"
                    result.outcome = meeting_gone(s, row, reason, result.after)
                elif times_differ(s, row, meeting.get("occurrences") or [], "deleted in Zoom", result.after):
                    reason = (
                        f"The times of Zoom meeting {meeting_id} differ in Zoom (found by the drift check)"
                    )
                    result.outcome = times_moved(s, row, reason, result.after)
            if result.outcome != "matches":
                break
    for action in result.after:
        action()
    return result.outcome


def active_halakat() -> list[int]:
    with session_scope() as s:
        return list(
            s.scalars(select(Halaka.id).where(Halaka.zoom_status == ZoomStatus.ready).order_by(Halaka.id))
        )
