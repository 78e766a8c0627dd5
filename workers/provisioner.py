"""Bring Zoom in line with a halaka: the idempotent core of the sync and delete tasks (no Celery here).

Exactly one Zoom meeting per segment, whatever happens:
- One run at a time per halaka: a PostgreSQL advisory lock on a dedicated connection. A worker killed
  outright drops its connection, so its lock goes with it.
- Each segment's meeting carries `[halaka-key:<key>.<version>.<segment>]` in its agenda. Before any
  create, `create_pending` is committed on the halaka; a later run that finds it set lists the host's
  meetings and adopts the one carrying the key instead of creating a second one (Zoom has no
  idempotency key), and deletes meetings of this halaka that no row and no segment claims.
- Every Zoom result is committed before the next call, so a run resumes where the last one stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from shared import lifecycle
from shared.access import is_shared_host
from shared.celery_config import SESSION_TASK
from shared.db import get_engine, session_scope
from shared.lifecycle import Outcome, Run
from shared.models import Halaka, SessionChange, ZoomMeeting
from shared.sessions import Change, expected_occurrences, judge, session_create_pending, upcoming_changes
from shared.task_queue import enqueue
from shared.zoom.client import ZoomClient
from shared.zoom.errors import ZoomInvalidRequest
from shared.zoom.payloads import (
    agenda_with_key,
    from_zoom_utc,
    generate_password,
    key_from_agenda,
    meeting_create_payload,
    meeting_update_payload,
)
from shared.zoom.recurrence import Schedule, ScheduleError, Segment, plan_segments

log = logging.getLogger(__name__)
LOCK_NAMESPACE = 72_41
MAX_PASSES = 3


@contextmanager
def halaka_lock(halaka_id: int) -> Iterator[bool]:
    """True when this process now owns the halaka's work; False when another run holds it."""
    with get_engine().connect() as conn:
        got = bool(conn.execute(select(func.pg_try_advisory_lock(LOCK_NAMESPACE, halaka_id))).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(select(func.pg_advisory_unlock(LOCK_NAMESPACE, halaka_id)))
                conn.commit()


@dataclass(frozen=True)
class Row:
    segment_index: int
    meeting_id: int
    version: int
    fingerprint: str | None


@dataclass(frozen=True)
class Snapshot:
    """What a run needs from the halaka row, read once under the lock."""

    id: int
    key: str
    host: str
    shared_host: bool  # not the teacher's own linked Zoom user: meetings run without a host present
    title: str
    description: str
    schedule: Schedule
    plan_after: datetime | None
    version: int
    create_pending: bool
    rows: tuple[Row, ...]  # the segments (standalone meetings of single sessions are not planned here)
    standalone: tuple[int, ...] = ()  # meeting ids of restored and extra sessions (deleted with the halaka)
    changes: Mapping[str, Change] = field(default_factory=dict)  # single-session changes, by occurrence id
    session_create_pending: bool = False  # a standalone meeting's create may have been lost


def segment_key(key: str, version: int, index: int) -> str:
    return f"{key}.{version}.{index}"


def standalone_prefix(halaka_key: str, change_id: int | str = "") -> str:
    """What the keys of a halaka's standalone session meetings start with (of one change, given its id)."""
    return f"{halaka_key}-s{change_id}"


def standalone_key(halaka_key: str, change_id: int, version: int) -> str:
    """The key in the agenda of the standalone meeting (type 2) of one restored or extra session."""
    return f"{standalone_prefix(halaka_key, change_id)}.{version}.0"


class MeetingOwner(TypedDict):
    """What every Zoom meeting of a halaka is made from, whoever makes it (a sync's segments, a single
    session's own meeting): its key, its host, whether that host is shared, and its title and text."""

    key: str
    host: str
    shared_host: bool
    title: str
    description: str


def meeting_owner(h: Halaka) -> MeetingOwner:
    return MeetingOwner(
        key=h.provisioning_key or "",
        host=h.zoom_host or "",
        shared_host=is_shared_host(h.teacher.zoom_user_id, h.zoom_host),
        title=h.title,
        description=h.description,
    )


def _snapshot(h: Halaka) -> Snapshot:
    return Snapshot(
        id=h.id,
        **meeting_owner(h),
        schedule=h.schedule,
        plan_after=h.plan_after,
        version=h.schedule_version,
        create_pending=h.create_pending,
        rows=tuple(Row(m.segment_index, m.meeting_id, m.version, m.fingerprint) for m in h.segments),
        standalone=tuple(m.meeting_id for m in h.meetings if m.standalone),
        changes=upcoming_changes(object_session(h), h.id),
        session_create_pending=session_create_pending(object_session(h), h.id),
    )


class GuardedClient:
    """The Zoom client as a sync run sees it: each call inside `lifecycle.zoom_call`, so a deletion or a
    newer schedule stops the run before its next call."""

    def __init__(self, client: ZoomClient, snap: Snapshot) -> None:
        self._client, self._id, self._version = client, snap.id, snap.version

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            with lifecycle.zoom_call(self._id, self._version):
                return method(*args, **kwargs)

        return guarded


class RunFailed(Exception):
    """A run stopped by an exception (its `__cause__`); `version` is the schedule it was applying."""

    def __init__(self, version: int | None) -> None:
        super().__init__(f"run of schedule version {version} failed")
        self.version = version


def sync(halaka_id: int, client: ZoomClient) -> Outcome:
    """Provision or update the halaka's meetings until they match its latest schedule."""
    with halaka_lock(halaka_id) as got:
        if not got:
            return Outcome.BUSY
        for _ in range(MAX_PASSES):
            snap = lifecycle.start(halaka_id, Run.SYNC, _snapshot)
            if isinstance(snap, Outcome):
                return snap
            try:
                _apply(snap, cast(ZoomClient, GuardedClient(client, snap)))  # every method, guarded
            except lifecycle.Interrupted as stop:
                if stop.outcome is Outcome.STOPPED:
                    return stop.outcome
                continue
            except Exception as exc:
                raise RunFailed(snap.version) from exc
            outcome = lifecycle.finish(halaka_id, snap.version)
            if outcome is Outcome.READY:
                _enqueue_due_changes(halaka_id)
            if outcome is not Outcome.CHANGED:
                return outcome
        return Outcome.CHANGED


def _enqueue_due_changes(halaka_id: int) -> None:
    """Single-session changes waiting for the halaka (or reset by this run's writes) go now."""
    with session_scope() as s:
        ids = list(
            s.scalars(
                select(SessionChange.id).where(
                    SessionChange.halaka_id == halaka_id,
                    SessionChange.applied_version < SessionChange.version,
                    SessionChange.due_at.is_not(None),
                )
            )
        )
    for change_id in ids:
        enqueue(SESSION_TASK, change_id)


def _set_create_pending(halaka_id: int) -> None:
    with session_scope() as s:
        h = s.get(Halaka, halaka_id)
        if h is not None and not h.create_pending:
            h.create_pending = True


def _ours(snap: Snapshot, client: ZoomClient) -> dict[str, dict]:
    """The host's meetings that carry this halaka's key, by segment key (only after an interrupted run)."""
    if not snap.create_pending:
        return {}
    found = {}
    for meeting in client.list_meetings(snap.host):
        key = key_from_agenda(meeting.get("agenda"))
        if key and key.startswith(snap.key + "."):
            found[key] = meeting
    return found


def _zoom_fields(snap: Snapshot, segment: Segment, agenda: str | None = None) -> dict[str, Any]:
    """What a segment's meeting must have on Zoom: start, recurrence, duration, time zone and topic
    (and, when given, the agenda, which is not compared)."""
    return meeting_update_payload(
        segment,
        timezone=snap.schedule.timezone,
        duration=snap.schedule.duration,
        topic=snap.title,
        agenda=agenda,
    )


def fingerprint(fields: dict[str, Any]) -> str:
    """A digest of `_zoom_fields`: a segment whose digest is unchanged needs no Zoom call."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _plan(snap: Snapshot, now: datetime) -> list[Segment]:
    """The segments to hold on Zoom.

    Planned from the halaka's anchor (`plan_after`), so that segments a change does not touch come out
    exactly as before and cost no Zoom call. When the first segment that does change has already begun
    (Zoom ignores a past `start_time` on PATCH, and with it the recurrence) or the anchor lies so far
    back that it holds too many sessions, everything is planned from now and the anchor moves there.
    """
    rows = {r.segment_index: r for r in snap.rows}
    try:
        segments = plan_segments(snap.schedule, after=snap.plan_after)
    except ScheduleError:
        segments = []
    else:
        changed = [
            s
            for i, s in enumerate(segments)
            if i not in rows or rows[i].fingerprint != fingerprint(_zoom_fields(snap, s))
        ]
        if not changed or changed[0].first.start_utc > now:
            return segments
    _move_anchor(snap.id, now)
    return plan_segments(snap.schedule, after=now)


def _move_anchor(halaka_id: int, now: datetime) -> None:
    with session_scope() as s:
        h = s.get(Halaka, halaka_id)
        if h is not None:
            h.plan_after = now


def _apply(snap: Snapshot, client: ZoomClient) -> None:
    segments = _plan(snap, datetime.now(UTC))
    rows = {r.segment_index: r for r in snap.rows}
    found = _ours(snap, client)
    kept: set[int] = {r.meeting_id for r in snap.rows}
    for index, segment in enumerate(segments):
        key = segment_key(snap.key, snap.version, index)
        row = rows.get(index)
        fields = _zoom_fields(snap, segment)
        if row is not None and (row.version == snap.version or row.fingerprint == fingerprint(fields)):
            _keep(snap.id, index, snap.version)
            continue
        if row is not None:
            meeting = _update(snap, client, row.meeting_id, segment, key)
        else:
            meeting = _create_or_adopt(snap, client, segment, key, found.get(key))
            kept.add(int(meeting["id"]))
        _record(snap.id, index, meeting, snap.version, fingerprint(fields))
    for index in sorted(set(rows) - set(range(len(segments)))):
        client.delete_meeting(rows[index].meeting_id)
        _forget(snap.id, index)
        kept.discard(rows[index].meeting_id)
    for key, meeting in found.items():
        if int(meeting["id"]) not in kept:
            log.warning("deleting an orphaned meeting of halaka %s (%s)", snap.id, key)
            client.delete_meeting(meeting["id"])


def _agenda(snap: Snapshot, key: str) -> str:
    return agenda_with_key(snap.description or snap.title, key)


def _update(snap: Snapshot, client: ZoomClient, meeting_id: int, segment: Segment, key: str) -> dict:
    """PATCH the meeting to the segment and read it back; occurrences must match the plan."""
    client.update_meeting(meeting_id, _zoom_fields(snap, segment, _agenda(snap, key)), host=snap.host)
    meeting = client.get_meeting(meeting_id)
    _require_occurrences(client, meeting)
    if not _matches(snap, meeting, segment):
        raise OccurrencesDiffer(meeting, segment)
    return meeting


def _create_or_adopt(
    snap: Snapshot, client: ZoomClient, segment: Segment, key: str, existing: dict | None
) -> dict:
    if existing is not None:
        log.info("adopting meeting created by an interrupted run", extra={"halaka_id": snap.id})
        meeting = client.get_meeting(existing["id"])
    else:
        _set_create_pending(snap.id)
        payload = meeting_create_payload(
            segment,
            timezone=snap.schedule.timezone,
            duration=snap.schedule.duration,
            topic=snap.title,
            agenda=_agenda(snap, key),
            password=generate_password(),
            shared_host=snap.shared_host,
        )
        meeting = client.create_meeting(snap.host, payload)
    _require_occurrences(client, meeting)
    if _matches(snap, meeting, segment):
        return meeting
    log.warning("Zoom's occurrences differ from the plan; repairing", extra={"meeting_id": meeting["id"]})
    try:
        return _update(snap, client, int(meeting["id"]), segment, key)
    except OccurrencesDiffer:
        client.delete_meeting(meeting["id"])  # not recorded anywhere: it would be an orphan
        raise


class OccurrencesDiffer(ZoomInvalidRequest):
    """Zoom's occurrences are not the planned sessions even after a repair: the halaka fails with why."""

    def __init__(self, meeting: dict, segment: Segment) -> None:
        actual = _starts(meeting)
        first = next(
            (i for i, (a, b) in enumerate(zip(actual, segment.sessions, strict=False)) if a != b.start_utc),
            min(len(actual), len(segment.sessions)),
        )
        super().__init__(
            f"Zoom's occurrences of meeting {meeting['id']} differ from the schedule: "
            f"{len(segment.sessions)} planned, {len(actual)} on Zoom, first difference at session {first + 1}"
        )


def _require_occurrences(client: ZoomClient, meeting: dict) -> None:
    """A recurring meeting without occurrences is unusable: delete it and fail the run."""
    if not meeting.get("occurrences"):
        client.delete_meeting(meeting["id"])
        raise ZoomInvalidRequest("Zoom returned the recurring meeting without occurrences; it was deleted")


def _starts(meeting: dict) -> list[datetime]:
    return [from_zoom_utc(o["start_time"]) for o in meeting.get("occurrences") or []]


def _matches(snap: Snapshot, meeting: dict, segment: Segment) -> bool:
    """Zoom's occurrences are the segment's sessions with the single-session changes made to them
    (`shared.sessions.judge`, the rule the drift check applies too). A change Zoom holds at its planned
    state (a recurrence PATCH reset it, or a new meeting) is due again for the session task."""
    expected = expected_occurrences(((x.start_utc, x.duration) for x in segment.sessions), snap.changes)
    verdict = judge(expected, meeting.get("occurrences") or [])
    if verdict.differs:
        return False
    if verdict.unapplied:
        _due_again(snap.id, verdict.unapplied)
    return True


def _due_again(halaka_id: int, occurrence_ids: tuple[str, ...]) -> None:
    with session_scope() as s:
        s.execute(
            update(SessionChange)
            .where(SessionChange.halaka_id == halaka_id, SessionChange.occurrence_id.in_(occurrence_ids))
            .values(applied_version=0, due_at=func.now())
        )


def _segment_row(s: Session, halaka_id: int, index: int) -> ZoomMeeting | None:
    return s.scalar(
        select(ZoomMeeting).where(ZoomMeeting.halaka_id == halaka_id, ZoomMeeting.segment_index == index)
    )


def _record(halaka_id: int, index: int, meeting: dict[str, Any], version: int, digest: str) -> None:
    """Store a meeting whose occurrences match its segment (`digest`: its `fingerprint`)."""
    occurrences = meeting["occurrences"]
    starts = _starts(meeting)
    with session_scope() as s:
        row = _segment_row(s, halaka_id, index)
        if row is None:
            row = ZoomMeeting(halaka_id=halaka_id, segment_index=index)
            s.add(row)
        row.meeting_id = int(meeting["id"])
        row.password = meeting.get("password")
        row.join_url = meeting.get("join_url")
        row.first_start, row.last_start = min(starts), max(starts)
        row.occurrence_count = len(occurrences)
        row.occurrence_ids = [str(o.get("occurrence_id")) for o in occurrences]
        row.version, row.fingerprint = version, digest


def forget_fingerprint(s: Session, meeting_id: int) -> None:
    """Zoom no longer holds what the meeting's fingerprint records (its times were changed in Zoom): the
    next run PATCHes its segment even though the plan for it is unchanged."""
    s.execute(update(ZoomMeeting).where(ZoomMeeting.meeting_id == meeting_id).values(fingerprint=None))


def _keep(halaka_id: int, index: int, version: int) -> None:
    """A segment this version leaves as it is on Zoom: mark it current without a Zoom call."""
    with session_scope() as s:
        row = _segment_row(s, halaka_id, index)
        if row is not None and row.version != version:
            row.version = version


def _forget(halaka_id: int, index: int) -> None:
    with session_scope() as s:
        row = _segment_row(s, halaka_id, index)
        if row is not None:
            s.delete(row)


def delete(halaka_id: int, client: ZoomClient) -> Outcome:
    """Delete the halaka's meetings on Zoom (3001 = already gone), then the halaka itself."""
    with halaka_lock(halaka_id) as got:
        if not got:
            return Outcome.BUSY
        snap = lifecycle.start(halaka_id, Run.DELETE, _snapshot)
        if isinstance(snap, Outcome):
            return snap
        try:
            for row in snap.rows:
                client.delete_meeting(row.meeting_id)
                _forget(snap.id, row.segment_index)
            for meeting_id in snap.standalone:  # restored and extra sessions: like a segment
                client.delete_meeting(meeting_id)
            for meeting in _ours(snap, client).values():
                client.delete_meeting(meeting["id"])
            if snap.session_create_pending:  # a standalone meeting created, its answer lost
                for meeting in client.list_meetings(snap.host):
                    if (key_from_agenda(meeting.get("agenda")) or "").startswith(standalone_prefix(snap.key)):
                        client.delete_meeting(meeting["id"])
        except Exception as exc:
            raise RunFailed(None) from exc
        return lifecycle.forget(halaka_id)
