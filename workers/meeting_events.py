"""Zoom's meeting and participant events become meeting instances and attendance intervals.

Every function runs inside the processing transaction of one stored event, under a transaction-level
advisory lock on the meeting id, so events of one meeting never interleave. Each is idempotent (a
replay changes nothing) and order-tolerant: Zoom may deliver `ended` before `started` or a leave before
its join (a retried delivery overtakes later ones), and each of them fills in what it knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, object_session

from shared.attendance import nearest_start
from shared.customer_key import customer_key
from shared.models import (
    AttendanceInterval,
    Enrollment,
    Halaka,
    InstanceStatus,
    MeetingInstance,
    Role,
    User,
    ZoomMeeting,
)
from shared.sessions import changes_by_occurrence, expected_occurrences
from shared.zoom.payloads import from_zoom_utc
from shared.zoom.recurrence import sessions

MAX_NAME = 200
TICK = timedelta(microseconds=1)


class InvalidEvent(ValueError):
    """The payload lacks what the event needs; stored and marked, never retried."""


def parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(f"{field} is missing")
    try:
        return from_zoom_utc(value.strip())
    except ValueError:
        raise InvalidEvent(f"{field} is not a date-time") from None


def meeting_number(obj: dict[str, Any]) -> int:
    """`object.id`: a string in started/ended/participant events, an integer in deleted/updated."""
    value = obj.get("id")
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 19:
        raise InvalidEvent("object.id is not a meeting number")
    return int(text)


def lock_meeting(s: Session, meeting_id: int) -> None:
    s.execute(select(func.pg_advisory_xact_lock(meeting_id)))


def meeting_row(s: Session, meeting_id: int) -> ZoomMeeting | None:
    return s.scalar(select(ZoomMeeting).where(ZoomMeeting.meeting_id == meeting_id))


def segment_starts(halaka: Halaka, row: ZoomMeeting) -> list[datetime]:
    """Where the sessions this Zoom meeting holds are now: a standalone meeting's one session; a
    segment's planned sessions (generated from its first start, no further than its count) as the
    single-session changes moved them, without the deleted ones."""
    if row.standalone:
        return [row.first_start]
    planned = [
        (x.start_utc, x.duration)
        for x in sessions(halaka.schedule, after=row.first_start - TICK, limit=row.occurrence_count)
    ]
    s = object_session(row)
    changes = changes_by_occurrence(s, halaka.id, [p for p, _ in planned]) if s is not None else {}
    return [e.start for e in expected_occurrences(planned, changes) if not e.deleted]


def _instance(s: Session, row: ZoomMeeting, uuid: str, at: datetime) -> MeetingInstance:
    instance = s.scalar(select(MeetingInstance).where(MeetingInstance.uuid == uuid))
    if instance is None:
        scheduled = nearest_start(segment_starts(row.halaka, row), at) or at
        instance = MeetingInstance(
            halaka_id=row.halaka_id,
            meeting_id=row.meeting_id,
            scheduled_start=scheduled,
            uuid=uuid,
            status=InstanceStatus.live,
        )
        s.add(instance)
        s.flush()
    return instance


def _uuid(obj: dict[str, Any]) -> str:
    uuid = obj.get("uuid")
    if not isinstance(uuid, str) or not 0 < len(uuid) <= 64:
        raise InvalidEvent("object.uuid is missing")
    return uuid


def _ours(s: Session, obj: dict[str, Any]) -> ZoomMeeting | None:
    meeting_id = meeting_number(obj)
    lock_meeting(s, meeting_id)
    return meeting_row(s, meeting_id)


def _event_instance(s: Session, obj: dict[str, Any]) -> tuple[MeetingInstance, datetime] | None:
    """The instance a started/ended event names, with the start it gives; None for a foreign meeting."""
    row = _ours(s, obj)
    if row is None:
        return None
    started = parse_time(obj.get("start_time"), "object.start_time")
    return _instance(s, row, _uuid(obj), started), started


def on_started(s: Session, obj: dict[str, Any]) -> str:
    found = _event_instance(s, obj)
    if found is None:
        return "not a platform meeting"
    instance, started = found
    instance.started_at = started
    if instance.status != InstanceStatus.ended:
        instance.status = InstanceStatus.live
    return "live"


def on_ended(s: Session, obj: dict[str, Any]) -> str:
    found = _event_instance(s, obj)
    if found is None:
        return "not a platform meeting"
    instance, started = found
    instance.started_at = instance.started_at or started
    instance.ended_at = parse_time(obj.get("end_time"), "object.end_time")
    instance.status = InstanceStatus.ended
    return "ended"


def _participant_instance(s: Session, obj: dict[str, Any], at: datetime) -> MeetingInstance | None:
    uuid = _uuid(obj)
    meeting_id = meeting_number(obj) if obj.get("id") not in (None, "") else None
    if meeting_id is not None:
        lock_meeting(s, meeting_id)
    instance = s.scalar(select(MeetingInstance).where(MeetingInstance.uuid == uuid))
    if instance is not None or meeting_id is None:
        return instance
    row = meeting_row(s, meeting_id)
    return _instance(s, row, uuid, at) if row is not None else None


def _people_by_key(s: Session, halaka_id: int) -> dict[str, User]:
    """Customer keys of everyone who may sign into this halaka's meetings: its teacher, its enrolled
    students and the admins (a key is an HMAC, so it is matched, never reversed)."""
    enrolled = select(Enrollment.student_id).where(Enrollment.halaka_id == halaka_id)
    teacher = select(Halaka.teacher_id).where(Halaka.id == halaka_id)
    people = s.scalars(
        select(User).where(or_(User.id.in_(enrolled), User.id.in_(teacher), User.role == Role.admin))
    )
    return {customer_key(u.id): u for u in people}


def identify(s: Session, halaka_id: int, participant: dict[str, Any]) -> tuple[str, int | None, str]:
    """(identity, user id, name): by customer_key, else a signed-in participant's e-mail matching a
    user, else a guest known by display name."""
    key = participant.get("customer_key")
    user = _people_by_key(s, halaka_id).get(key) if isinstance(key, str) and key else None
    email = participant.get("email")
    if user is None and isinstance(email, str) and "@" in email:
        user = s.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is not None:
        return f"user:{user.id}", user.id, user.name
    name = participant.get("user_name")
    name = name.strip()[:MAX_NAME] if isinstance(name, str) and name.strip() else "Guest"
    return f"guest:{name.casefold()}", None, name


def _participant(obj: dict[str, Any]) -> dict[str, Any]:
    participant = obj.get("participant")
    if not isinstance(participant, dict):
        raise InvalidEvent("object.participant is missing")
    return participant


def _intervals(s: Session, instance: MeetingInstance, identity: str) -> list[AttendanceInterval]:
    return list(
        s.scalars(
            select(AttendanceInterval).where(
                AttendanceInterval.instance_id == instance.id, AttendanceInterval.identity == identity
            )
        )
    )


@dataclass(frozen=True)
class _Stretch:
    """What a participant event says: whose interval, in which instance, and its time."""

    instance: MeetingInstance
    identity: str
    user_id: int | None
    name: str
    participant_uuid: str | None
    intervals: list[AttendanceInterval]
    at: datetime  # the join or leave time the event reports


def _stretch(s: Session, obj: dict[str, Any], time_field: str, edge: str) -> _Stretch | str:
    """The stretch a join (`edge` "joined_at") or leave ("left_at") event reports, or the event's
    outcome when there is nothing to record: not a platform meeting, or this edge already stored."""
    participant = _participant(obj)
    at = parse_time(participant.get(time_field), f"participant.{time_field}")
    instance = _participant_instance(s, obj, at)
    if instance is None:
        return "not a platform meeting"
    identity, user_id, name = identify(s, instance.halaka_id, participant)
    intervals = _intervals(s, instance, identity)
    if any(getattr(i, edge) == at for i in intervals):
        return "already recorded"
    uuid = participant.get("participant_uuid")
    uuid = uuid[:64] if isinstance(uuid, str) and uuid else None
    return _Stretch(instance, identity, user_id, name, uuid, intervals, at)


def _add(s: Session, x: _Stretch, **times: datetime) -> None:
    s.add(
        AttendanceInterval(
            instance_id=x.instance.id,
            identity=x.identity,
            user_id=x.user_id,
            name=x.name,
            participant_uuid=x.participant_uuid,
            **times,
        )
    )


def _only_other_edge(x: _Stretch, edge: str, other: str) -> list[tuple[datetime, AttendanceInterval]]:
    """The intervals still waiting for their `edge` (only `other` was seen), each with its `other` time."""
    return [
        (at, i) for i in x.intervals if getattr(i, edge) is None and (at := getattr(i, other)) is not None
    ]


def on_joined(s: Session, obj: dict[str, Any]) -> str:
    x = _stretch(s, obj, "join_time", "joined_at")
    if isinstance(x, str):
        return x
    joined = x.at
    early_leave = [(at, i) for at, i in _only_other_edge(x, "joined_at", "left_at") if at >= joined]
    if early_leave:  # its leave was processed first
        min(early_leave, key=itemgetter(0))[1].joined_at = joined
    else:
        _add(s, x, joined_at=joined)
    return "joined"


def on_left(s: Session, obj: dict[str, Any]) -> str:
    x = _stretch(s, obj, "leave_time", "left_at")
    if isinstance(x, str):
        return x
    left = x.at
    open_ = [(at, i) for at, i in _only_other_edge(x, "left_at", "joined_at") if at <= left]
    if open_:
        max(open_, key=itemgetter(0))[1].left_at = left
        return "left"
    _add(s, x, left_at=left)
    return "left before its join arrived"
