"""The Zoom endpoints: S2S OAuth token, ZAK, meetings create/get/update/delete/list."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, g, request

from zoomsim.errors import ZoomError, may_not_host, meeting_not_found, user_not_found, validation_error
from zoomsim.gateway import json_ok, state
from zoomsim.meetings import (
    StoredMeeting,
    User,
    apply_patch,
    delete_occurrence,
    list_item,
    new_meeting,
    occurrence_view,
    start_url,
    utc_now,
)
from zoomsim.ratelimit import http_date, next_utc_midnight
from zoomsim.validation import parse_flag, parse_meeting_body
from zoomsim.webhooks import emit_deleted, emit_patched

bp = Blueprint("api", __name__)

SCOPES = "meeting:read:admin meeting:write:admin user:read:admin user:write:admin user_zak:read:admin"
MAX_PAGE_SIZE = 300
LIST_TYPES = ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings")
DAILY_MESSAGE = "You have reached the maximum daily rate limit for this API. Please try again tomorrow."


def _oauth_error(status: int, error: str, reason: str) -> Response:
    return json_ok({"reason": reason, "error": error}, status)


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@bp.post("/oauth/token")
def oauth_token() -> Response:
    st = state()
    params = {**request.args.to_dict(), **request.form.to_dict()}
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return _oauth_error(401, "invalid_client", "Client ID or client secret is missing")
    if not (_same(auth.username, st.settings.client_id) and _same(auth.password, st.settings.client_secret)):
        return _oauth_error(401, "invalid_client", "Invalid client_id or client_secret")
    if params.get("grant_type") != "account_credentials":
        return _oauth_error(400, "unsupported_grant_type", "unsupported grant type")
    if not _same(params.get("account_id"), st.settings.account_id):
        return _oauth_error(400, "invalid_request", "Invalid account_id")
    token = st.issue_token()
    return json_ok(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": st.config["token_ttl"],
            "scope": SCOPES,
            "api_url": request.host_url.rstrip("/"),
        }
    )


def _user(user_id: str) -> User:
    user = state().find_user(user_id)
    if user is None:
        raise user_not_found(user_id)
    g.host = user.email
    return user


def _meeting(meeting_id: str) -> StoredMeeting:
    meeting = state().meetings.get(int(meeting_id)) if meeting_id.isdigit() else None
    if meeting is None:
        raise meeting_not_found(meeting_id)
    host = state().users.get(meeting.host_user_id)
    g.host = host.email if host else meeting.data["host_email"]
    return meeting


@contextmanager
def _daily_slot(host_id: str) -> Iterator[None]:
    """Reserve one of the host's daily create/update slots; give it back if the call fails."""
    st = state()
    now = utc_now()
    if not st.daily.acquire(host_id, now, st.config["daily_limit"]):
        st.daily_limit_hits += 1
        g.fault = "daily_limit"
        raise ZoomError(
            429,
            429,
            DAILY_MESSAGE,
            headers={
                "Retry-After": http_date(next_utc_midnight(now)),
                "X-RateLimit-Category": "light",
                "X-RateLimit-Type": "Daily-limit",
            },
        )
    try:
        yield
    except BaseException:
        st.daily.release(host_id, now)
        raise


def _body() -> Any:
    return request.get_json(force=True, silent=True)


@bp.post("/v2/users/<user_id>/meetings")
def create_meeting(user_id: str) -> Response:
    st = state()
    with st.lock:
        user = _user(user_id)
        with _daily_slot(user.id):
            if not user.can_host:
                raise may_not_host()
            fields = parse_meeting_body(_body(), creating=True)
            meeting = new_meeting(fields, user, st.new_meeting_id(), utc_now(), st.issue_start_token())
            st.meetings[meeting.id] = meeting
        return json_ok(meeting.public(), 201)


@bp.get("/v2/meetings/<meeting_id>")
def get_meeting(meeting_id: str) -> Response:
    st = state()
    with st.lock:
        meeting = _meeting(meeting_id)
        token = meeting.data["start_url"].rsplit("zak=", 1)[-1]
        if st.start_token_expires_in(token) <= 0:  # expired: GET hands out a fresh link, as Zoom does
            meeting.data["start_url"] = start_url(meeting.id, st.issue_start_token())
        occurrence_id = request.args.get("occurrence_id")
        if occurrence_id:
            return json_ok(occurrence_view(meeting, occurrence_id))
        return json_ok(meeting.public())


@bp.patch("/v2/meetings/<meeting_id>")
def update_meeting(meeting_id: str) -> Response:
    st = state()
    with st.lock:
        meeting = _meeting(meeting_id)
        occurrence_id = request.args.get("occurrence_id")
        with _daily_slot(meeting.host_user_id):
            host = st.users.get(meeting.host_user_id)
            if host is not None and not host.can_host:
                raise may_not_host()
            old = apply_patch(meeting, _body(), occurrence_id, utc_now())
        emit_patched(st, meeting, old, occurrence_id, meeting.data["host_email"])
    return Response(status=204)


@bp.delete("/v2/meetings/<meeting_id>")
def delete_meeting(meeting_id: str) -> Response:
    st = state()
    with st.lock:
        meeting = _meeting(meeting_id)
        occurrence_id = request.args.get("occurrence_id")
        host_email = parse_flag(request.args.get("schedule_for_reminder"), "schedule_for_reminder")
        registrant_email = parse_flag(request.args.get("cancel_meeting_reminder"), "cancel_meeting_reminder")
        if occurrence_id:
            delete_occurrence(meeting, occurrence_id)
        else:
            del st.meetings[meeting.id]
        # The e-mails Zoom would send: the host's unless `schedule_for_reminder=false` (the spec names no
        # default; Zoom's behaviour is to notify), registrants' only with `cancel_meeting_reminder=true`.
        st.cancellation_emails["host"] += host_email is not False
        st.cancellation_emails["registrants"] += registrant_email is True
        emit_deleted(st, meeting, meeting.data["host_email"], occurrence_id)
    return Response(status=204)


def _page_size() -> int:
    raw = request.args.get("page_size", "30")
    if not raw.isdigit() or int(raw) < 1:
        raise validation_error("Invalid parameter: page_size.", "page_size")
    return min(int(raw), MAX_PAGE_SIZE)


@bp.get("/v2/users/<user_id>/meetings")
def list_meetings(user_id: str) -> Response:
    st = state()
    with st.lock:
        user = _user(user_id)
        list_type = request.args.get("type", "scheduled")
        if list_type not in LIST_TYPES:
            raise validation_error("Invalid parameter: type.", "type")
        page_size = _page_size()
        offset = 0
        token = request.args.get("next_page_token")
        if token:
            owner, offset = st.page_tokens.get(token, ("", -1))
            if owner != user.id:
                raise validation_error("Invalid parameter: next_page_token.", "next_page_token")
        # The spec's list item allows types 1, 2, 3 and 8 only, so screen-share meetings (10) are left out.
        mine = [m for m in st.meetings.values() if m.host_user_id == user.id and m.data["type"] != 10]
        if list_type in ("live", "previous_meetings"):
            mine = []
        page = mine[offset : offset + page_size]
        next_token = ""
        if offset + page_size < len(mine):
            next_token = secrets.token_urlsafe(24)
            st.page_tokens[next_token] = (user.id, offset + page_size)
        return json_ok(
            {
                "next_page_token": next_token,
                "page_size": page_size,
                "total_records": len(mine),
                "meetings": [list_item(m) for m in page],
            }
        )


@bp.get("/v2/users/<user_id>/token")
def user_token(user_id: str) -> Response:
    st = state()
    with st.lock:
        _user(user_id)
        token_type = request.args.get("type")
        if token_type != "zak":
            st.zak_wrong_type += 1
            g.fault = f"zak_type:{token_type}"
    return json_ok({"token": secrets.token_urlsafe(48)})
