"""Calendar feeds (issue 11): `GET /api/v1/calendar/{token}.ics` (the secret URL, no JWT), the token
behind it (`GET`/`POST /api/v1/calendar/token`), and `GET /api/v1/halaka/{id}/calendar.ics` (JWT).

Which halakat a feed holds is `shared.access.in_calendar`; their sessions are
`shared.sessions.halaka_sessions` over `calendar_feed.feed_window`; the join link follows
`meeting_visibility`; rendering and conditional requests are `shared.calendar_feed`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import redis
from flask import Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth_context import auth_required, me
from api.blueprints import API_PREFIX, BEARER, api_blueprint
from api.db_session import db
from api.errors import ApiError
from api.extensions import app_settings, limiter
from api.responses import no_store, ok
from api.schemas.calendar import CalendarTokenEnvelope, CalendarTokenOut, FeedPath, FeedQuery
from api.schemas.common import IdPath, responses, validated
from shared import calendar_feed, feed_token
from shared.access import Viewer, in_calendar, meeting_visibility
from shared.models import CalendarToken, Enrollment, Halaka, Role, User, ZoomStatus
from shared.redis_client import get_redis
from shared.sessions import halaka_sessions

log = logging.getLogger(__name__)
FEED_PREFIX = f"{API_PREFIX}/calendar"
SEEN_PREFIX = "calendar-feed-seen:"
SEEN_SECONDS = 40 * 86400  # longer than any calendar client waits between two polls
ICS = "text/calendar; charset=utf-8"
ICS_RESPONSE = {
    "description": "The feed (RFC 5545), with `ETag` and `Last-Modified`",
    "content": {"text/calendar": {"schema": {"type": "string"}}},
}
NOT_MODIFIED = {"description": "Not modified since the `If-None-Match` / `If-Modified-Since` given"}

bp = api_blueprint("calendar", __name__, "/calendar", secured=False)  # the feed itself needs no token
halaka_bp = api_blueprint("halaka_calendar", __name__, "/halaka", tag="calendar")


def _feed_limit() -> str:
    return app_settings().calendar_feed_rate_limit


def _viewer(user: User) -> Viewer:
    return Viewer(user.id, user.role, user.zoom_user_id, user.approved)


# --- the token ------------------------------------------------------------------------------------


def _token_out(row: CalendarToken) -> CalendarTokenOut:
    token = feed_token.token_for(row.seed)
    lookup = feed_token.lookup_digest(token)
    if row.lookup != lookup:  # the server key changed (JWT_SECRET_KEY rotated): the shown URL must work
        row.lookup = lookup
    path = f"{FEED_PREFIX}/{token}.ics"
    return CalendarTokenOut(
        token=token, path=path, url=request.host_url.rstrip("/") + path, created_at=row.created_at
    )


@bp.get("/token", responses=responses({200: CalendarTokenEnvelope}, 401), security=BEARER)
@auth_required()
def get_token():
    """The caller's secret feed URL (made on first use). Whoever has it reads the caller's feed."""
    s = db()
    out = _token_out(feed_token.token_row(s, me().id))
    s.commit()
    return no_store(ok("Calendar token fetched successfully", out))


@bp.post("/token", responses=responses({200: CalendarTokenEnvelope}, 401), security=BEARER)
@auth_required()
def replace_token():
    """A new secret feed URL; the old one answers 404 from now on."""
    s = db()
    row = feed_token.token_row(s, me().id)
    row.seed = feed_token.new_seed()
    row.created_at = datetime.now(UTC)
    out = _token_out(row)
    s.commit()
    log.info("calendar token replaced", extra={"user_id": row.user_id})
    return no_store(ok("Calendar token replaced: the old feed URL no longer works", out))


# --- the feed -------------------------------------------------------------------------------------


def _candidates(s: Session, user: User, asked: list[int] | None) -> list[tuple[Halaka, bool]]:
    """(halaka, enrolled) that may belong in the user's feed, by id, at most MAX_HALAKAT; the access
    rule (`in_calendar`) has the last word."""
    if user.role == Role.admin and not asked:
        return []
    stmt = select(Halaka, Enrollment.student_id.is_not(None)).outerjoin(
        Enrollment, (Enrollment.halaka_id == Halaka.id) & (Enrollment.student_id == user.id)
    )
    if user.role == Role.teacher:
        stmt = stmt.where(Halaka.teacher_id == user.id)
    elif user.role != Role.admin:
        stmt = stmt.where(Enrollment.student_id.is_not(None))
    if asked is not None:
        stmt = stmt.where(Halaka.id.in_(asked))
    stmt = stmt.where(Halaka.zoom_status != ZoomStatus.deleting).order_by(Halaka.id)
    viewer = _viewer(user)
    rows = s.execute(stmt.limit(calendar_feed.MAX_HALAKAT)).tuples().all()
    return [
        (h, enrolled)
        for h, enrolled in rows
        if in_calendar(viewer, h.teacher_id, enrolled, asked=asked is not None)
    ]


def _links(halaka: Halaka) -> dict[int, calendar_feed.JoinLink]:
    """Join links of every Zoom meeting of the halaka: its segments and standalone session meetings
    (`Halaka.meetings`, loaded with the halaka)."""
    return {m.meeting_id: calendar_feed.JoinLink(m.join_url, m.password) for m in halaka.meetings}


def _feed_halakat(
    s: Session, viewer: Viewer, halakat: list[tuple[Halaka, bool]], now: datetime
) -> list[calendar_feed.FeedHalaka]:
    since, until = calendar_feed.feed_window(now)
    out: list[calendar_feed.FeedHalaka] = []
    left = calendar_feed.MAX_EVENTS
    for halaka, enrolled in halakat:
        if left <= 0:
            break
        sessions = halaka_sessions(s, halaka, since=since, until=until, limit=left)
        left -= len(sessions)
        join = meeting_visibility(viewer, halaka.teacher_id, enrolled, halaka.zoom_host).join
        out.append(
            calendar_feed.FeedHalaka(
                id=halaka.id,
                title=halaka.title,
                description=halaka.description or "",
                timezone=halaka.schedule.timezone,
                revised_at=halaka.updated_at,
                sessions=sessions,
                show_join=join,
                links=_links(halaka) if join else {},
            )
        )
    return out


def _first_seen(tag: str, now: datetime) -> datetime:
    """When this exact feed body was first served: its `Last-Modified`. Kept in Redis by ETag, so a feed
    that lost a halaka (an unenrollment leaves no timestamp behind) still gets a newer date. Without
    Redis: now (a client then reloads, never keeps a stale feed)."""
    key = SEEN_PREFIX + tag.strip('"')
    try:
        client = get_redis()
        client.set(key, now.isoformat(), nx=True, ex=SEEN_SECONDS)
        seen = client.get(key)
    except redis.RedisError:
        return now
    try:
        return datetime.fromisoformat(seen.decode() if isinstance(seen, bytes) else str(seen))
    except ValueError:
        return now


def _ics(name: str, halakat: list[calendar_feed.FeedHalaka], now: datetime) -> Response:
    body = calendar_feed.render(name, halakat, calendar_feed.feed_window(now))
    tag = calendar_feed.etag(body)
    modified = _first_seen(tag, now)
    headers = {
        "ETag": tag,
        "Last-Modified": calendar_feed.http_date(modified),
        "Cache-Control": "private, no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    }
    if calendar_feed.not_modified(
        request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"), tag, modified
    ):
        return Response(status=304, headers=headers)
    return Response(body, status=200, headers=headers, content_type=ICS)


def _not_found() -> ApiError:
    return ApiError(404, "Calendar feed not found")


@bp.get("/<token>.ics", responses={**responses({}, 404, 429), 200: ICS_RESPONSE, 304: NOT_MODIFIED})
@limiter.limit(_feed_limit)
@validated
def feed(path: FeedPath, query: FeedQuery):
    """The feed of a secret URL (no JWT): every session, 30 days back to a year ahead, of the halakat
    its user teaches (approved teachers) or is enrolled in (students); an admin's holds the halakat
    asked for with `halakaId`. Unknown, replaced or deactivated → 404."""
    s = db()
    user = s.scalar(
        select(User)
        .join(CalendarToken, CalendarToken.user_id == User.id)
        .where(CalendarToken.lookup == feed_token.lookup_digest(path.token))
    )
    if user is None or not user.active:
        raise _not_found()
    now = datetime.now(UTC)
    halakat = _feed_halakat(s, _viewer(user), _candidates(s, user, query.halaka_id), now)
    return _ics(f"Halakat of {user.name}", halakat, now)


@halaka_bp.get(
    "/<int:id>/calendar.ics", responses={**responses({}, 401, 404), 200: ICS_RESPONSE, 304: NOT_MODIFIED}
)
@auth_required()
@validated
def halaka_feed(path: IdPath):
    """One halaka's sessions as a calendar, for the signed-in user: its teacher, an enrolled student, an
    admin; 404 for anyone else (as if it did not exist)."""
    s = db()
    user = me()
    halaka = s.get(Halaka, path.id)
    enrolled = halaka is not None and s.get(Enrollment, (halaka.id, user.id)) is not None
    viewer = _viewer(user)
    if (
        halaka is None
        or halaka.zoom_status == ZoomStatus.deleting
        or not in_calendar(viewer, halaka.teacher_id, enrolled, asked=True)
    ):
        raise ApiError(404, "Halaka not found")
    now = datetime.now(UTC)
    return _ics(halaka.title, _feed_halakat(s, viewer, [(halaka, enrolled)], now), now)


__all__ = ["bp", "halaka_bp"]
