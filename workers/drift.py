"""Drift: meetings changed or deleted in Zoom (its web portal, another app) rather than by the project.

The project's own writes echo back as `meeting.updated` / `meeting.deleted`; they are recognised (the
write was remembered, or Zoom's occurrences equal the plan) and ignored. What remains is drift:

- the whole meeting deleted: its row is forgotten, and under `ZOOM_DRIFT_POLICY=heal` the halaka is
  re-planned from now, which provisions one new meeting for it; under `flag` it is `failed` with a
  readable reason (`POST /halaka/{id}/zoom/retry` provisions it again);
- one occurrence deleted: that session shows as cancelled;
- the times changed: the meeting's fingerprint is forgotten (it still says Zoom holds the plan), then heal
  re-plans (PATCHes the times back) or flag fails the halaka with the reason (its retry PATCHes them).

`check_halaka` is the slow safety net for lost events (Zoom stops retrying a delivery after three more
tries): it reads each meeting back from Zoom and applies the same rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared import lifecycle
from shared.celery_config import SYNC_TASK
from shared.db import session_scope
from shared.models import Halaka, InstanceStatus, MeetingInstance, ZoomMeeting, ZoomStatus
from shared.redis_client import get_redis
from shared.settings import get_settings
from shared.task_queue import enqueue
from shared.zoom import own_writes
from shared.zoom.client import ZoomClient
from shared.zoom.errors import CODE_MEETING_NOT_FOUND, ZoomNotFound
from shared.zoom.recurrence import plan_segments
from workers.meeting_events import lock_meeting, meeting_number, meeting_row, parse_time
from workers.provisioner import forget_fingerprint, halaka_lock

log = logging.getLogger(__name__)
SCHEDULE_FIELDS = ("start_time", "occurrences", "recurrence", "duration", "timezone")
AfterCommit = list[Callable[[], object]]


@dataclass(frozen=True)
class Findings:
    """What Zoom's occurrences say against the plan: occurrences deleted in Zoom, and whether the
    upcoming start times differ."""

    cancelled: tuple[datetime, ...] = ()
    times_changed: bool = False


def compare(planned: Iterable[datetime], occurrences: Iterable[dict[str, Any]], now: datetime) -> Findings:
    """Pure: Zoom's `occurrences` (as a meeting object lists them) against the planned starts. Past
    occurrences are left out (Zoom stops listing them once they are over)."""
    cancelled, available = [], set()
    for occurrence in occurrences:
        start = parse_time(occurrence.get("start_time"), "occurrences.start_time")
        if occurrence.get("status") == "deleted":
            cancelled.append(start)
        elif start > now:
            available.add(start)
    upcoming = {start for start in planned if start > now} - set(cancelled)
    return Findings(tuple(sorted(cancelled)), available != upcoming)


def planned_starts(halaka: Halaka, row: ZoomMeeting) -> list[datetime]:
    segments = plan_segments(halaka.schedule, after=halaka.plan_after)
    if row.segment_index >= len(segments):
        return []
    return [x.start_utc for x in segments[row.segment_index].sessions]


def record_cancelled(s: Session, row: ZoomMeeting, starts: Iterable[datetime], reason: str) -> int:
    count = 0
    for start in starts:
        s.execute(
            insert(MeetingInstance)
            .values(
                halaka_id=row.halaka_id,
                meeting_id=row.meeting_id,
                scheduled_start=start,
                status=InstanceStatus.cancelled.value,
                reason=reason,
            )
            .on_conflict_do_nothing(
                index_elements=["halaka_id", "scheduled_start"], index_where=MeetingInstance.uuid.is_(None)
            )
        )
        count += 1
    return count


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
        starts = [parse_time(o.get("start_time"), "occurrences.start_time") for o in occurrences]
        record_cancelled(s, row, starts, f"deleted in Zoom{_operator(payload)}")
        return f"{len(starts)} occurrence(s) cancelled"
    if own_writes.was_ours(get_redis(), "delete", meeting_id):
        return "echo of our own delete"
    return meeting_gone(s, row, f"Zoom meeting {meeting_id} was deleted in Zoom{_operator(payload)}", after)


def times_differ(s: Session, row: ZoomMeeting, occurrences: list[dict[str, Any]], why: str) -> bool:
    """Record occurrences deleted in Zoom as cancelled; True when the upcoming times differ from the plan."""
    findings = compare(planned_starts(row.halaka, row), occurrences, datetime.now(UTC))
    record_cancelled(s, row, findings.cancelled, why)
    return findings.times_changed


def on_updated(s: Session, payload: dict[str, Any], after: AfterCommit) -> str:
    obj, meeting_id, row = _platform_meeting(s, payload)
    if row is None:
        return "not a platform meeting"
    if not any(name in obj for name in SCHEDULE_FIELDS):
        return "no schedule change"
    if row.halaka.zoom_status != ZoomStatus.ready:
        return f"ignored while the halaka is {row.halaka.zoom_status}"
    occurrences = obj.get("occurrences")
    if isinstance(occurrences, list):
        if not times_differ(s, row, occurrences, f"deleted in Zoom{_operator(payload)}"):
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
                if meeting is None:
                    reason = f"Zoom meeting {meeting_id} no longer exists in Zoom (found by the drift check)"
                    result.outcome = meeting_gone(s, row, reason, result.after)
                elif times_differ(s, row, meeting.get("occurrences") or [], "deleted in Zoom"):
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
