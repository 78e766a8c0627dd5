"""Bring Zoom in line with one session change (`shared.sessions`): the idempotent core of the session task.

The change row says what the session must be; a run reads Zoom first and writes only what differs, so a
repeated run (a retry, a redelivered task after a kill between the Zoom call and the commit) finds the
work done and writes nothing:

- the planned occurrence deleted (cancelled or restored): `GET` the segment; `DELETE ?occurrence_id=`
  only while Zoom still lists it as available (already deleted = done);
- moved: `PATCH ?occurrence_id=` with `start_time`/`duration` only while Zoom's occurrence differs;
- a standalone meeting (restored or extra session, type 2) exists exactly while the session is wanted:
  created by key — `create_pending` is committed first, and a run that finds it set lists the host's
  meetings and adopts the one whose agenda carries the key (`[halaka-key:<key>-s<change id>.…]`) before
  creating — and deleted when the session is cancelled or dropped.

Runs hold the provisioner's halaka lock, so a session write never interleaves with a sync or a drift
check of the same halaka, and commit each Zoom result before the next call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from shared.db import session_scope
from shared.models import Halaka, SessionChange, ZoomMeeting, ZoomStatus
from shared.sessions import Change, segment_holding
from shared.task_queue import lease
from shared.zoom.client import ZoomClient
from shared.zoom.errors import CODE_MEETING_NOT_FOUND, ZoomNotFound
from shared.zoom.payloads import (
    agenda_with_key,
    from_zoom_utc,
    generate_password,
    key_from_agenda,
    session_time_payload,
    single_meeting_payload,
)
from workers.provisioner import halaka_lock, meeting_owner, standalone_key, standalone_prefix

log = logging.getLogger(__name__)
WAIT_NOT_READY = timedelta(seconds=30)
MAX_PASSES = 3


class Result:
    APPLIED = "applied"
    NOTHING = "nothing to do"
    GONE = "gone"
    BUSY = "busy"
    WAITING = "waiting for the halaka"
    CHANGED = "changed again; re-run"


class SessionFailed(Exception):
    """A run stopped by an exception (its `__cause__`)."""


@dataclass(frozen=True)
class Snap:
    id: int
    halaka_id: int
    version: int
    change: Change
    dropped: bool
    create_pending: bool
    key: str
    host: str
    shared_host: bool
    title: str
    description: str
    timezone: str
    segment: int | None  # the segment meeting holding the planned occurrence
    standalone: tuple[int, datetime, int] | None  # (meeting id, start, duration) of its own meeting


def _standalone_row(s: Any, change_id: int) -> ZoomMeeting | None:
    return s.scalar(select(ZoomMeeting).where(ZoomMeeting.session_change_id == change_id))


def _read(change_id: int) -> Snap | str:
    with session_scope() as s:
        row = s.get(SessionChange, change_id)
        if row is None:
            return Result.GONE
        if row.applied_version >= row.version:
            return Result.NOTHING
        h = s.get(Halaka, row.halaka_id)
        if h is None or h.zoom_status == ZoomStatus.deleting:
            return Result.GONE
        if h.zoom_status != ZoomStatus.ready:
            row.due_at = datetime.now(UTC) + WAIT_NOT_READY
            return Result.WAITING
        held = segment_holding(h, row.planned_start) if row.planned_start is not None else None
        own = _standalone_row(s, row.id)
        return Snap(
            id=row.id,
            halaka_id=h.id,
            version=row.version,
            change=Change.of(row),
            dropped=row.dropped,
            create_pending=row.create_pending,
            **meeting_owner(h),
            timezone=h.schedule.timezone,
            segment=held.meeting_id if held is not None else None,
            standalone=(own.meeting_id, own.first_start, own.version) if own is not None else None,
        )


def apply(change_id: int, client: ZoomClient) -> str:
    """Make Zoom hold what the change says; answers a `Result`."""
    with session_scope() as s:
        row = s.get(SessionChange, change_id)
        if row is None:
            return Result.GONE
        halaka_id = row.halaka_id
    with halaka_lock(halaka_id) as got:
        if not got:
            return Result.BUSY
        for _ in range(MAX_PASSES):
            snap = _read(change_id)
            if isinstance(snap, str):
                return snap
            try:
                _converge(snap, client)
            except Exception as exc:
                raise SessionFailed(str(snap.id)) from exc
            if _applied(snap):
                return Result.APPLIED
        return Result.CHANGED


def _occurrence(meeting: dict, occurrence_id: str) -> dict | None:
    for occ in meeting.get("occurrences") or []:
        if str(occ.get("occurrence_id")) == occurrence_id:
            return occ
    return None


def _converge(snap: Snap, client: ZoomClient) -> None:
    c = snap.change
    if c.occurrence_id is not None and not snap.dropped:
        _converge_occurrence(snap, client)
    wanted = c.standalone and not snap.dropped
    if wanted:
        _hold_standalone(snap, client)
    else:
        _drop_standalone(snap, client)


def _converge_occurrence(snap: Snap, client: ZoomClient) -> None:
    c = snap.change
    assert c.occurrence_id is not None
    if snap.segment is None:
        raise ZoomNotFound("no Zoom meeting of this halaka holds the session", 404, CODE_MEETING_NOT_FOUND)
    occ = _occurrence(client.get_meeting(snap.segment), c.occurrence_id)
    if occ is None:  # Zoom no longer lists it (it is over): nothing to change
        return
    if c.occurrence_deleted:
        if occ.get("status") != "deleted":
            client.delete_occurrence(snap.segment, c.occurrence_id)
        return
    same_time = from_zoom_utc(occ["start_time"]) == c.start
    if not same_time or occ.get("duration", c.duration) != c.duration:
        client.update_occurrence(
            snap.segment, c.occurrence_id, session_time_payload(c.start, c.duration), host=snap.host
        )


def _set_create_pending(change_id: int, value: bool) -> None:
    with session_scope() as s:
        row = s.get(SessionChange, change_id)
        if row is not None:
            row.create_pending = value


def _keyed(snap: Snap, client: ZoomClient) -> list[dict]:
    """The host's meetings carrying this session's key (only after an interrupted create)."""
    if not snap.create_pending:
        return []
    prefix = standalone_prefix(snap.key, snap.id) + "."
    return [
        m
        for m in client.list_meetings(snap.host)
        if (key_from_agenda(m.get("agenda")) or "").startswith(prefix)
    ]


def _hold_standalone(snap: Snap, client: ZoomClient) -> None:
    c = snap.change
    if snap.standalone is not None:
        meeting_id = snap.standalone[0]
        meeting = client.get_meeting(meeting_id)
    else:
        found = _keyed(snap, client)
        for extra in found[1:]:
            client.delete_meeting(extra["id"])
        if found:
            log.info(
                "adopting a session meeting created by an interrupted run",
                extra={"halaka_id": snap.halaka_id},
            )
            meeting = client.get_meeting(found[0]["id"])
        else:
            _set_create_pending(snap.id, True)
            key = standalone_key(snap.key, snap.id, snap.version)
            payload = single_meeting_payload(
                start=c.start,
                timezone=snap.timezone,
                duration=c.duration,
                topic=snap.title,
                agenda=agenda_with_key(snap.description or snap.title, key),
                password=generate_password(),
                shared_host=snap.shared_host,
            )
            meeting = client.create_meeting(snap.host, payload)
        _record_standalone(snap, meeting)
    if from_zoom_utc(meeting["start_time"]) != c.start or meeting.get("duration") != c.duration:
        client.update_meeting(meeting["id"], session_time_payload(c.start, c.duration), host=snap.host)
        _record_standalone(snap, {**meeting, "start_time": c.start.isoformat()})


def _record_standalone(snap: Snap, meeting: dict) -> None:
    start = from_zoom_utc(meeting["start_time"])
    with session_scope() as s:
        row = _standalone_row(s, snap.id)
        if row is None:
            row = ZoomMeeting(halaka_id=snap.halaka_id, segment_index=-snap.id, session_change_id=snap.id)
            s.add(row)
        row.meeting_id = int(meeting["id"])
        row.password = meeting.get("password", row.password)
        row.join_url = meeting.get("join_url", row.join_url)
        row.first_start = row.last_start = start
        row.occurrence_count = 1
        row.occurrence_ids = []
        row.version = snap.version
        change = s.get(SessionChange, snap.id)
        if change is not None:
            change.create_pending = False


def _drop_standalone(snap: Snap, client: ZoomClient) -> None:
    if snap.standalone is not None:
        client.delete_meeting(snap.standalone[0])
        with session_scope() as s:
            row = _standalone_row(s, snap.id)
            if row is not None:
                s.delete(row)
    for meeting in _keyed(snap, client):
        client.delete_meeting(meeting["id"])
    if snap.create_pending:
        _set_create_pending(snap.id, False)


def _applied(snap: Snap) -> bool:
    """Record that Zoom holds `snap.version` (a dropped change goes); False when it changed meanwhile."""
    with session_scope() as s:
        row = s.get(SessionChange, snap.id, with_for_update=True)
        if row is None:
            return True
        if row.version != snap.version:
            return False
        if row.dropped:
            s.delete(row)
            return True
        row.applied_version, row.tries, row.error, row.due_at = row.version, 0, None, None
        return True


def failed(change_id: int, message: str, *, wait: Callable[[int], float | None]) -> float | None:
    """A failed run: the attempt counted, the reason kept, due again after `wait(tries)` seconds
    (None: given up until the session is changed again). Answers that wait."""
    with session_scope() as s:
        row = s.get(SessionChange, change_id, with_for_update=True)
        if row is None:
            return None
        row.tries += 1
        row.error = message
        seconds = wait(row.tries)
        row.due_at = datetime.now(UTC) + timedelta(seconds=seconds) + lease() if seconds is not None else None
        return seconds


def due(limit: int = 200, now: datetime | None = None) -> list[int]:
    """Session changes Zoom does not hold yet whose lease ran out (a lost enqueue, a killed worker),
    leased again for the reconciler to enqueue."""
    now = now or datetime.now(UTC)
    with session_scope() as s:
        rows = s.scalars(
            select(SessionChange)
            .where(
                SessionChange.applied_version < SessionChange.version,
                SessionChange.due_at.is_not(None),
                SessionChange.due_at <= now,
            )
            .order_by(SessionChange.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.due_at = now + lease()
        return [row.id for row in rows]
