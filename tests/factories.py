"""Rows straight into the database: users, and provisioned halakat for API tests that need no worker.

`make_halaka` is the one halaka factory of the tests (tests that go through the API create theirs with
`POST /halaka/`)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from shared.db import session_scope
from shared.models import Enrollment, Halaka, User, ZoomMeeting
from shared.passwords import hash_password
from shared.zoom.recurrence import Frequency, Schedule

PASSWORD = "correct horse battery"


@lru_cache(maxsize=1)
def password_hash() -> str:
    """One hash of PASSWORD for every test user: hashing is the slow part of making one."""
    return hash_password(PASSWORD)


def insert_user(
    name: str, email: str, role: str, zoom_user_id: str | None = None, *, approved: bool = True
) -> int:
    """An active user who logs in with PASSWORD; returns its id."""
    with session_scope() as session:
        user = User(
            name=name,
            email=email,
            role=role,
            active=True,
            password_hash=password_hash(),
            zoom_user_id=zoom_user_id,
            approved=approved,
        )
        session.add(user)
        session.flush()
        return user.id


_meeting_numbers = itertools.count(81_000_000_000, 7)


def meeting_numbers(n: int = 1) -> tuple[int, ...]:
    """`n` Zoom meeting numbers no other test uses."""
    return tuple(next(_meeting_numbers) for _ in range(n))


def make_halaka(
    teacher_id: int,
    *,
    meeting_ids: tuple[int, ...] = (),
    status: str = "ready",
    title: str = "Halaka",
    host: str | None = "host@example.com",
) -> int:
    """A halaka (weekly, Africa/Cairo, starting in 3 days) with one zoom_meetings row per meeting id
    (`meeting_numbers(n)` for fresh ones). `host=None`: the teacher's own linked Zoom user hosts it
    (so the teacher may start it), else the shared `host@example.com`."""
    today = datetime.now(UTC).date()
    with session_scope() as s:
        if host is None:
            host = s.get_one(User, teacher_id).zoom_user_id or "host@example.com"
        h = Halaka(
            title=title,
            description="",
            teacher_id=teacher_id,
            schedule=Schedule(
                Frequency.weekly,
                ("monday", "wednesday"),
                time(17, 0),
                60,
                today + timedelta(days=3),
                today + timedelta(days=60),
                "Africa/Cairo",
            ),
            zoom_status=status,
            zoom_host=host,
            provisioning_key=uuid.uuid4().hex,
            schedule_version=1,
            applied_version=1 if meeting_ids else 0,
            attempts=0,
        )
        s.add(h)
        s.flush()
        for index, meeting_id in enumerate(meeting_ids):
            first = datetime.combine(today + timedelta(days=3 + 30 * index), time(15, 0), UTC)
            s.add(
                ZoomMeeting(
                    halaka_id=h.id,
                    segment_index=index,
                    meeting_id=meeting_id,
                    password=f"pw{index}",
                    join_url=f"https://zoom.example/j/{meeting_id}",
                    first_start=first,
                    last_start=first + timedelta(days=29),
                    occurrence_count=9,
                    occurrence_ids=[],
                    version=1,
                )
            )
        return h.id


def enroll(halaka_id: int, student_id: int) -> None:
    with session_scope() as s:
        s.add(Enrollment(halaka_id=halaka_id, student_id=student_id))


def next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def calendar_feed_path(user_id: int) -> str:
    """The user's secret feed path (`/api/v1/calendar/{token}.ics`), its token made if it has none."""
    from shared import feed_token

    with session_scope() as s:
        return f"/api/v1/calendar/{feed_token.token_for(feed_token.token_row(s, user_id).seed)}.ics"
