"""Who may do what (README, Trust model): the one place that decides, as pure functions.

Inputs are plain facts (the viewer's id, role, approval and linked Zoom user, the halaka's teacher and
the Zoom user hosting it, whether the viewer is enrolled), so every cell of the table is tested without
a database.

Host credentials (start links, role-1 signatures, ZAKs) are user-level: whoever holds one can start
every meeting of that Zoom user. So they go only to admins and to an approved teacher whose own linked
Zoom user hosts the meeting of their own halaka — never to a teacher on a shared host.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.models import Role


@dataclass(frozen=True)
class Viewer:
    id: int
    role: Role
    zoom_user_id: str | None = None
    approved: bool = True


@dataclass(frozen=True)
class MeetingVisibility:
    """Which secret-bearing fields of a halaka a viewer may see."""

    join: bool  # password and joinUrl
    start: bool  # startUrl (carries the host's ZAK)
    error: bool  # zoomError (may name the host's Zoom e-mail)


def same_zoom_user(a: str | None, b: str | None) -> bool:
    """Zoom user ids and e-mails compare case-insensitively; an empty one matches nothing."""
    left, right = (a or "").strip().casefold(), (b or "").strip().casefold()
    return bool(left) and left == right


def is_shared_host(teacher_zoom_user: str | None, host: str | None) -> bool:
    """The meeting is hosted by a Zoom user that is not the teacher's own linked one."""
    return not same_zoom_user(teacher_zoom_user, host)


def owns(viewer: Viewer, teacher_id: int) -> bool:
    """An approved teacher's own halaka (an unapproved teacher reads like a student enrolled nowhere)."""
    return viewer.role == Role.teacher and viewer.approved and viewer.id == teacher_id


def can_create_halaka(viewer: Viewer) -> bool:
    return viewer.role == Role.admin or (viewer.role == Role.teacher and viewer.approved)


def can_manage_halaka(viewer: Viewer, teacher_id: int) -> bool:
    """Update, delete and retry provisioning: the halaka's own teacher, or an admin."""
    return viewer.role == Role.admin or owns(viewer, teacher_id)


def can_host(viewer: Viewer, teacher_id: int, host: str | None) -> bool:
    """Start link, role-1 signature: admins; the halaka's teacher when their own linked Zoom user hosts it."""
    if viewer.role == Role.admin:
        return True
    return owns(viewer, teacher_id) and same_zoom_user(viewer.zoom_user_id, host)


def can_enroll(viewer: Viewer) -> bool:
    return viewer.role == Role.student


def meeting_visibility(
    viewer: Viewer, teacher_id: int, enrolled: bool, host: str | None
) -> MeetingVisibility:
    manages = can_manage_halaka(viewer, teacher_id)
    return MeetingVisibility(
        join=manages or (viewer.role == Role.student and enrolled),
        start=can_host(viewer, teacher_id, host),
        error=manages,
    )


def can_sign(viewer: Viewer, teacher_id: int, enrolled: bool, role: int, host: str | None) -> bool:
    """Meeting SDK signature: role 1 (host) by `can_host`; role 0 for the manager and enrolled students."""
    if role != 0:
        return can_host(viewer, teacher_id, host)
    return can_manage_halaka(viewer, teacher_id) or (viewer.role == Role.student and enrolled)


def can_fetch_zak(viewer: Viewer, zoom_user_id: str) -> bool:
    """ZAK: an admin for any user; an approved teacher only for the Zoom user an admin linked to them."""
    if viewer.role == Role.admin:
        return True
    return (
        viewer.role == Role.teacher and viewer.approved and same_zoom_user(viewer.zoom_user_id, zoom_user_id)
    )


def in_calendar(viewer: Viewer, teacher_id: int, enrolled: bool, *, asked: bool = False) -> bool:
    """Whether a halaka's sessions belong in the viewer's calendar feed: an approved teacher's own, an
    enrolled student's; an admin's only when `asked` for (by halaka id), since an admin sees every
    halaka and a feed of all of them helps nobody."""
    if viewer.role == Role.admin:
        return asked
    return owns(viewer, teacher_id) or (viewer.role == Role.student and enrolled)


def attendance_scope(viewer: Viewer, teacher_id: int, enrolled: bool) -> str | None:
    """Attendance: `all` rows for the halaka's teacher and admins, the `own` rows for an enrolled
    student, nothing (None) for anyone else."""
    if can_manage_halaka(viewer, teacher_id):
        return "all"
    if viewer.role == Role.student and enrolled:
        return "own"
    return None
