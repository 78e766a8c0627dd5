"""Every cell of the README's trust model, table-driven, without a database.

The halaka under test belongs to TEACHER_ID and is hosted by HOST. Viewers: an admin; its approved
owner linked to HOST; the same owner on a shared host (unlinked, or linked elsewhere after a re-link);
an unapproved owner; another teacher; students.
"""

from __future__ import annotations

import pytest

from shared.access import (
    MeetingVisibility,
    Viewer,
    can_create_halaka,
    can_enroll,
    can_fetch_zak,
    can_host,
    can_manage_halaka,
    can_sign,
    in_calendar,
    is_shared_host,
    meeting_visibility,
    same_zoom_user,
)

TEACHER_ID = 10
HOST = "owner@zoom.test"
ADMIN = Viewer(1, "admin")
OWNER = Viewer(TEACHER_ID, "teacher", HOST)
OWNER_CASE = Viewer(TEACHER_ID, "teacher", " Owner@Zoom.test ")
SHARED = Viewer(TEACHER_ID, "teacher", None)  # no linked Zoom user: hosted by the default host
RELINKED = Viewer(TEACHER_ID, "teacher", "new@zoom.test")  # the halaka is still hosted by HOST
UNAPPROVED = Viewer(TEACHER_ID, "teacher", HOST, approved=False)
OTHER_TEACHER = Viewer(11, "teacher", "other@zoom.test")
HOST_OF_IT_BUT_NOT_OWNER = Viewer(12, "teacher", HOST)  # cannot exist (zoomUserId unique); still no
STUDENT = Viewer(20, "student")
STUDENT_SAME_ID_AS_TEACHER = Viewer(TEACHER_ID, "student", HOST)

VIEWERS = {
    "admin": ADMIN,
    "owner": OWNER,
    "owner-case": OWNER_CASE,
    "shared-host-owner": SHARED,
    "relinked-owner": RELINKED,
    "unapproved-owner": UNAPPROVED,
    "other-teacher": OTHER_TEACHER,
    "host-not-owner": HOST_OF_IT_BUT_NOT_OWNER,
    "student": STUDENT,
    "student-with-teacher-id": STUDENT_SAME_ID_AS_TEACHER,
}

# who: (create, manage, enroll, host; visibility not enrolled; visibility enrolled)
V = MeetingVisibility
TABLE = {
    "admin": (True, True, False, True, V(True, True, True), V(True, True, True)),
    "owner": (True, True, False, True, V(True, True, True), V(True, True, True)),
    "owner-case": (True, True, False, True, V(True, True, True), V(True, True, True)),
    "shared-host-owner": (True, True, False, False, V(True, False, True), V(True, False, True)),
    "relinked-owner": (True, True, False, False, V(True, False, True), V(True, False, True)),
    "unapproved-owner": (False, False, False, False, V(False, False, False), V(False, False, False)),
    "other-teacher": (True, False, False, False, V(False, False, False), V(False, False, False)),
    "host-not-owner": (True, False, False, False, V(False, False, False), V(False, False, False)),
    "student": (False, False, True, False, V(False, False, False), V(True, False, False)),
    "student-with-teacher-id": (False, False, True, False, V(False, False, False), V(True, False, False)),
}


@pytest.mark.parametrize("who", sorted(TABLE))
def test_every_cell(who):
    create, manage, enroll, host, visible, visible_enrolled = TABLE[who]
    viewer = VIEWERS[who]
    assert can_create_halaka(viewer) is create
    assert can_manage_halaka(viewer, TEACHER_ID) is manage
    assert can_enroll(viewer) is enroll
    assert can_host(viewer, TEACHER_ID, HOST) is host
    assert meeting_visibility(viewer, TEACHER_ID, False, HOST) == visible
    assert meeting_visibility(viewer, TEACHER_ID, True, HOST) == visible_enrolled
    # role-1 signatures follow the host rule exactly; role 0 goes to managers and enrolled students
    for enrolled in (False, True):
        assert can_sign(viewer, TEACHER_ID, enrolled, 1, HOST) is host
        joins = manage or (viewer.role == "student" and enrolled)
        assert can_sign(viewer, TEACHER_ID, enrolled, 0, HOST) is joins


def test_unapproved_admin_flag_is_irrelevant_for_admins():
    assert can_host(Viewer(1, "admin", approved=False), TEACHER_ID, HOST)


@pytest.mark.parametrize(
    ("viewer", "user_id", "allowed"),
    [
        (ADMIN, "anyone@zoom.test", True),
        (OWNER, HOST, True),
        (OWNER, " OWNER@zoom.test ", True),
        (OWNER, "other@zoom.test", False),
        (UNAPPROVED, HOST, False),
        (RELINKED, HOST, False),
        (RELINKED, "new@zoom.test", True),
        (Viewer(12, "teacher", None), HOST, False),
        (Viewer(12, "teacher", None), "", False),
        (Viewer(20, "student", HOST), HOST, False),
    ],
    ids=[
        "admin",
        "own",
        "own-case-space",
        "foreign",
        "unapproved",
        "relinked-old",
        "relinked-new",
        "unlinked",
        "unlinked-empty",
        "student",
    ],
)
def test_zak(viewer, user_id, allowed):
    assert can_fetch_zak(viewer, user_id) is allowed


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [("a@x.io", "A@X.IO", True), (" a@x.io", "a@x.io ", True), ("a@x.io", "b@x.io", False), ("", "", False)],
)
def test_same_zoom_user(a, b, same):
    assert same_zoom_user(a, b) is same
    assert is_shared_host(a, b) is not same
    assert is_shared_host(None, b)


# who: in the feed (not enrolled, enrolled), and when asked for by id (not enrolled, enrolled)
CALENDAR = {
    "admin": (False, False, True, True),
    "owner": (True, True, True, True),
    "owner-case": (True, True, True, True),
    "shared-host-owner": (True, True, True, True),
    "relinked-owner": (True, True, True, True),
    "unapproved-owner": (False, False, False, False),
    "other-teacher": (False, False, False, False),
    "host-not-owner": (False, False, False, False),
    "student": (False, True, False, True),
    "student-with-teacher-id": (False, True, False, True),
}


@pytest.mark.parametrize("who", sorted(CALENDAR))
def test_calendar_membership(who):
    viewer = VIEWERS[who]
    got = tuple(
        in_calendar(viewer, TEACHER_ID, enrolled, asked=asked)
        for asked in (False, True)
        for enrolled in (False, True)
    )
    assert got == CALENDAR[who]
