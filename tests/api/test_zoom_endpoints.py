"""POST /zoom/signature (docs/api.md) and the signature column of the trust table, over HTTP.

Halakat and their `zoom_meetings` rows are written straight into the database (no worker, no Zoom):
the signature path never calls Zoom, it only looks the meeting number up.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import timedelta

import jwt as pyjwt
import pytest

from shared.db import session_scope
from shared.models import Halaka, ZoomMeeting, ZoomStatus
from shared.settings import get_settings
from tests.factories import make_halaka, meeting_numbers
from tests.signature_claims import signature_claims

SIGNATURE = "/api/v1/zoom/signature"
REQUIRED = {"status": "error", "message": "meetingNumber and role are required"}
UNKNOWN_MEETING = "99999999999"


def sdk() -> tuple[str, str]:
    settings = get_settings()
    return settings.zoom_sdk_key, settings.zoom_sdk_secret.get_secret_value()


def sign(client, account, meeting_number, role=0, **extra):
    return client.post(
        SIGNATURE, json={"meetingNumber": meeting_number, "role": role, **extra}, headers=account.headers
    )


def decode(token: str) -> tuple[dict, dict]:
    _key, secret = sdk()
    header = pyjwt.get_unverified_header(token)
    claims = pyjwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": True})
    return header, claims


@pytest.fixture
def owner_meeting(client, make_user):
    """A teacher and one meeting of their halaka."""
    teacher = make_user("teacher", zoom_user_id="owner@zoom.test")
    [number] = meeting_numbers()
    make_halaka(teacher.id, meeting_ids=(number,), host=None)  # hosted by the teacher's Zoom user
    return teacher, str(number)


# --- the signature itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expiration", "webrtc"),
    [
        ({}, 7200, None),
        ({"expirationSeconds": 1800}, 1800, None),
        ({"expirationSeconds": 172800, "videoWebRtcMode": 1}, 172800, 1),
        ({"videoWebRtcMode": 0}, 7200, 0),
        ({"videoWebRtcMode": "1"}, 7200, 1),
    ],
    ids=["default", "min-expiry", "max-expiry-webrtc", "webrtc-0", "webrtc-string"],
)
@pytest.mark.parametrize("role", [0, 1])
def test_signature_header_and_every_claim(client, owner_meeting, role, extra, expiration, webrtc):
    teacher, number = owner_meeting
    before = int(time.time())
    r = sign(client, teacher, number, role, **extra)
    after = int(time.time())
    assert r.status_code == 201, r.json
    assert r.json["status"] == "created"
    assert r.json["message"] == "Zoom signature generated successfully"
    assert set(r.json) == {"status", "message", "data"}
    assert set(r.json["data"]) == {"signature", "sdkKey", "customerKey"}
    assert r.headers["Cache-Control"] == "no-store"
    key, _secret = sdk()
    assert r.json["data"]["sdkKey"] == key

    header, claims = decode(r.json["data"]["signature"])
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert before - 30 <= claims["iat"] <= after - 30
    assert claims == signature_claims(key, number, role, claims["iat"], expiration, webrtc)
    assert isinstance(claims["mn"], str) and type(claims["role"]) is int


def test_signature_does_not_verify_with_another_secret(client, owner_meeting):
    teacher, number = owner_meeting
    token = sign(client, teacher, number).json["data"]["signature"]
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, "some-other-secret-of-decent-length", algorithms=["HS256"])


@pytest.mark.parametrize(
    ("meeting", "role"),
    [("as-int", 0), ("as-string", "0"), ("as-string", "1"), ("spaced", 1)],
)
def test_number_and_string_inputs_are_normalised(client, owner_meeting, meeting, role):
    teacher, number = owner_meeting
    value = {"as-int": int(number), "as-string": number, "spaced": f" {number[:3]} {number[3:]} "}[meeting]
    r = sign(client, teacher, value, role)
    assert r.status_code == 201, r.json
    _header, claims = decode(r.json["data"]["signature"])
    assert claims["mn"] == number
    assert claims["role"] == int(role) and isinstance(claims["role"], int)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"role": 0},
        {"meetingNumber": "74382934944"},
        {"meetingNumber": None, "role": 0},
        {"meetingNumber": "", "role": 0},
        {"meetingNumber": "74382934944", "role": None},
    ],
    ids=["empty", "no-meeting", "no-role", "null-meeting", "blank-meeting", "null-role"],
)
def test_missing_meeting_number_or_role_is_the_seed_400(client, make_user, body):
    student = make_user("student")
    r = client.post(SIGNATURE, json=body, headers=student.headers)
    assert r.status_code == 400
    assert {k: r.json[k] for k in ("status", "message")} == REQUIRED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"meetingNumber": "abc"}, "meetingNumber"),
        ({"meetingNumber": "12345"}, "meetingNumber"),
        ({"meetingNumber": "-74382934944"}, "meetingNumber"),
        ({"meetingNumber": 7.5}, "meetingNumber"),
        ({"meetingNumber": True}, "meetingNumber"),
        ({"meetingNumber": ["74382934944"]}, "meetingNumber"),
        ({"role": 2}, "role"),
        ({"role": -1}, "role"),
        ({"role": "host"}, "role"),
        ({"role": True}, "role"),
        ({"role": 0.5}, "role"),
        ({"expirationSeconds": 1799}, "expirationSeconds"),
        ({"expirationSeconds": 172801}, "expirationSeconds"),
        ({"expirationSeconds": "soon"}, "expirationSeconds"),
        ({"videoWebRtcMode": 2}, "videoWebRtcMode"),
        ({"videoWebRtcMode": True}, "videoWebRtcMode"),
    ],
)
def test_invalid_values_400_naming_the_field(client, owner_meeting, change, field):
    teacher, number = owner_meeting
    body = {"meetingNumber": number, "role": 0, **change}
    r = client.post(SIGNATURE, json=body, headers=teacher.headers)
    assert r.status_code == 400, r.json
    assert r.json["status"] == "error"
    assert field in r.json["message"]
    assert [e["field"] for e in r.json["errors"]] == [field]


@pytest.mark.parametrize("body", [[], "74382934944", 5])
def test_body_that_is_not_an_object_is_400(client, make_user, body):
    student = make_user("student")
    r = client.post(SIGNATURE, json=body, headers=student.headers)
    assert r.status_code == 400 and r.json["status"] == "error"


def test_signature_requires_a_token(client, owner_meeting):
    _teacher, number = owner_meeting
    r = client.post(SIGNATURE, json={"meetingNumber": number, "role": 0})
    assert r.status_code == 401 and r.json["status"] == "error"
    r = client.post(
        SIGNATURE, json={"meetingNumber": number, "role": 0}, headers={"Authorization": "Bearer x.y.z"}
    )
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        (("zoom_sdk_key",), ["ZOOM_SDK_KEY"]),
        (("zoom_sdk_secret",), ["ZOOM_SDK_SECRET"]),
        (("zoom_sdk_key", "zoom_sdk_secret"), ["ZOOM_SDK_KEY", "ZOOM_SDK_SECRET"]),
    ],
)
def test_missing_sdk_credentials_500_naming_the_setting(client, owner_meeting, monkeypatch, unset, named):
    teacher, number = owner_meeting
    _key, secret = sdk()
    for name in unset:
        monkeypatch.setattr(get_settings(), name, None)
    r = sign(client, teacher, number)
    assert r.status_code == 500
    assert r.json["status"] == "error"
    for name in named:
        assert name in r.json["message"]
    assert secret not in r.get_data(as_text=True)


# --- who may sign (README, Trust model), table-driven over HTTP ---------------------------------------


@dataclass
class World:
    accounts: dict
    meetings: dict


@pytest.fixture
def world(client, make_user) -> World:
    """`teacher` owns halaka A (two segments; `student` is enrolled), `other-teacher` owns B (nobody
    enrolled); C belongs to `teacher` but is being deleted; `unknown` is no halaka's meeting."""
    accounts = {
        "student": make_user("student"),
        "teacher": make_user("teacher", zoom_user_id="teacher-a@zoom.test"),
        "other-teacher": make_user("teacher", zoom_user_id="teacher-b@zoom.test"),
        "shared-teacher": make_user("teacher"),  # no linked Zoom user: hosted by the shared host
        "admin": make_user("admin"),
    }
    a, [b], [c], [shared] = meeting_numbers(2), meeting_numbers(), meeting_numbers(), meeting_numbers()
    # each hosted by its teacher's own Zoom user (the shared teacher has none: the shared host)
    a_id = make_halaka(accounts["teacher"].id, meeting_ids=a, host=None)
    make_halaka(accounts["other-teacher"].id, meeting_ids=(b,), host=None)
    c_id = make_halaka(accounts["teacher"].id, meeting_ids=(c,), host=None)
    make_halaka(accounts["shared-teacher"].id, meeting_ids=(shared,), host=None)
    for halaka_id in (a_id, c_id):
        r = client.post(f"/api/v1/halaka/{halaka_id}/enroll", headers=accounts["student"].headers)
        assert r.status_code == 200, r.json
    with session_scope() as session:
        session.get(Halaka, c_id).zoom_status = ZoomStatus.deleting.value
    meetings = {
        "A": str(a[0]),
        "A-second-segment": str(a[1]),
        "B": str(b),
        "C-deleting": str(c),
        "S-shared-host": str(shared),
        "unknown": UNKNOWN_MEETING,
        "out-of-range": "9" * 20,
    }
    return World(accounts, meetings)


OK, FORBIDDEN, NOT_FOUND = 201, 403, 404
# (who, meeting, role) -> status. From each caller's side A/B are: student enrolled/foreign,
# teacher own/foreign, other-teacher foreign/own, admin any/any.
MATRIX = [
    ("student", "A", 0, OK),  # enrolled
    ("student", "A-second-segment", 0, OK),
    ("student", "A", 1, FORBIDDEN),
    ("student", "A-second-segment", 1, FORBIDDEN),
    ("student", "B", 0, FORBIDDEN),  # foreign
    ("student", "B", 1, FORBIDDEN),
    ("student", "unknown", 0, NOT_FOUND),
    ("student", "unknown", 1, NOT_FOUND),
    ("shared-teacher", "S-shared-host", 0, OK),  # own, but the host is shared: no host rights
    ("shared-teacher", "S-shared-host", 1, FORBIDDEN),
    ("admin", "S-shared-host", 1, OK),
    ("teacher", "A", 0, OK),  # own
    ("teacher", "A", 1, OK),
    ("teacher", "A-second-segment", 1, OK),
    ("teacher", "B", 0, FORBIDDEN),  # foreign
    ("teacher", "B", 1, FORBIDDEN),
    ("teacher", "unknown", 0, NOT_FOUND),
    ("teacher", "unknown", 1, NOT_FOUND),
    ("other-teacher", "A", 0, FORBIDDEN),  # foreign
    ("other-teacher", "A", 1, FORBIDDEN),
    ("other-teacher", "A-second-segment", 0, FORBIDDEN),
    ("other-teacher", "B", 0, OK),  # own
    ("other-teacher", "B", 1, OK),
    ("other-teacher", "unknown", 0, NOT_FOUND),
    ("other-teacher", "unknown", 1, NOT_FOUND),
    ("admin", "A", 0, OK),  # any platform meeting
    ("admin", "A", 1, OK),
    ("admin", "A-second-segment", 1, OK),
    ("admin", "B", 0, OK),
    ("admin", "B", 1, OK),
    ("admin", "unknown", 0, NOT_FOUND),
    ("admin", "unknown", 1, NOT_FOUND),
    # a halaka on its way out no longer has platform meetings
    ("student", "C-deleting", 0, NOT_FOUND),
    ("teacher", "C-deleting", 1, NOT_FOUND),
    ("admin", "C-deleting", 1, NOT_FOUND),
    # 20 digits is a valid shape but beyond any stored id: not found, never a database error
    ("admin", "out-of-range", 0, NOT_FOUND),
    ("student", "out-of-range", 1, NOT_FOUND),
]


@pytest.mark.parametrize(("who", "meeting", "role", "expected"), MATRIX)
def test_who_may_sign(client, world, who, meeting, role, expected):
    number = world.meetings[meeting]
    r = sign(client, world.accounts[who], number, role)
    assert r.status_code == expected, r.json
    if expected == OK:
        _header, claims = decode(r.json["data"]["signature"])
        assert (claims["mn"], claims["role"]) == (number, role)
    else:
        assert r.json["status"] == "error" and "signature" not in r.get_data(as_text=True)


def test_matrix_covers_every_caller_role_and_meeting_kind():
    cells = {(who, meeting, role) for who, meeting, role, _ in MATRIX}
    for who in ("student", "teacher", "other-teacher", "admin"):
        for meeting in ("A", "B", "unknown"):
            for role in (0, 1):
                assert (who, meeting, role) in cells


def test_unenrolled_student_loses_access_at_once(client, world):
    student = world.accounts["student"]
    assert sign(client, student, world.meetings["A"]).status_code == OK
    with session_scope() as session:
        halaka_id = (
            session.query(ZoomMeeting.halaka_id).filter_by(meeting_id=int(world.meetings["A"])).scalar()
        )
    assert client.delete(f"/api/v1/halaka/{halaka_id}/enroll", headers=student.headers).status_code == 200
    assert sign(client, student, world.meetings["A"]).status_code == FORBIDDEN


def test_role_change_and_deactivation_apply_to_signatures_at_once(client, world):
    admin, teacher = world.accounts["admin"], world.accounts["teacher"]
    assert sign(client, teacher, world.meetings["A"], 1).status_code == OK
    r = client.patch(f"/api/v1/users/{teacher.id}", json={"role": "student"}, headers=admin.headers)
    assert r.status_code == 200
    assert sign(client, teacher, world.meetings["A"], 1).status_code == FORBIDDEN
    r = client.patch(f"/api/v1/users/{teacher.id}", json={"active": False}, headers=admin.headers)
    assert r.status_code == 200
    assert sign(client, teacher, world.meetings["A"], 0).status_code == 401


def test_logout_revokes_signature_access_at_once(client, world):
    student = world.accounts["student"]
    assert sign(client, student, world.meetings["A"]).status_code == OK
    assert client.post("/api/v1/auth/logout", json={}, headers=student.headers).status_code == 200
    r = sign(client, student, world.meetings["A"])
    assert r.status_code == 401 and r.json["message"] == "Token has been revoked"


# --- the signature's token checks answer exactly as every other endpoint's -------------------------


def _token_variants(app, world) -> dict[str, dict[str, str]]:
    from tests.api.test_auth import _bad_tokens

    student = world.accounts["student"]
    headers = {
        kind: {"Authorization": f"Bearer {token}"} for kind, token in _bad_tokens(app, student).items()
    }
    headers.update(
        {
            "refresh-token": {"Authorization": f"Bearer {student.refresh_token}"},
            "no-header": {},
            "empty-header": {"Authorization": ""},
            "other-scheme": {"Authorization": f"Token {student.token}"},
            "lowercase-scheme": {"Authorization": f"bearer {student.token}"},
            "scheme-only": {"Authorization": "Bearer"},
            "two-tokens": {"Authorization": f"Bearer {student.token} {student.token}"},
            "double-space": {"Authorization": f"Bearer  {student.token}"},
            "listed": {"Authorization": f"Basic abc, Bearer {student.token}"},
        }
    )
    return headers


BAD_TOKEN_KINDS = [
    "expired",
    "tampered",
    "wrong-signature",
    "alg-none",
    "hs512",
    "garbage",
    "refresh-token",
    "no-header",
    "empty-header",
    "other-scheme",
    "lowercase-scheme",
    "scheme-only",
    "two-tokens",
    "double-space",
    "listed",
]


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
def test_token_forms_answer_as_auth_me_does(app, client, world, kind):
    """Same status and message as `GET /auth/me` (flask-jwt-extended's own checks) for each form."""
    headers = _token_variants(app, world)[kind]
    body = {"meetingNumber": world.meetings["A"], "role": 0}
    reference = client.get("/api/v1/auth/me", headers=headers)
    r = client.post(SIGNATURE, json=body, headers=headers)
    if kind in ("double-space", "listed"):  # unusual but valid forms: accepted everywhere
        assert (reference.status_code, r.status_code) == (200, OK)
    else:
        assert (r.status_code, r.json["message"]) == (reference.status_code, reference.json["message"])
        assert r.status_code == 401 and r.json["status"] == "error"


def test_usual_tokens_take_the_single_decode_path(client, world, monkeypatch):
    import api.auth_context as auth_context

    def full_path():
        raise AssertionError("a well-formed valid token should not need flask-jwt-extended's full path")

    monkeypatch.setattr(auth_context, "verify_jwt_in_request", full_path)
    assert sign(client, world.accounts["student"], world.meetings["A"]).status_code == OK


def test_a_token_is_decoded_once_and_still_expires(app, client, world, monkeypatch):
    """The single-decode path remembers a verified token; a remembered token that has since expired
    answers exactly as an unseen expired one does."""
    from flask_jwt_extended import create_access_token

    import api.auth_context as auth_context
    from api.auth_context import login_claims

    student = world.accounts["student"]
    with app.app_context():
        token = create_access_token(
            identity=str(student.id),
            expires_delta=timedelta(seconds=2),
            additional_claims=login_claims("student"),
        )
    account = dataclasses.replace(student, token=token)
    decodes = []
    original = auth_context.decode_token
    monkeypatch.setattr(auth_context, "decode_token", lambda *a, **k: decodes.append(1) or original(*a, **k))
    for _ in range(3):
        assert sign(client, account, world.meetings["A"]).status_code == OK
    assert len(decodes) == 1
    time.sleep(2.1)
    r = sign(client, account, world.meetings["A"])
    assert r.status_code == 401 and r.json["message"] == "Token has expired"


def test_a_remembered_token_is_still_checked_for_revocation_and_its_user(client, world):
    student = world.accounts["student"]
    assert sign(client, student, world.meetings["A"]).status_code == OK
    with session_scope() as session:
        from shared.models import User

        session.get(User, student.id).active = False
    r = sign(client, student, world.meetings["A"])
    assert r.status_code == 401 and r.json["message"] == "User not found or inactive"


@pytest.mark.parametrize(
    "loader, refusing",
    [
        ("token_verification_loader", lambda header, data: False),
        ("decode_key_loader", lambda header, data: "another-key-" + "k" * 40),
    ],
)
def test_custom_jwt_loaders_switch_the_remembered_decode_off(client, world, monkeypatch, loader, refusing):
    """Were a claims-verification or a decode-key loader ever registered (through the library's public
    decorators), the remembered decode (which cannot run the one and may outlive the other's key) must
    step aside and let flask-jwt-extended run it on every request. Fails too if the library renames
    the decorators the app's `JWT` manager watches."""
    from flask_jwt_extended import default_callbacks

    from api.extensions import jwt

    student = world.accounts["student"]
    assert sign(client, student, world.meetings["A"]).status_code == OK  # now remembered
    monkeypatch.setattr(jwt, "custom_verification", False)  # put back after the test
    try:
        getattr(jwt, loader)(refusing)
        r = sign(client, student, world.meetings["A"])
        assert r.status_code == 401 and r.json["message"] == "Invalid token"
    finally:
        jwt.token_verification_loader(default_callbacks.default_token_verification_callback)
        jwt.decode_key_loader(default_callbacks.default_decode_key_callback)


def test_token_of_a_deleted_user_is_401(client, world):
    student = world.accounts["student"]
    from shared.models import Enrollment, User

    with session_scope() as session:
        session.query(Enrollment).filter_by(student_id=student.id).delete()
        session.delete(session.get(User, student.id))
    r = sign(client, student, world.meetings["A"])
    assert r.status_code == 401
    assert r.json == {"status": "error", "message": "User not found or inactive"}


# --- the signature path is cheap ----------------------------------------------------------------


@pytest.fixture
def statements(monkeypatch):
    """Every SQL statement this process sends to PostgreSQL (the ORM's and the raw reads alike)."""
    import psycopg

    seen: list[str] = []
    original = psycopg.Cursor.execute

    def execute(self, query, *args, **kwargs):
        seen.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    return seen


def test_signature_is_one_query_and_no_zoom_call(client, world, statements, monkeypatch):
    import shared.zoom.client as zoom_client
    import shared.zoom.http as zoom_http

    def no_zoom(*_args, **_kwargs):
        raise AssertionError("the signature path must not call Zoom")

    monkeypatch.setattr(zoom_http, "process_session", no_zoom)
    monkeypatch.setattr(zoom_client, "get_zoom_client", no_zoom)
    for who, meeting, role, expected in [
        ("student", "A", 0, OK),
        ("teacher", "B", 1, FORBIDDEN),
        ("admin", "unknown", 0, NOT_FOUND),
    ]:
        statements.clear()
        assert sign(client, world.accounts[who], world.meetings[meeting], role).status_code == expected
        assert len(statements) == 1, statements
        assert "FROM users LEFT OUTER JOIN" in statements[0]


def test_meeting_lookup_uses_only_indexes(world):
    """Every step of the lookup's plan is an index scan (sequential scans are disabled: on tables this
    small the planner would prefer them, and the point is that an index exists for every step)."""
    import psycopg

    from api.blueprints.zoom import MEETING_ACCESS_SQL, meeting_access_params

    params = meeting_access_params(int(world.meetings["A"]), world.accounts["student"].id, "some-login")
    with psycopg.connect(get_settings().database_url, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + MEETING_ACCESS_SQL, params))
    assert "Seq Scan" not in plan, plan
    assert plan.count("Index") >= 4, plan
