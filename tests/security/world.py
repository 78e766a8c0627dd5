"""A small, fast cast for the security tests: users with tokens and halakat with Zoom meeting rows.

Rows go straight into the database (no worker, no Zoom call); tokens are minted the way the login view
mints them, so building a world costs a few milliseconds instead of one Argon2 hash and login per user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from flask_jwt_extended import create_access_token, create_refresh_token

from shared.db import session_scope
from shared.models import Enrollment, Halaka, User, ZoomMeeting
from shared.passwords import hash_password

PASSWORD = "correct horse battery"
TEACHER_ZOOM_USER = "teacher@example.com"  # in the Zoom sandbox's user directory
OTHER_ZOOM_USER = "host@example.com"  # also in the sandbox, linked to nobody here
START_SECRET = "startsecret-" + uuid.uuid4().hex  # the host token inside every start URL we store
_HASH: list[str] = []


@dataclass
class Person:
    id: int
    email: str
    role: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    admin: Person
    teacher: Person  # owns `own`, linked to TEACHER_ZOOM_USER
    other_teacher: Person  # owns `other`
    student: Person  # enrolled in `own` and in `other`
    outsider: Person  # a student enrolled nowhere
    own: int  # halaka ids
    other: int
    meetings: dict[int, int] = field(default_factory=dict)  # halaka id -> its meeting number

    def as_role(self, role: str) -> Person | None:
        return {"admin": self.admin, "teacher": self.teacher, "student": self.student}.get(role)


def password_hash() -> str:
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def add_user(app, role: str, email: str, zoom_user_id: str | None = None) -> Person:
    with session_scope() as s:
        user = User(
            name=f"{role.title()} {email.split('@')[0]}",
            email=email,
            role=role,
            active=True,
            password_hash=password_hash(),
            zoom_user_id=zoom_user_id,
        )
        s.add(user)
        s.flush()
        user_id = user.id
    with app.app_context():
        claims = {"role": role}
        access = create_access_token(identity=str(user_id), additional_claims=claims)
        refresh = create_refresh_token(identity=str(user_id), additional_claims=claims)
    return Person(user_id, email, role, access, refresh)


def add_halaka(teacher_id: int, meeting_id: int, *, status: str = "ready", title: str = "Halaka") -> int:
    """A weekly halaka starting in 3 days with one provisioned meeting; its start URL holds START_SECRET."""
    today = datetime.now(UTC).date()
    with session_scope() as s:
        halaka = Halaka(
            title=title,
            description="",
            teacher_id=teacher_id,
            frequency="weekly",
            days=["monday", "wednesday"],
            start_time=time(17, 0),
            duration=60,
            start_date=today + timedelta(days=3),
            end_date=today + timedelta(days=60),
            timezone="Africa/Cairo",
            zoom_status=status,
            zoom_host=TEACHER_ZOOM_USER,
            provisioning_key=uuid.uuid4().hex,
            schedule_version=1,
            applied_version=1,
            attempts=0,
        )
        s.add(halaka)
        s.flush()
        first = datetime.combine(today + timedelta(days=3), time(15, 0), UTC)
        s.add(
            ZoomMeeting(
                halaka_id=halaka.id,
                segment_index=0,
                meeting_id=meeting_id,
                password="pw-join",
                join_url=f"https://zoom.example/j/{meeting_id}?pwd=joinsecret",
                start_url=f"https://zoom.example/s/{meeting_id}?zak={START_SECRET}",
                first_start=first,
                last_start=first + timedelta(days=56),
                occurrence_count=17,
                occurrence_ids=[],
                version=1,
            )
        )
        return halaka.id


def enroll(halaka_id: int, student_id: int) -> None:
    with session_scope() as s:
        s.add(Enrollment(halaka_id=halaka_id, student_id=student_id))


def build_world(app, *, status: str = "ready") -> World:
    tag = uuid.uuid4().hex[:8]
    admin = add_user(app, "admin", f"admin-{tag}@example.com")
    teacher = add_user(app, "teacher", f"teacher-{tag}@example.com", TEACHER_ZOOM_USER)
    other_teacher = add_user(app, "teacher", f"other-{tag}@example.com")
    student = add_user(app, "student", f"student-{tag}@example.com")
    outsider = add_user(app, "student", f"outsider-{tag}@example.com")
    own_meeting, other_meeting = 80_000_000_000 + teacher.id, 90_000_000_000 + other_teacher.id
    own = add_halaka(teacher.id, own_meeting, status=status, title="Own halaka")
    other = add_halaka(other_teacher.id, other_meeting, status=status, title="Other halaka")
    enroll(own, student.id)
    enroll(other, student.id)
    return World(
        admin, teacher, other_teacher, student, outsider, own, other, {own: own_meeting, other: other_meeting}
    )
