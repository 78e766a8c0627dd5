"""A small, fast cast for the security tests: users with tokens and halakat with Zoom meeting rows.

Rows go straight into the database (no worker); tokens are minted the way the login view mints them,
so building a world costs a few milliseconds instead of one Argon2 hash and login per user. With
`zoom=` (the sandbox, under `zoom_configured`) each halaka's meeting really exists on the sandbox, so
start links can be fetched; otherwise meeting ids are made up and nothing calls Zoom.

The cast covers every row of the trust table (README, Trust model):
- `teacher`: approved, linked to TEACHER_ZOOM_USER, which hosts `own`;
- `other_teacher`: approved, no linked Zoom user: `other` is hosted by the shared host (SHARED_HOST);
- `relinked_teacher`: `relinked` is hosted by OLD_ZOOM_USER, but an admin has since linked the teacher to
  NEW_ZOOM_USER;
- `unapproved_teacher`: linked to UNAPPROVED_ZOOM_USER, which hosts `unapproved`, but not approved;
- `student` enrolled in `own` and `other`; `outsider`, a student enrolled nowhere; `admin`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from api.auth_context import issue_tokens
from tests.factories import enroll, insert_user, make_halaka
from tests.fixtures import Account as Person

TEACHER_ZOOM_USER = "teacher@example.com"  # in the Zoom sandbox's user directory
OTHER_ZOOM_USER = SHARED_HOST = "host@example.com"  # in the sandbox: the default (shared) host
OLD_ZOOM_USER = "old-link@example.com"
NEW_ZOOM_USER = "new-link@example.com"
UNAPPROVED_ZOOM_USER = "unapproved@example.com"
EXTRA_SANDBOX_USERS = (OLD_ZOOM_USER, NEW_ZOOM_USER, UNAPPROVED_ZOOM_USER)

TEACHER_ROLES = ("teacher", "shared_teacher", "relinked_teacher", "unapproved_teacher")
ROLES = ("anonymous", "student", *TEACHER_ROLES, "admin")


@dataclass
class World:
    admin: Person
    teacher: Person
    other_teacher: Person
    relinked_teacher: Person
    unapproved_teacher: Person
    student: Person
    outsider: Person
    own: int  # halaka ids
    other: int
    relinked: int
    unapproved: int
    meetings: dict[int, int] = field(default_factory=dict)  # halaka id -> its meeting number
    hosts: dict[int, str] = field(default_factory=dict)  # halaka id -> its Zoom host

    def as_role(self, role: str) -> Person | None:
        return {
            "admin": self.admin,
            "teacher": self.teacher,
            "shared_teacher": self.other_teacher,
            "relinked_teacher": self.relinked_teacher,
            "unapproved_teacher": self.unapproved_teacher,
            "student": self.student,
        }.get(role)

    def own_of(self, role: str) -> int:
        """The halaka this role's persona teaches (`own` for students and admins)."""
        return {
            "shared_teacher": self.other,
            "relinked_teacher": self.relinked,
            "unapproved_teacher": self.unapproved,
        }.get(role, self.own)

    def foreign_of(self, role: str) -> int:
        """A halaka another teacher teaches (`other` for students and admins)."""
        return (
            self.own if role in ("shared_teacher", "relinked_teacher", "unapproved_teacher") else self.other
        )


def add_user(app, role: str, email: str, zoom_user_id: str | None = None, *, approved: bool = True) -> Person:
    user_id = insert_user(
        f"{role.title()} {email.split('@')[0]}", email, role, zoom_user_id, approved=approved
    )
    with app.app_context():
        access, refresh = issue_tokens(user_id, role)
    return Person(user_id, email, role, access, refresh)


def sandbox_meeting(host: str) -> int:
    """A scheduled meeting of `host` on the sandbox (through the app's own Zoom client)."""
    from shared.zoom.client import get_zoom_client

    start = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    meeting = get_zoom_client().create_meeting(
        host, {"topic": "World", "type": 2, "start_time": start, "duration": 60, "timezone": "UTC"}
    )
    return int(meeting["id"])


def build_world(app, *, status: str = "ready", zoom=None) -> World:
    """`zoom`: the sandbox control (under `zoom_configured`) to create real meetings on."""
    tag = uuid.uuid4().hex[:8]
    if zoom is not None:
        known = {u["email"] for u in zoom.users()}
        for email in EXTRA_SANDBOX_USERS:
            if email not in known:
                zoom.add_user(email)
    admin = add_user(app, "admin", f"admin-{tag}@example.com")
    teacher = add_user(app, "teacher", f"teacher-{tag}@example.com", TEACHER_ZOOM_USER)
    other_teacher = add_user(app, "teacher", f"other-{tag}@example.com")
    relinked_teacher = add_user(app, "teacher", f"relinked-{tag}@example.com", NEW_ZOOM_USER)
    unapproved_teacher = add_user(
        app, "teacher", f"unapproved-{tag}@example.com", UNAPPROVED_ZOOM_USER, approved=False
    )
    student = add_user(app, "student", f"student-{tag}@example.com")
    outsider = add_user(app, "student", f"outsider-{tag}@example.com")
    cast = [
        (teacher, TEACHER_ZOOM_USER, 80_000_000_000, "Own halaka"),
        (other_teacher, SHARED_HOST, 90_000_000_000, "Other halaka"),
        (relinked_teacher, OLD_ZOOM_USER, 70_000_000_000, "Relinked halaka"),
        (unapproved_teacher, UNAPPROVED_ZOOM_USER, 60_000_000_000, "Unapproved halaka"),
    ]
    ids, meetings, hosts = [], {}, {}
    for person, host, base, title in cast:
        meeting_id = sandbox_meeting(host) if zoom is not None else base + person.id
        halaka_id = make_halaka(person.id, meeting_ids=(meeting_id,), status=status, title=title, host=host)
        ids.append(halaka_id)
        meetings[halaka_id], hosts[halaka_id] = meeting_id, host
    own, other, relinked, unapproved = ids
    enroll(own, student.id)
    enroll(other, student.id)
    return World(
        admin,
        teacher,
        other_teacher,
        relinked_teacher,
        unapproved_teacher,
        student,
        outsider,
        own,
        other,
        relinked,
        unapproved,
        meetings,
        hosts,
    )
