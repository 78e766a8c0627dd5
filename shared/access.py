"""Who may do what (DESIGN.md 4.2): the one place that decides, as pure functions.

Inputs are plain facts (the viewer's id and role, the halaka's teacher, whether the viewer is
enrolled), so every cell of the table is tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN, TEACHER, STUDENT = "admin", "teacher", "student"


@dataclass(frozen=True)
class Viewer:
    id: int
    role: str
    zoom_user_id: str | None = None


@dataclass(frozen=True)
class MeetingVisibility:
    """Which secret-bearing meeting fields a viewer may see."""

    join: bool  # password and joinUrl
    start: bool  # startUrl (carries a host token)


def owns(viewer: Viewer, teacher_id: int) -> bool:
    return viewer.role == TEACHER and viewer.id == teacher_id


def can_create_halaka(viewer: Viewer) -> bool:
    return viewer.role in (TEACHER, ADMIN)


def can_manage_halaka(viewer: Viewer, teacher_id: int) -> bool:
    """Update, delete and retry provisioning: the halaka's own teacher, or an admin."""
    return viewer.role == ADMIN or owns(viewer, teacher_id)


def can_enroll(viewer: Viewer) -> bool:
    return viewer.role == STUDENT


def meeting_visibility(viewer: Viewer, teacher_id: int, enrolled: bool) -> MeetingVisibility:
    if can_manage_halaka(viewer, teacher_id):
        return MeetingVisibility(join=True, start=True)
    if viewer.role == STUDENT and enrolled:
        return MeetingVisibility(join=True, start=False)
    return MeetingVisibility(join=False, start=False)


def can_sign(viewer: Viewer, teacher_id: int, enrolled: bool, role: int) -> bool:
    """Meeting SDK signature: role 1 (host) for the owner or an admin; role 0 also for enrolled students."""
    if can_manage_halaka(viewer, teacher_id):
        return True
    return role == 0 and viewer.role == STUDENT and enrolled


def can_fetch_zak(viewer: Viewer, zoom_user_id: str) -> bool:
    """ZAK: an admin for any user; a teacher only for the Zoom user an admin linked to them."""
    if viewer.role == ADMIN:
        return True
    linked = (viewer.zoom_user_id or "").strip().lower()
    return viewer.role == TEACHER and bool(linked) and linked == zoom_user_id.strip().lower()
