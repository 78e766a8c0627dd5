"""Halaka → response body, with the visibility rules of shared.access applied."""

from __future__ import annotations

from datetime import UTC, datetime

from api import start_links
from api.schemas.halaka import HalakaOut, MeetingOut, ScheduleOut, TeacherOut
from api.start_links import StartLink
from shared.access import MeetingVisibility, Viewer, meeting_visibility
from shared.models import Halaka, ZoomMeeting


def current_meeting(meetings: list[ZoomMeeting], now: datetime | None = None) -> ZoomMeeting | None:
    """The meeting holding the next upcoming session: a segment, or the standalone meeting of a restored
    or extra session that comes first (the last segment once all are past)."""
    now = now or datetime.now(UTC)
    upcoming = [m for m in meetings if m.last_start >= now]
    if upcoming:
        return min(upcoming, key=lambda m: (max(m.first_start, now), m.standalone))
    segments = [m for m in meetings if not m.standalone] or meetings
    return segments[-1] if segments else None


def meeting_out(
    meeting: ZoomMeeting, visibility: MeetingVisibility, start_link: StartLink | None = None
) -> MeetingOut:
    out = MeetingOut(
        meeting_id=str(meeting.meeting_id),
        segment=meeting.segment_index,
        first_session=meeting.first_start,
        last_session=meeting.last_start,
        occurrences=meeting.occurrence_count,
    )
    if visibility.join:
        out.password = meeting.password
        out.join_url = meeting.join_url
    if visibility.start and start_link is not None:
        out.start_url = start_link.url
    return out


def halaka_out(halaka: Halaka, viewer: Viewer, enrolled: bool, *, with_start_link: bool = False) -> dict:
    """The halaka as `viewer` may see it. `with_start_link` (the single-halaka view): the meeting's own
    host and admins get `zoomMeeting.startUrl`, younger than Zoom's two-hour expiry (api.start_links);
    other answers (lists, writes) carry none — `POST /halaka/{id}/start` always gives a fresh one."""
    visibility = meeting_visibility(viewer, halaka.teacher_id, enrolled, halaka.zoom_host)
    # the segments in order, then the standalone meetings of restored and extra sessions
    meetings = halaka.segments + [m for m in halaka.meetings if m.standalone][::-1]
    current = current_meeting(meetings)
    link = (
        start_links.recent(current.meeting_id) if current and visibility.start and with_start_link else None
    )
    out = HalakaOut(
        id=halaka.id,
        title=halaka.title,
        description=halaka.description,
        teacher=TeacherOut(id=halaka.teacher.id, name=halaka.teacher.name),
        schedule=ScheduleOut.of(halaka.schedule),
        zoom_status=halaka.zoom_status,
        zoom_meeting=meeting_out(current, visibility, link) if current else None,
        zoom_meetings=[meeting_out(m, visibility) for m in meetings],
        enrolled=enrolled,
        created_at=halaka.created_at,
        updated_at=halaka.updated_at,
        # zoomError may name the host's Zoom e-mail: only for the halaka's teacher and admins
        **({"zoom_error": halaka.zoom_error} if visibility.error else {}),
    )
    return out.model_dump(by_alias=True, mode="json", exclude_none=False, exclude_unset=True)
