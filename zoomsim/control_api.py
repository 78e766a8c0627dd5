"""``/_sandbox``: configure, inject faults, and observe. No auth; JSON in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, Response, jsonify, request

from zoomsim.config import user_id_for
from zoomsim.errors import ZoomError
from zoomsim.faults import parse_fault
from zoomsim.gateway import json_ok, state
from zoomsim.meetings import User
from zoomsim.validation import parse_timezone

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
