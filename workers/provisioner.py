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

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import lifecycle
from shared.access import is_shared_host
from shared.db import get_engine, session_scope
from shared.lifecycle import Outcome, Run
from shared.models import Halaka, ZoomMeeting
from shared.zoom.client import ZoomClient
from shared.zoom.errors import ZoomInvalidRequest
from shared.zoom.payloads import (
    agenda_with_key,
    generate_password,
    key_from_agenda,
    meeting_create_payload,
    meeting_update_payload,
)
from shared.zoom.recurrence import Schedule, Segment, plan_segments

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
    rows: tuple[Row, ...]


def segment_key(key: str, version: int, index: int) -> str:
    return f"{key}.{version}.{index}"


def _snapshot(h: Halaka) -> Snapshot:
    return Snapshot(
        id=h.id,
        key=h.provisioning_key or "",
        host=h.zoom_host or "",
        shared_host=is_shared_host(h.teacher.zoom_user_id, h.zoom_host),
        title=h.title,
        description=h.description,
        schedule=h.schedule,
        plan_after=h.plan_after,
        version=h.schedule_version,
        create_pending=h.create_pending,
        rows=tuple(Row(m.segment_index, m.meeting_id, m.version) for m in h.meetings),
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
                _apply(snap, GuardedClient(client, snap))
            except lifecycle.Interrupted as stop:
                if stop.outcome is Outcome.STOPPED:
                    return stop.outcome
                continue
            except Exception as exc:
                raise RunFailed(snap.version) from exc
            outcome = lifecycle.finish(halaka_id, snap.version)
            if outcome is not Outcome.CHANGED:
                return outcome
        return Outcome.CHANGED


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


def _apply(snap: Snapshot, client: ZoomClient) -> None:
    segments = plan_segments(snap.schedule, after=snap.plan_after)
    rows = {r.segment_index: r for r in snap.rows}
    found = _ours(snap, client)
    kept: set[int] = {r.meeting_id for r in snap.rows}
    for index, segment in enumerate(segments):
        key = segment_key(snap.key, snap.version, index)
        row = rows.get(index)
        if row is not None and row.version == snap.version:
            continue
        if row is not None:
            meeting = _update(snap, client, row, segment, key)
        else:
            meeting = _create_or_adopt(snap, client, segment, key, found.get(key))
            kept.add(int(meeting["id"]))
        _record(snap.id, index, meeting, snap.version)
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


def _update(snap: Snapshot, client: ZoomClient, row: Row, segment: Segment, key: str) -> dict:
    payload = meeting_update_payload(
        segment,
        timezone=snap.schedule.timezone,
        duration=snap.schedule.duration,
        topic=snap.title,
        agenda=_agenda(snap, key),
    )
    client.update_meeting(row.meeting_id, payload, host=snap.host)
    return _checked(client, client.get_meeting(row.meeting_id), segment)


def _create_or_adopt(
    snap: Snapshot, client: ZoomClient, segment: Segment, key: str, existing: dict | None
) -> dict:
    if existing is not None:
        log.info("adopting meeting created by an interrupted run", extra={"halaka_id": snap.id})
        return _checked(client, client.get_meeting(existing["id"]), segment)
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
    return _checked(client, client.create_meeting(snap.host, payload), segment)


def _checked(client: ZoomClient, meeting: dict, segment: Segment) -> dict:
    """A recurring meeting without occurrences is unusable: delete it and fail the run."""
    occurrences = meeting.get("occurrences") or []
    if not occurrences:
        client.delete_meeting(meeting["id"])
        raise ZoomInvalidRequest("Zoom returned the recurring meeting without occurrences; it was deleted")
    expected = [s.start_utc for s in segment.sessions]
    actual = [_utc(o["start_time"]) for o in occurrences]
    if actual != expected:
        log.warning(
            "Zoom's occurrences differ from the planned sessions",
            extra={"meeting_id": meeting["id"], "planned": len(expected), "zoom": len(actual)},
        )
    return meeting


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _segment_row(s: Session, halaka_id: int, index: int) -> ZoomMeeting | None:
    return s.scalar(
        select(ZoomMeeting).where(ZoomMeeting.halaka_id == halaka_id, ZoomMeeting.segment_index == index)
    )


def _record(halaka_id: int, index: int, meeting: dict[str, Any], version: int) -> None:
    """Store a meeting `_checked` has passed (so it has occurrences)."""
    occurrences = meeting["occurrences"]
    starts = [_utc(o["start_time"]) for o in occurrences]
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
            for meeting in _ours(snap, client).values():
                client.delete_meeting(meeting["id"])
        except Exception as exc:
            raise RunFailed(None) from exc
        return lifecycle.forget(halaka_id)
