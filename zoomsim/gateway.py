"""What happens to every ``/v2`` and ``/oauth`` request around the endpoint itself.

Order: request log entry -> outage (503) -> latency -> bearer token (401 code 124, ``/v2``
only) -> per-second limit (429) -> queued one-shot fault -> random ``error_rate`` and
``timeout_rate`` (``/v2`` only) -> endpoint -> ``commit_then_fail`` -> log, stats, tracking id.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request

from zoomsim.errors import ZoomError, invalid_token
from zoomsim.faults import Fault
from zoomsim.ratelimit import http_date
from zoomsim.state import SandboxState

log = logging.getLogger("zoomsim")

OPERATION_BY_ENDPOINT = {
    "api.oauth_token": "token",
    "api.create_meeting": "create",
    "api.list_meetings": "list",
    "api.get_meeting": "get",
    "api.update_meeting": "update",
    "api.delete_meeting": "delete",
    "api.user_token": "zak",
}
CATEGORY_BY_OPERATION = {
    "create": "light",
    "get": "light",
    "update": "light",
    "delete": "light",
    "zak": "light",
    "list": "medium",
}
QPS_MESSAGE = "You have exceeded the rate limit for this API. Please try again later."


def state() -> SandboxState:
    return current_app.extensions["zoomsim"]


def _gated(path: str) -> bool:
    return path.startswith("/v2/") or path == "/v2" or path.startswith("/oauth/")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return ZoomError(status, status, message, headers=headers).response()


def drop_connection() -> Response:
    """Close the client's socket so it sees a connection error instead of a response.

    The returned response is never delivered: werkzeug's write fails and it treats the request
    as a dropped connection.
    """
    g.dropped = True
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(status=500)


def _qps_429(retry_after: str, value: float) -> Response:
    headers = {"X-RateLimit-Category": g.category or "light", "X-RateLimit-Type": "QPS"}
    if retry_after == "seconds":
        headers["Retry-After"] = str(int(value) if float(value).is_integer() else value)
    elif retry_after == "http-date":
        headers["Retry-After"] = http_date(datetime.now(UTC) + timedelta(seconds=value))
    return error_response(429, QPS_MESSAGE, headers)


def _apply_fault(fault: Fault) -> Response | None:
    g.fault = fault.kind
    with state().lock:
        state().faults_injected += 1
    if fault.kind == "429":
        return _qps_429(fault.retry_after, fault.value)
    if fault.kind == "error":
        g.fault = f"error:{fault.status}"
        messages = {500: "Internal server error", 502: "Bad gateway", 503: "Service unavailable"}
        return error_response(fault.status, messages[fault.status])
    if fault.kind == "hang":
        time.sleep(fault.seconds)
        return drop_connection()
    if fault.kind == "hold":
        time.sleep(fault.seconds)
        return None
    if fault.kind == "malformed":
        return json_ok({}, 201 if g.operation == "create" else 200)
    g.fault = f"commit_then_fail:{fault.mode}"
    g.commit_then_fail = fault.mode
    return None


def _authorized() -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and bool(token) and state().token_valid(token.strip())


def before_request() -> Response | None:
    if not _gated(request.path):
        return None
    st = state()
    g.started = time.monotonic()
    g.operation = OPERATION_BY_ENDPOINT.get(request.endpoint or "", "unknown")
    g.category = CATEGORY_BY_OPERATION.get(g.operation)
    g.fault = None
    g.host = None
    g.dropped = False
    g.commit_then_fail = None
    body: Any = (
        request.form.to_dict() if g.operation == "token" else request.get_json(force=True, silent=True)
    )
    g.entry = st.start_log(
        {
            "ts": time.time(),
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(),
            "operation": g.operation,
            "category": g.category,
            "host": None,
            "json": body,
            "status": None,
            "fault": None,
        }
    )
    with st.lock:
        if g.operation == "token":
            st.token_requests += 1
        elif g.category is not None:
            st.requests[g.category] += 1
        config = st.config.to_json()
    if config["outage"]:
        g.fault = "outage"
        return error_response(503, "Service unavailable")
    if config["latency_ms"]:
        time.sleep(config["latency_ms"] / 1000)
    is_api = g.operation != "token"
    if is_api and not _authorized():
        return invalid_token().response()
    if g.category is not None:
        with st.lock:
            admitted = st.limiter.admit(g.category, config["rate_limits"][g.category], time.time())
            if not admitted:
                st.rate_limit_violations += 1
        if not admitted:
            g.fault = "rate_limit"
            return _qps_429("seconds", 1)
    with st.lock:
        fault = st.faults.take(g.operation)
    if fault is not None:
        response = _apply_fault(fault)
        if response is not None:
            return response
    if is_api and st.chance(config["error_rate"]):
        g.fault = "error_rate"
        return error_response(500, "Internal server error")
    if is_api and st.chance(config["timeout_rate"]):
        g.fault = "timeout_rate"
        time.sleep(config["hang_seconds"])
        return drop_connection()
    return None


def after_request(response: Response) -> Response:
    gated = _gated(request.path) and "entry" in g
    if gated and g.commit_then_fail and response.status_code < 400:
        response = (
            drop_connection()
            if g.commit_then_fail == "drop"
            else error_response(500, "Internal server error")
        )
    response.headers["x-zm-trackingid"] = f"v=2.0;clid=sandbox;rid=SBX_{secrets.token_hex(16)}"
    if not gated:
        return response
    status = None if g.dropped else response.status_code
    st = state()
    with st.lock:
        g.entry.update(status=status, fault=g.fault, host=g.host)
        st.responses["dropped" if status is None else str(status)] += 1
    if st.settings.log_requests:
        elapsed = (time.monotonic() - g.started) * 1000
        log.info(
            "%s %s %s %s %.0fms%s",
            request.method,
            request.path,
            "dropped" if status is None else status,
            g.category or g.operation,
            elapsed,
            f" fault={g.fault}" if g.fault else "",
        )
    return response


def install(app: Flask) -> None:
    app.before_request(before_request)
    app.after_request(after_request)


def json_ok(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
