"""Every cell of DESIGN.md 4.2, table-driven."""

from __future__ import annotations

import pytest

from shared.access import (
    MeetingVisibility,
    Viewer,
    can_create_halaka,
    can_enroll,
    can_fetch_zak,
    can_manage_halaka,
    can_sign,
    meeting_visibility,
)

TEACHER_ID = 10
ADMIN = Viewer(1, "admin")
OWNER = Viewer(TEACHER_ID, "teacher", "owner@zoom.test")
OTHER_TEACHER = Viewer(11, "teacher", "other@zoom.test")
STUDENT = Viewer(20, "student")
STUDENT_SAME_ID_AS_TEACHER = Viewer(TEACHER_ID, "student")

VIEWERS = {
    "admin": ADMIN,
    "owner": OWNER,
    "other-teacher": OTHER_TEACHER,
    "student": STUDENT,
    "student-with-teacher-id": STUDENT_SAME_ID_AS_TEACHER,
}


@pytest.mark.parametrize(
    ("who", "create", "manage", "enroll"),
    [
        ("admin", True, True, False),
        ("owner", True, True, False),
        ("other-teacher", True, False, False),
        ("student", False, False, True),
        ("student-with-teacher-id", False, False, True),
    ],
)
def test_halaka_actions(who, create, manage, enroll):
    viewer = VIEWERS[who]
    assert can_create_halaka(viewer) is create
    assert can_manage_halaka(viewer, TEACHER_ID) is manage
    assert can_enroll(viewer) is enroll


@pytest.mark.parametrize(
    ("who", "enrolled", "expected"),
    [
        ("admin", False, MeetingVisibility(join=True, start=True)),
        ("owner", False, MeetingVisibility(join=True, start=True)),
        ("other-teacher", False, MeetingVisibility(join=False, start=False)),
        ("other-teacher", True, MeetingVisibility(join=False, start=False)),
        ("student", False, MeetingVisibility(join=False, start=False)),
        ("student", True, MeetingVisibility(join=True, start=False)),
        ("student-with-teacher-id", True, MeetingVisibility(join=True, start=False)),
    ],
)
def test_meeting_visibility(who, enrolled, expected):
    assert meeting_visibility(VIEWERS[who], TEACHER_ID, enrolled) == expected


@pytest.mark.parametrize(
    ("who", "enrolled", "role", "allowed"),
    [
        ("admin", False, 0, True),
        ("admin", False, 1, True),
        ("owner", False, 0, True),
        ("owner", False, 1, True),
        ("other-teacher", False, 0, False),
        ("other-teacher", False, 1, False),
        ("student", True, 0, True),
        ("student", True, 1, False),
        ("student", False, 0, False),
        ("student", False, 1, False),
        ("student-with-teacher-id", False, 1, False),
    ],
)
def test_signature(who, enrolled, role, allowed):
    assert can_sign(VIEWERS[who], TEACHER_ID, enrolled, role) is allowed


@pytest.mark.parametrize(
    ("viewer", "user_id", "allowed"),
    [
        (ADMIN, "anyone@zoom.test", True),
        (OWNER, "owner@zoom.test", True),
        (OWNER, " OWNER@zoom.test ", True),
        (OWNER, "other@zoom.test", False),
        (Viewer(12, "teacher", None), "owner@zoom.test", False),
        (Viewer(12, "teacher", None), "", False),
        (Viewer(20, "student", "owner@zoom.test"), "owner@zoom.test", False),
    ],
    ids=["admin", "own", "own-case-space", "foreign", "unlinked", "unlinked-empty", "student"],
)
def test_zak(viewer, user_id, allowed):
    assert can_fetch_zak(viewer, user_id) is allowed
