"""``/_sandbox``: configure, inject faults, and observe. No auth; JSON in and out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, Response, jsonify, request

from zoomsim.config import user_id_for
from zoomsim.errors import ZoomError
from zoomsim.faults import parse_fault
from zoomsim.gateway import json_ok, state
from zoomsim.meetings import StoredMeeting, User, apply_patch, delete_occurrence, occurrence_view, utc_now
from zoomsim.validation import parse_timezone
from zoomsim.webhooks import Person, emit_deleted, emit_patched, simulate

MAX_SIMULATED_STRETCHES = 500

bp = Blueprint("control", __name__, url_prefix="/_sandbox")


def _bad(message: str) -> Response:
    return json_ok({"error": message}, 400)


def _json() -> Any:
    return request.get_json(force=True, silent=True)


@bp.get("/health")
def health() -> Response:
    return jsonify({"status": "ok"})


@bp.post("/reset")
def reset() -> Response:
    state().reset()
    return jsonify({"reset": True})


@bp.get("/config")
def get_config() -> Response:
    with state().lock:
        return jsonify(state().config.to_json())


@bp.put("/config")
def put_config() -> Response:
    try:
        state().update_config(_json())
    except ValueError as exc:
        return _bad(str(exc))
    return get_config()


@bp.get("/faults")
def list_faults() -> Response:
    with state().lock:
        return jsonify(state().faults.pending())


@bp.post("/faults")
def add_faults() -> Response:
    """Accepts one fault object or a list of them; all or nothing."""
    st = state()
    raw = _json()
    items = raw if isinstance(raw, list) else [raw]
    try:
        with st.lock:
            faults = [parse_fault(item, st.config["hang_seconds"]) for item in items]
    except ValueError as exc:
        return _bad(str(exc))
    with st.lock:
        for fault in faults:
            st.faults.add(fault)
        return jsonify({"queued": [f.to_json() for f in faults], "pending": st.faults.pending()})


@bp.delete("/faults")
def clear_faults() -> Response:
    with state().lock:
        state().faults.clear()
    return jsonify({"pending": []})


@bp.post("/tokens/revoke")
def revoke_tokens() -> Response:
    return jsonify({"revoked": state().revoke_tokens()})


@bp.get("/users")
def list_users() -> Response:
    with state().lock:
        return jsonify([u.to_json() for u in state().users.values()])


@bp.post("/users")
def add_user() -> Response:
    raw = _json()
    if not isinstance(raw, dict) or not isinstance(raw.get("email"), str) or "@" not in raw["email"]:
        return _bad("a user needs an email")
    email = raw["email"]
    user_id = raw.get("id") or user_id_for(email)
    can_host = raw.get("can_host", True)
    timezone = raw.get("timezone", "UTC")
    if not isinstance(user_id, str) or not isinstance(can_host, bool):
        return _bad("id must be a string and can_host a boolean")
    try:
        parse_timezone(timezone)
    except ZoomError:
        return _bad(f"unknown timezone: {timezone}")
    user = User(id=user_id, email=email, can_host=can_host, timezone=timezone)
    state().add_user(user)
    return json_ok(user.to_json(), 201)


@bp.delete("/users/<user_id>")
def remove_user(user_id: str) -> Response:
    if not state().remove_user(user_id):
        return json_ok({"error": f"no such user: {user_id}"}, 404)
    return Response(status=204)


@bp.get("/requests")
def requests_log() -> Response:
    since = request.args.get("since", "0")
    if not since.isdigit():
        return _bad("since must be a non-negative integer")
    return jsonify(state().requests_since(int(since)))


@bp.delete("/requests")
def clear_requests() -> Response:
    with state().lock:
        state().log.clear()
    return Response(status=204)


@bp.get("/start-url")
def check_start_url() -> Response:
    """``?url=<start_url>`` → ``{"valid", "expires_in"}``: what Zoom would do with that start link."""
    query = parse_qs(urlsplit(request.args.get("url", "")).query)
    left = state().start_token_expires_in((query.get("zak") or [""])[0])
    return jsonify({"valid": left > 0, "expires_in": round(left)})


@bp.get("/stats")
def stats() -> Response:
    return jsonify(state().stats())


@bp.get("/meetings")
def meetings() -> Response:
    st = state()
    with st.lock:
        out = []
        for meeting in st.meetings.values():
            host = st.users.get(meeting.host_user_id)
            out.append({**meeting.public(), "host_user": host.email if host else meeting.data["host_email"]})
    return jsonify(out)


# --- Zoom's web portal and live classes, standing in for what people do outside the API ---


def _stored(meeting_id: str) -> StoredMeeting | None:
    return state().meetings.get(int(meeting_id)) if meeting_id.isdigit() else None


def _operator(raw: Any, meeting: StoredMeeting) -> str:
    operator = raw.get("operator") if isinstance(raw, dict) else None
    return operator if isinstance(operator, str) and operator else meeting.data["host_email"]


@bp.patch("/meetings/<meeting_id>")
def portal_update(meeting_id: str) -> Response:
    """Edit a meeting (or `?occurrence_id=` one occurrence) as its host would in Zoom's web portal (no
    daily limit); sends meeting.updated."""
    st = state()
    raw = _json()
    occurrence_id = request.args.get("occurrence_id")
    with st.lock:
        meeting = _stored(meeting_id)
        if meeting is None:
            return json_ok({"error": f"no such meeting: {meeting_id}"}, 404)
        body = {k: v for k, v in raw.items() if k != "operator"} if isinstance(raw, dict) else raw
        try:
            old = apply_patch(meeting, body, occurrence_id, utc_now())
        except ZoomError as exc:
            return _bad(exc.message)
        emit_patched(st, meeting, old, occurrence_id, _operator(raw, meeting))
        return json_ok(occurrence_view(meeting, occurrence_id) if occurrence_id else meeting.public())


@bp.delete("/meetings/<meeting_id>")
def portal_delete(meeting_id: str) -> Response:
    """Delete a meeting (or `?occurrence_id=` one occurrence) as in Zoom's portal; sends meeting.deleted."""
    st = state()
    occurrence_id = request.args.get("occurrence_id")
    with st.lock:
        meeting = _stored(meeting_id)
        if meeting is None:
            return json_ok({"error": f"no such meeting: {meeting_id}"}, 404)
        if occurrence_id:
            try:
                delete_occurrence(meeting, occurrence_id)
            except ZoomError as exc:
                return _bad(exc.message)
        else:
            del st.meetings[meeting.id]
        emit_deleted(st, meeting, _operator(request.args, meeting), occurrence_id)
    return Response(status=204)


def _number(raw: dict, key: str, default: float) -> float:
    """The field in minutes, `default` when absent or null (a null leave was a 500 before)."""
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 24 * 60:
        raise ValueError(f"{key} must be a number of minutes between 0 and 1440")
    return float(value)


def _text(raw: dict, key: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or len(value) > 320:
        raise ValueError(f"{key} must be a string")
    return value


def _next_start(meeting: StoredMeeting) -> datetime:
    starts = [o["start_time"] for o in meeting.data.get("occurrences", []) if o["status"] == "available"]
    value = starts[0] if starts else meeting.data.get("start_time") or utc_now().isoformat()
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _class_plan(raw: Any, meeting: StoredMeeting) -> tuple[datetime, datetime, list[dict]]:
    if not isinstance(raw, dict):
        raise ValueError("the body must be a JSON object")
    start = _next_start(meeting)
    if raw.get("start_time") is not None:
        if not isinstance(raw["start_time"], str):
            raise ValueError("start_time must be an ISO date-time")
        start = datetime.fromisoformat(raw["start_time"].replace("Z", "+00:00"))
        start = start if start.utcoffset() is not None else start.replace(tzinfo=UTC)
    length = _number(raw, "duration", meeting.data["duration"])
    end = start + timedelta(minutes=length or 0)
    items = raw.get("participants", [])
    if not isinstance(items, list) or len(items) > MAX_SIMULATED_STRETCHES:
        raise ValueError(f"participants must be a list of at most {MAX_SIMULATED_STRETCHES}")
    people: dict[tuple[str, str, str], Person] = {}
    plan = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("each participant is an object")
        name, email, key = _text(item, "name") or "Guest", _text(item, "email"), _text(item, "customer_key")
        person = people.setdefault((name, email, key), Person(name, email, key))
        join = _number(item, "join", 0.0)
        leave = _number(item, "leave", length)
        if leave < join:
            raise ValueError("leave must not come before join")
        plan.append(
            {
                "person": person,
                "join": start + timedelta(minutes=join),
                "leave": start + timedelta(minutes=leave),
            }
        )
    return start, end, plan


@bp.post("/meetings/<meeting_id>/simulate")
def simulate_class(meeting_id: str) -> Response:
    """Play a class: meeting.started, each participant's joins and leaves in time order, meeting.ended.

    Body: `{"start_time"?: ISO (default: the next available occurrence), "duration"?: minutes (default:
    the meeting's), "participants": [{"name", "email"?, "customer_key"?, "join"?: minutes after the
    start (0), "leave"?: minutes (the end)}]}`; one item per stretch, so a rejoin is a second item."""
    st = state()
    with st.lock:
        meeting = _stored(meeting_id)
        if meeting is None:
            return json_ok({"error": f"no such meeting: {meeting_id}"}, 404)
        try:
            start, end, plan = _class_plan(_json(), meeting)
        except ValueError as exc:
            return _bad(str(exc))
        uuid, events = simulate(meeting, st.settings.account_id, start, end, plan)
    sent = [st.send_webhook(event) for event in events]
    if not all(sent):
        return _bad("configure webhook_url and webhook_secret first (PUT /_sandbox/config)")
    return json_ok({"uuid": uuid, "events": [e["event"] for e in events]}, 201)


@bp.get("/webhooks")
def webhook_log() -> Response:
    """Every delivery attempt: event, attempt number, the status answered (null: no answer), the body."""
    return jsonify({"pending": state().webhooks.pending(), "deliveries": state().webhooks.entries()})
