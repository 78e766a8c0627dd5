"""The second reference of the signature benchmark: the endpoint's work written directly, without the
project's framework layers.

A minimal Flask view that does what `POST /api/v1/zoom/signature` does, and nothing else: one PyJWT
decode of the bearer token, the endpoint's own single statement (`MEETING_ACCESS_SQL`: caller,
revocation and meeting) through a plain autocommit psycopg connection per thread,
the same revocation and access rules (`token_revoked`, `can_sign`) and the same signing
(`meeting_sdk_signature`). What the endpoint adds on top (flask-openapi3 validation, flask-jwt-extended,
the envelope helpers, logging and metrics hooks) is what the ratio against this view measures. Served
like the API (`API_APP=bench.reference_signer:app python -m stack.entry api`).
"""

from __future__ import annotations

import os
import threading

import jwt
import psycopg
from flask import Flask, jsonify, request

from api.auth_context import AUTH_TIME_CLAIM, LOGIN_CLAIM, token_revoked
from api.blueprints.zoom import MEETING_ACCESS_SQL, meeting_access_params
from shared.access import Viewer, can_sign
from shared.settings import get_settings
from shared.zoom.signature import meeting_sdk_signature

SDK_KEY = os.environ.get("ZOOM_SDK_KEY", "bench-sdk-key")
SDK_SECRET = os.environ.get("ZOOM_SDK_SECRET", "bench-sdk-secret-" + "y" * 32)
JWT_SECRET = os.environ.get("JWT_SECRET_KEY", "")

app = Flask(__name__)
_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = _local.connection = psycopg.connect(get_settings().database_url, autocommit=True)
    return connection


def _error(status: int, message: str):
    return jsonify(status="error", message=message), status


@app.post("/api/v1/zoom/signature")
def signature():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _error(401, "Missing or malformed Authorization header")
    try:
        claims = jwt.decode(header[7:], JWT_SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        return _error(401, "Invalid token")
    body = request.get_json()
    meeting, role = int(body["meetingNumber"]), int(body["role"])
    user_id = int(claims["sub"])
    params = meeting_access_params(meeting, user_id, str(claims.get(LOGIN_CLAIM, "")))
    row = _connection().execute(MEETING_ACCESS_SQL, params).fetchone()
    if row is None or not row[0]:
        return _error(401, "User not found or inactive")
    _active, valid_after, login_revoked, user_role, approved, zoom_user, teacher_id, host, enrolled = row
    if token_revoked(claims.get(AUTH_TIME_CLAIM), valid_after, login_revoked):
        return _error(401, "Token has been revoked")
    if teacher_id is None:
        return _error(404, "No halaka on this platform has this meeting number")
    viewer = Viewer(user_id, user_role, zoom_user, approved)
    if not can_sign(viewer, teacher_id, bool(enrolled), role, host):
        return _error(403, "You may not join this meeting with this role")
    token = meeting_sdk_signature(
        sdk_key=SDK_KEY,
        sdk_secret=SDK_SECRET,
        meeting_number=str(meeting),
        role=role,
        expiration_seconds=int(body.get("expirationSeconds", 7200)),
    )
    return jsonify(
        status="created",
        message="Zoom signature generated successfully",
        data={"signature": token, "sdkKey": SDK_KEY},
    ), 201
