"""Attendance rules, as pure functions: which scheduled session an instance is, how a participant's
intervals merge, and whether they were present, late or absent (docs/api.md; README "Attendance")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.session_status import ENDED, session_status

PRESENT, LATE, ABSENT = "present", "late", "absent"


def nearest_start(starts: Sequence[datetime], at: datetime) -> datetime | None:
    """The scheduled start closest to `at` (the earlier one on a tie); None without any."""
    return min(starts, key=lambda start: (abs(start - at), start), default=None)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


def merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined into one (a rejoin, or the same person on two devices)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if span.end < span.start:
            continue
        if merged and span.start <= merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def minutes(spans: Iterable[Span]) -> int:
    """Whole minutes covered by the spans once merged (rounded to the nearest minute)."""
    seconds = sum((s.end - s.start).total_seconds() for s in merge(spans))
    return int(seconds / 60 + 0.5)


@dataclass(frozen=True)
class Rules:
    late_minutes: int
    min_presence_percent: int


def status(
    *,
    first_join: datetime,
    attended_minutes: int,
    reference_start: datetime,
    session_minutes: int,
    ended: bool,
    rules: Rules,
) -> str:
    """`absent` once the session has ended when attendance is below the minimum share of the session;
    `late` when the first join came more than `late_minutes` after the reference start; else `present`.
    While the session runs, nobody who joined is absent yet."""
    if ended and attended_minutes * 100 < rules.min_presence_percent * session_minutes:
        return ABSENT
    if first_join > reference_start + timedelta(minutes=rules.late_minutes):
        return LATE
    return PRESENT


@dataclass(frozen=True)
class Instance:
    id: int
    scheduled_start: datetime
    status: str  # live | ended | cancelled
    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class Interval:
    instance_id: int
    identity: str
    user_id: int | None
    name: str
    joined_at: datetime | None
    left_at: datetime | None


@dataclass(frozen=True)
class Attendee:
    user_id: int | None
    name: str
    minutes: int
    joined_at: datetime | None
    left_at: datetime | None
    status: str


@dataclass(frozen=True)
class SessionAttendance:
    start_utc: datetime
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    attendees: list[Attendee]


def report(
    instances: Sequence[Instance],
    intervals: Sequence[Interval],
    *,
    enrolled: dict[int, str],
    duration: int,
    rules: Rules,
    now: datetime,
    only_user: int | None = None,
) -> list[SessionAttendance]:
    """Attendance per scheduled session that took place (has a live or ended instance).

    An interval without a join counts from the instance's start, one without a leave until the
    instance's end (or now while it runs). Rows of one identity (rejoins, several instances of one
    session) merge. Enrolled students with no interval are absent once the session has ended.
    `only_user` keeps that user's rows alone (a student viewing their own)."""
    by_id = {i.id: i for i in instances}
    sessions: dict[datetime, list[Instance]] = {}
    for instance in instances:
        sessions.setdefault(instance.scheduled_start, []).append(instance)
    out = []
    for start, group in sorted(sessions.items()):
        ran = [i for i in group if i.status != "cancelled"]
        if not ran:
            continue
        state = session_status(cancelled=False, instance_statuses=[i.status for i in ran])
        started = min((i.started_at for i in ran if i.started_at), default=None)
        ended = max((i.ended_at for i in ran if i.ended_at), default=None) if state == ENDED else None
        length = int((ended - started).total_seconds() / 60 + 0.5) if started and ended else duration
        reference = max(start, started) if started else start
        people: dict[str, list[tuple[Span, Interval]]] = {}
        ids = {i.id for i in ran}
        for interval in intervals:
            if interval.instance_id not in ids:
                continue
            instance = by_id[interval.instance_id]
            begin = interval.joined_at or instance.started_at or start
            end = interval.left_at or instance.ended_at or now
            people.setdefault(interval.identity, []).append((Span(begin, max(begin, end)), interval))
        attendees = []
        seen_users = set()
        for rows in people.values():
            spans = [span for span, _ in rows]
            first = rows[0][1]
            user_id = next((r.user_id for _, r in rows if r.user_id is not None), None)
            seen_users.add(user_id)
            still_in = state != ENDED and any(r.left_at is None for _, r in rows)
            attended = minutes(spans)
            attendees.append(
                Attendee(
                    user_id=user_id,
                    name=enrolled.get(user_id, first.name) if user_id is not None else first.name,
                    minutes=attended,
                    joined_at=min(s.start for s in spans),
                    left_at=None if still_in else max(s.end for s in spans),
                    status=status(
                        first_join=min(s.start for s in spans),
                        attended_minutes=attended,
                        reference_start=reference,
                        session_minutes=length,
                        ended=state == ENDED,
                        rules=rules,
                    ),
                )
            )
        if state == ENDED:
            for user_id, name in enrolled.items():
                if user_id not in seen_users:
                    attendees.append(Attendee(user_id, name, 0, None, None, ABSENT))
        if only_user is not None:
            attendees = [a for a in attendees if a.user_id == only_user]
        attendees.sort(key=lambda a: (a.status == ABSENT, a.name.casefold(), a.user_id or 0))
        out.append(SessionAttendance(start, state, started, ended, attendees))
    return out
