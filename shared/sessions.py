"""Sessions as things: the one home for what a halaka's sessions are now (issue 11).

A session is either *planned* (its schedule's recurrence holds it; Zoom names its occurrence by
`occurrence_id`, the planned start in milliseconds since the epoch) or *extra* (added on its own, held
by a standalone Zoom meeting; its id is `x<change id>`). What the platform or Zoom's portal changed
about a session is one `SessionChange` row:

- **cancelled**: the source of truth for "this session is cancelled" is `session_changes.cancelled`,
  for both origins: a cancel through the API, and an occurrence deleted in Zoom's portal, which the
  drift code (`workers.drift.record_cancelled`) records as a change with `source="zoom"`. Meeting
  instances only record what ran (live, ended);
- **moved**: `start_utc`/`duration` differ from the plan, Zoom's occurrence is PATCHed;
- **restored**: a cancelled planned session brought back. Zoom cannot undelete an occurrence, so the
  occurrence stays deleted (`occurrence_deleted`) and a standalone scheduled meeting (type 2, a row of
  `zoom_meetings` linked to the change) holds the session;
- **extra**: a standalone meeting of its own.

Every expansion here starts at a bounded instant (`since`, a session's own start) with a limit, through
the lazy generator of `shared.zoom.recurrence`, so a schedule stored as 0001-01-01..9999-12-31 costs no
more than any other.

`expected_occurrences` + `judge` are the one pure rule for "what must Zoom's occurrences of a segment
be": the provisioner (after its writes) and the drift check (events and the hourly read-back) both use
them, so single-session changes are never taken for drift, nor undone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from shared.models import Halaka, MeetingInstance, SessionChange, ZoomMeeting
from shared.session_status import session_status
from shared.zoom.payloads import from_zoom_utc
from shared.zoom.recurrence import Schedule, ScheduleError, iter_sessions

#: `includePast`: how far back the sessions list reaches (also the floor of `from`).
PAST_DAYS = 90
#: The longest session (recurrence.MAX_DURATION minutes): how far back a session may begin and still
#: overlap an instant.
_LONGEST = timedelta(days=1)
_TICK = timedelta(microseconds=1)
EXTRA_PREFIX = "x"


def occurrence_id_of(start: datetime) -> str:
    """Zoom's occurrence id of a planned session: its start in milliseconds since the epoch."""
    return str(int(start.timestamp() * 1000))


def extra_id(change_id: int) -> str:
    return f"{EXTRA_PREFIX}{change_id}"


def start_of_occurrence(occurrence_id: str) -> datetime | None:
    """The planned start an occurrence id names, or None when it is not one (digits, ms, in range)."""
    if not occurrence_id.isdigit() or len(occurrence_id) > 15:
        return None
    try:
        return datetime.fromtimestamp(int(occurrence_id) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def planned_session_at(schedule: Schedule, start: datetime) -> bool:
    """Whether `start` is a session of `schedule` (one step of the generator, from that very day)."""
    try:
        first = next(iter_sessions(schedule, after=start - _TICK), None)
    except ScheduleError:
        return False
    return first is not None and first.start_utc == start


def planned_near(schedule: Schedule, start: datetime, minutes: int) -> Iterator[tuple[datetime, int]]:
    """(start, duration) of the planned sessions that may overlap [start, start + minutes)."""
    try:
        for session in iter_sessions(schedule, after=start - _LONGEST):
            if session.start_utc >= start + timedelta(minutes=minutes):
                return
            yield session.start_utc, session.duration
    except ScheduleError:
        return


def overlaps(a: datetime, a_minutes: int, b: datetime, b_minutes: int) -> bool:
    return a < b + timedelta(minutes=b_minutes) and b < a + timedelta(minutes=a_minutes)


# --- the pure model of a change, and what Zoom must hold -------------------------------------------


@dataclass(frozen=True)
class Change:
    """A `SessionChange` row as the pure rules see it."""

    occurrence_id: str | None  # None: an extra session
    planned_start: datetime | None
    start: datetime
    duration: int
    cancelled: bool = False
    occurrence_deleted: bool = False
    applied: bool = True  # Zoom holds this version already

    @staticmethod
    def of(row: SessionChange) -> Change:
        return Change(
            row.occurrence_id,
            row.planned_start,
            row.start_utc,
            row.duration,
            row.cancelled,
            row.occurrence_deleted,
            row.applied_version >= row.version,
        )

    @property
    def standalone(self) -> bool:
        """Held by a standalone meeting: a restored or an extra session that is not cancelled."""
        return not self.cancelled and (self.occurrence_id is None or self.occurrence_deleted)


@dataclass(frozen=True)
class Expected:
    """One occurrence of a segment as Zoom must hold it."""

    occurrence_id: str
    planned: datetime
    start: datetime
    duration: int
    deleted: bool
    settled: bool  # no change, or a change Zoom already holds: only this state is right

    @property
    def changed(self) -> bool:
        return self.deleted or self.start != self.planned


def expected_occurrences(
    planned: Iterable[tuple[datetime, int]], changes: Mapping[str, Change]
) -> list[Expected]:
    """The segment's planned sessions ((start, duration) each) with the changes made to them."""
    out = []
    for start, duration in planned:
        oid = occurrence_id_of(start)
        c = changes.get(oid)
        if c is None:
            out.append(Expected(oid, start, start, duration, False, True))
        else:
            out.append(Expected(oid, start, c.start, c.duration, c.occurrence_deleted, c.applied))
    return out


@dataclass(frozen=True)
class Verdict:
    """Zoom's occurrences against the expected ones.

    `differs`: an occurrence is somewhere no rule explains (drift, or a provisioning mismatch).
    `unapplied`: occurrence ids of changes Zoom holds at their planned state (a recurrence PATCH reset
    them, or the change is still pending): the session task applies them (again).
    `deleted_elsewhere`: planned starts of occurrences deleted in Zoom that no change deleted (the
    portal; an occurrence no plan explains: its own start).
    """

    differs: bool = False
    unapplied: tuple[str, ...] = ()
    deleted_elsewhere: tuple[datetime, ...] = field(default=())


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return from_zoom_utc(value)
    except ValueError:
        return None


def judge(
    expected: Sequence[Expected],
    occurrences: Iterable[dict],
    now: datetime | None = None,
    *,
    partial: bool = False,
) -> Verdict:
    """Pure. With `now`, sessions that began before it are left out on both sides (Zoom stops listing
    past occurrences). Occurrences are matched by id, else by their planned start. `partial`: the
    occurrences are only some of the meeting's (an event about one occurrence): the others are not
    looked for."""
    by_id = {e.occurrence_id: e for e in expected}
    by_planned = {e.planned: e for e in expected}
    seen: set[str] = set()
    differs, unapplied, elsewhere = False, [], []
    for occ in occurrences:
        start = _parse(occ.get("start_time"))
        if start is None:
            differs = True
            continue
        e = by_id.get(str(occ.get("occurrence_id"))) or by_planned.get(start)
        deleted = occ.get("status") == "deleted"
        if e is None:
            if deleted:
                elsewhere.append(start)
            elif now is None or start > now:
                differs = True
            continue
        seen.add(e.occurrence_id)
        if deleted:
            if not e.deleted:
                elsewhere.append(e.planned)
            continue
        if now is not None and max(e.start, start) <= now and e.planned <= now:
            continue
        duration = occ.get("duration")
        same_length = not isinstance(duration, int) or duration == e.duration
        if not e.deleted and start == e.start and same_length:
            continue
        elif e.changed and start in (e.planned, e.start):
            unapplied.append(e.occurrence_id)
        else:
            differs = True
    for e in expected:
        if not partial and e.occurrence_id not in seen and (now is None or max(e.start, e.planned) > now):
            differs = True
    return Verdict(differs, tuple(unapplied), tuple(sorted(elsewhere)))


# --- the schedule-edit rule --------------------------------------------------------------------------


def survives(change: Change, schedule: Schedule, now: datetime, *, exclude: datetime | None = None) -> bool:
    """Whether a change still makes sense under a new `schedule` (README "Single sessions"):

    1. a change of a session in the past (it began, or was planned, before `now`) is kept as history;
    2. a change of a planned session (cancel, move, restore) needs its planned start to be a session of
       the new plan, else it is dropped with the slot;
    3. a session taking place away from its planned slot (moved, restored, extra) that would overlap
       another session of the new plan is dropped; a cancelled one overlaps nothing.
    """
    if change.start <= now or (change.planned_start is not None and change.planned_start <= now):
        return True
    if change.planned_start is not None and not planned_session_at(schedule, change.planned_start):
        return False
    if change.cancelled:
        return True
    own = exclude if exclude is not None else change.planned_start
    return not any(
        start != own and overlaps(change.start, change.duration, start, minutes)
        for start, minutes in planned_near(schedule, change.start, change.duration)
    )


# --- reading sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    occurrence_id: str  # Zoom's occurrence id of a planned session; "x<change id>" for an extra one
    start_utc: datetime  # where the session is now (moved: the new time)
    duration: int
    status: str  # shared.session_status.session_status: scheduled|cancelled|live|ended
    original_start_utc: datetime | None  # set when the session was moved
    cancel_reason: str | None
    meeting_id: int | None  # the Zoom meeting holding it now (its segment, or its standalone meeting)
    sequence: int  # 0 for an untouched session, raised on every change (the feed's SEQUENCE)
    changed_at: datetime | None  # last change to it (the feed's Last-Modified)
    extra: bool = False
    restored: bool = False
    pending: bool = False  # a change Zoom does not hold yet


def segment_holding(halaka: Halaka, start: datetime) -> ZoomMeeting | None:
    for m in halaka.segments:
        if m.first_start <= start <= m.last_start:
            return m
    return None


def changes_between(
    s: Session, halaka_id: int, since: datetime, until: datetime | None, *, limit: int | None = None
) -> list[SessionChange]:
    """The live (not dropped) changes whose session is now, or was planned, in [since, until]."""

    def within(column):
        return and_(column >= since, column <= until) if until is not None else column >= since

    stmt = (
        select(SessionChange)
        .where(
            SessionChange.halaka_id == halaka_id,
            SessionChange.dropped.is_(False),
            or_(within(SessionChange.start_utc), within(SessionChange.planned_start)),
        )
        .order_by(SessionChange.start_utc)
    )
    return list(s.scalars(stmt.limit(limit) if limit else stmt))


def _standalone_meetings(halaka: Halaka) -> dict[int, ZoomMeeting]:
    return {m.session_change_id: m for m in halaka.meetings if m.session_change_id is not None}


def _view_of_change(
    c: SessionChange, halaka: Halaka, standalone: Mapping[int, ZoomMeeting], states
) -> SessionView:
    own = standalone.get(c.id)
    if own is not None:
        meeting_id: int | None = own.meeting_id
    elif c.occurrence_id is not None and not c.occurrence_deleted:
        held = segment_holding(halaka, c.planned_start) if c.planned_start else None
        meeting_id = held.meeting_id if held else None
    else:
        meeting_id = None
    moved = c.planned_start is not None and c.start_utc != c.planned_start
    return SessionView(
        occurrence_id=c.occurrence_id or extra_id(c.id),
        start_utc=c.start_utc,
        duration=c.duration,
        status=session_status(cancelled=c.cancelled, instance_statuses=states.get(c.start_utc, ())),
        original_start_utc=c.planned_start if moved else None,
        cancel_reason=c.reason if c.cancelled else None,
        meeting_id=meeting_id,
        sequence=c.version,
        changed_at=c.changed_at,
        extra=c.occurrence_id is None,
        restored=c.occurrence_id is not None and c.occurrence_deleted and not c.cancelled,
        pending=c.applied_version < c.version,
    )


def halaka_sessions(
    s: Session,
    halaka: Halaka,
    *,
    since: datetime,
    until: datetime | None = None,
    status: str | None = None,
    limit: int,
) -> list[SessionView]:
    """The halaka's sessions starting in [since, until] (where they are now), in order, at most `limit`,
    optionally only those with `status`. Planned sessions come from the generator started at `since`."""
    changes = changes_between(s, halaka.id, since, until)
    changed = {c.occurrence_id for c in changes if c.occurrence_id}
    planned = []
    try:
        for x in islice(iter_sessions(halaka.schedule, after=since - _TICK), limit + len(changes)):
            if until is not None and x.start_utc > until:
                break
            planned.append(x)
    except ScheduleError:
        planned = []
    starts = [x.start_utc for x in planned] + [c.start_utc for c in changes]
    states: dict[datetime, list[str]] = {}
    if starts:
        for start, state in s.execute(
            select(MeetingInstance.scheduled_start, MeetingInstance.status).where(
                MeetingInstance.halaka_id == halaka.id,
                MeetingInstance.scheduled_start.between(min(starts), max(starts)),
            )
        ):
            states.setdefault(start, []).append(state)
    standalone = _standalone_meetings(halaka)
    views = [_view_of_change(c, halaka, standalone, states) for c in changes]
    for x in planned:
        oid = occurrence_id_of(x.start_utc)
        if oid in changed:
            continue
        held = segment_holding(halaka, x.start_utc)
        views.append(
            SessionView(
                occurrence_id=oid,
                start_utc=x.start_utc,
                duration=x.duration,
                status=session_status(cancelled=False, instance_statuses=states.get(x.start_utc, ())),
                original_start_utc=None,
                cancel_reason=None,
                meeting_id=held.meeting_id if held else None,
                sequence=0,
                changed_at=None,
            )
        )
    views = [
        v
        for v in views
        if v.start_utc >= since
        and (until is None or v.start_utc <= until)
        and (status is None or v.status == status)
    ]
    views.sort(key=lambda v: (v.start_utc, v.occurrence_id))
    return views[:limit]


def find_change(
    s: Session, halaka_id: int, occurrence_id: str, *, lock: bool = False
) -> SessionChange | None:
    """The change of the session `occurrence_id` names (a planned occurrence id or `x<id>`)."""
    stmt = select(SessionChange).where(SessionChange.halaka_id == halaka_id, SessionChange.dropped.is_(False))
    if occurrence_id.startswith(EXTRA_PREFIX):
        number = occurrence_id[len(EXTRA_PREFIX) :]
        if not number.isdigit() or len(number) > 9:
            return None
        stmt = stmt.where(SessionChange.id == int(number), SessionChange.occurrence_id.is_(None))
    else:
        stmt = stmt.where(SessionChange.occurrence_id == occurrence_id)
    if lock:
        stmt = stmt.with_for_update()
    return s.scalar(stmt)


def changes_by_occurrence(s: Session, halaka_id: int, planned: Sequence[datetime]) -> dict[str, Change]:
    """The changes of these planned sessions, by occurrence id (for `expected_occurrences`)."""
    if not planned:
        return {}
    rows = s.scalars(
        select(SessionChange).where(
            SessionChange.halaka_id == halaka_id,
            SessionChange.dropped.is_(False),
            SessionChange.occurrence_id.is_not(None),
            SessionChange.planned_start.between(min(planned), max(planned)),
        )
    )
    return {r.occurrence_id: Change.of(r) for r in rows if r.occurrence_id}


def view_of(halaka: Halaka, change: SessionChange) -> SessionView:
    """The session a change describes (status from the change alone: right after a write)."""
    return _view_of_change(change, halaka, _standalone_meetings(halaka), {})


def collides(
    s: Session,
    halaka: Halaka,
    start: datetime,
    minutes: int,
    *,
    own: SessionChange | None,
    own_planned: datetime | None,
) -> bool:
    """Whether a session at [start, start + minutes) would overlap another session of the halaka (a
    planned one, or a moved, restored or extra one), leaving out the session being moved."""
    moved_away = {
        c.planned_start
        for c in changes_between(s, halaka.id, start - _LONGEST, start + timedelta(minutes=minutes))
        if c.planned_start is not None and (c.start_utc != c.planned_start or c.cancelled)
    }
    for planned, length in planned_near(halaka.schedule, start, minutes):
        if planned != own_planned and planned not in moved_away and overlaps(start, minutes, planned, length):
            return True
    for c in changes_between(s, halaka.id, start - _LONGEST, start + timedelta(minutes=minutes)):
        if (own is not None and c.id == own.id) or c.cancelled:
            continue
        if overlaps(start, minutes, c.start_utc, c.duration):
            return True
    return False


def keep_surviving_changes(s: Session, halaka: Halaka, schedule: Schedule, now: datetime) -> list[int]:
    """A schedule edit (the halaka row locked): drop the upcoming changes `survives` refuses. A change
    without a Zoom meeting of its own goes (the sync re-plans its slot); one with a standalone meeting
    is marked dropped and cancelled, and the session task deletes the meeting, then the row. Answers
    the ids of the changes to enqueue."""
    rows = s.scalars(
        select(SessionChange).where(
            SessionChange.halaka_id == halaka.id,
            SessionChange.dropped.is_(False),
            or_(SessionChange.start_utc > now, SessionChange.planned_start > now),
        )
    )
    standalone = _standalone_meetings(halaka)
    enqueue = []
    for row in rows:
        if survives(Change.of(row), schedule, now):
            continue
        if row.id in standalone or row.create_pending:
            row.dropped, row.cancelled = True, True
            row.version += 1
            row.changed_at = now
            enqueue.append(row.id)
        else:
            s.delete(row)
    return enqueue


def _planned_changes_after(s: Session, halaka_id: int, after: datetime) -> Iterable[SessionChange]:
    """The live changes of planned sessions whose planned start is after `after`."""
    return s.scalars(
        select(SessionChange).where(
            SessionChange.halaka_id == halaka_id,
            SessionChange.dropped.is_(False),
            SessionChange.occurrence_id.is_not(None),
            SessionChange.planned_start > after,
        )
    )


def writes_to_keep(s: Session, halaka_id: int, schedule: Schedule, now: datetime) -> int:
    """Zoom writes a schedule edit costs beyond its segments, for the changes it keeps (run after
    `keep_surviving_changes`): re-planned segments hold their sessions as planned, so every kept
    deletion or move of an upcoming occurrence is written to Zoom again."""
    return sum(
        1
        for r in _planned_changes_after(s, halaka_id, now)
        if r.occurrence_deleted or r.start_utc != r.planned_start or r.duration != schedule.duration
    )


def upcoming_changes(s: Session | None, halaka_id: int, now: datetime | None = None) -> dict[str, Change]:
    """The changes of planned sessions not long past, by occurrence id (what a sync's segments hold)."""
    if s is None:
        return {}
    rows = _planned_changes_after(s, halaka_id, (now or datetime.now(UTC)) - _LONGEST)
    return {r.occurrence_id: Change.of(r) for r in rows if r.occurrence_id}


def upcoming_extra_count(s: Session, halaka_id: int, now: datetime) -> int:
    """The halaka's extra sessions (cancelled ones too: their rows stay) not begun by `now`."""
    return (
        s.scalar(
            select(func.count())
            .select_from(SessionChange)
            .where(
                SessionChange.halaka_id == halaka_id,
                SessionChange.dropped.is_(False),
                SessionChange.occurrence_id.is_(None),
                SessionChange.start_utc > now,
            )
        )
        or 0
    )


def session_create_pending(s: Session | None, halaka_id: int) -> bool:
    """Whether a standalone meeting of this halaka may have been created without its answer arriving."""
    if s is None:
        return False
    found = s.scalar(
        select(SessionChange.id)
        .where(SessionChange.halaka_id == halaka_id, SessionChange.create_pending.is_(True))
        .limit(1)
    )
    return found is not None
