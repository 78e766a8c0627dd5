"""A small, fast cast for the security tests: users with tokens and halakat with Zoom meeting rows.

Rows go straight into the database (no worker, no Zoom call); tokens are minted the way the login view
mints them, so building a world costs a few milliseconds instead of one Argon2 hash and login per user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from flask_jwt_extended import create_access_token, create_refresh_token

from tests.factories import START_URL_SECRET, enroll, insert_user, make_halaka
from tests.fixtures import Account as Person

TEACHER_ZOOM_USER = "teacher@example.com"  # in the Zoom sandbox's user directory
OTHER_ZOOM_USER = "host@example.com"  # also in the sandbox, linked to nobody here
START_SECRET = START_URL_SECRET  # the host token inside every start URL we store


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


def add_user(app, role: str, email: str, zoom_user_id: str | None = None) -> Person:
    user_id = insert_user(f"{role.title()} {email.split('@')[0]}", email, role, zoom_user_id)
    with app.app_context():
        claims = {"role": role}
        access = create_access_token(identity=str(user_id), additional_claims=claims)
        refresh = create_refresh_token(identity=str(user_id), additional_claims=claims)
    return Person(user_id, email, role, access, refresh)


def add_halaka(teacher_id: int, meeting_id: int, *, status: str = "ready", title: str = "Halaka") -> int:
    """A weekly halaka starting in 3 days with one provisioned meeting; its start URL holds START_SECRET."""
    return make_halaka(
        teacher_id, meeting_ids=(meeting_id,), status=status, title=title, host=TEACHER_ZOOM_USER
    )


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
