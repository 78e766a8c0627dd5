"""Hostile input: every answer is a clear 4xx envelope or a correct success, never a 5xx or a stack trace.

Covered: a 10 MB body (413), also sent chunked without Content-Length; JSON nested 10 000 levels deep
(the standard parser raises RecursionError, which used to escape as a 500); wrong, missing and lying
content types; invalid UTF-8; RTL Arabic, emoji, bidi controls, NUL, escaped lone surrogates and SQL
metacharacters in every string field of register, login, halaka create/patch, users patch, signature and
ZAK (what is accepted must come back byte-for-byte, and the tables must still be there); huge and
negative page numbers and sizes; negative, zero, huge and non-integer ids in paths; absurd numbers
(1e999, NaN, 5000-digit integers); oversized and garbage Authorization headers.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.db import session_scope
from shared.models import User
from tests.integration.helpers import schedule
from tests.security.world import TEACHER_ZOOM_USER, build_world

TEN_MB = 10 * 1024 * 1024

HOSTILE_TEXT = {
    "arabic-rtl": "حلقة تجويد للمبتدئين — الدرس الأول",
    "emoji": "🕌📖✨ halaka 👩🏽‍🏫",
    "bidi-controls": "\u202eevil\u202c\u200f\u2066x\u2069",
    "zero-width": "a\u200b\u200c\u200d\ufeffb",
    "sql-quote": "'; DROP TABLE users; --",
    "sql-or": '" OR 1=1 -- ',
    "sql-like": "%_\\%' UNION SELECT password_hash FROM users --",
    "nul": "a\x00b",
    "lone-surrogate": "x\ud800y",
    "lone-low-surrogate": "\udfff",
    "control-chars": "\x01\x02\x1b[31mred\x7f",
    "long": "ق" * 5000,
}
SCHEDULE = schedule(start_in=5, length_days=35)
REJECTED_TEXT = {"nul", "lone-surrogate", "lone-low-surrogate"}  # never storable: must be a 400


def send(client, method: str, path: str, body: Any = None, headers: dict | None = None, **kwargs):
    """Raw JSON (json.dumps escapes lone surrogates as \\udXXX, as a hostile client would send them)."""
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return client.open(path, method=method, headers=headers or {}, **kwargs)


def assert_clean(response, *allowed: int) -> None:
    """A 4xx error envelope (or one of `allowed`), never a 5xx, never a stack trace."""
    text = response.get_data(as_text=True)
    assert response.status_code < 500, f"{response.status_code}: {text[:300]}"
    if allowed:
        assert response.status_code in allowed, f"{response.status_code}: {text[:300]}"
    assert response.is_json, f"not JSON: {text[:200]!r}"
    body = response.json
    assert isinstance(body, dict) and isinstance(body.get("message"), str), body
    assert body["status"] == ("error" if response.status_code >= 400 else body["status"])
    if response.status_code >= 400:
        assert body["status"] == "error" and set(body) <= {"status", "message", "errors"}, body
    for marker in ("Traceback", 'File "/', "sqlalchemy", "psycopg"):
        assert marker not in text, f"internals leaked: {text[:300]}"


@pytest.fixture
def world(app):
    return build_world(app)


# --- size, nesting, content type ------------------------------------------------------------------------

BODY_ENDPOINTS = [
    ("POST", "/api/v1/auth/register", False),
    ("POST", "/api/v1/auth/login", False),
    ("POST", "/api/v1/halaka/", True),
    ("PATCH", "/api/v1/halaka/{own}", True),
    ("PATCH", "/api/v1/users/{student}", True),
    ("POST", "/api/v1/zoom/signature", True),
    ("POST", "/api/v1/zoom/zak-token", True),
]


def _path(template: str, world) -> str:
    return template.format(own=world.own, student=world.student.id)


@pytest.mark.parametrize(("method", "path", "auth"), BODY_ENDPOINTS, ids=[p for _, p, _ in BODY_ENDPOINTS])
def test_ten_megabyte_body_is_413(client, world, method, path, auth):
    headers = world.admin.headers if auth else {}
    body = b'{"title": "' + b"x" * TEN_MB + b'"}'
    r = client.open(
        _path(path, world), method=method, data=body, content_type="application/json", headers=headers
    )
    assert_clean(r, 413)
    assert r.json == {"status": "error", "message": "Request body too large"}


def test_ten_megabyte_chunked_body_without_length_is_413(client):
    body = b'{"name": "' + b"x" * TEN_MB + b'"}'
    r = client.post(
        "/api/v1/auth/register",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_base={"wsgi.input_terminated": True},
    )
    assert_clean(r, 413)


@pytest.mark.parametrize(
    "document",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"title": ' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"email": "x@example.com", "password": ' + '{"p":' * 10_000 + "0" + "}" * 10_000 + "}",
    ],
    ids=["arrays", "objects", "nested-in-field", "nested-password"],
)
@pytest.mark.parametrize(("method", "path", "auth"), BODY_ENDPOINTS, ids=[p for _, p, _ in BODY_ENDPOINTS])
def test_deeply_nested_json_is_400(client, world, method, path, auth, document):
    headers = world.admin.headers if auth else {}
    r = client.open(
        _path(path, world), method=method, data=document, content_type="application/json", headers=headers
    )
    assert_clean(r, 400)


def test_moderately_nested_json_in_a_field_is_a_validation_error(client, world):
    document = '{"title": ' + "[" * 500 + "]" * 500 + "}"
    r = client.patch(
        f"/api/v1/halaka/{world.own}",
        data=document,
        content_type="application/json",
        headers=world.admin.headers,
    )
    assert_clean(r, 400)
    assert r.json["errors"][0]["field"] == "title"


@pytest.mark.parametrize(
    ("content_type", "data", "expected"),
    [
        ("text/plain", '{"email": "a@b.c", "password": "x"}', 415),
        ("application/x-www-form-urlencoded", "email=a%40b.c&password=x", 415),
        (
            "multipart/form-data; boundary=xx",
            '--xx\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xx--',
            415,
        ),
        ("application/xml", "<login><email>a@b.c</email></login>", 415),
        ("application/octet-stream", b"\x00\x01\x02\xff", 415),
        (None, '{"email": "a@b.c", "password": "x"}', 415),
        ("application/json", "<html>not json</html>", 400),
        ("application/json", b'{"email": "\xff\xfe", "password": "x"}', 400),
        ("application/json", b"\xef\xbb\xbf{}", 400),
        ("application/json", "null", 400),
        ("application/json", '"a string"', 400),
        ("application/json", "[1, 2, 3]", 400),
        ("application/json", '{"email": "a@b.c", "password": "x"', 400),
        ("application/json; charset=utf-16", '{"email": "a@b.c", "password": "x"}', (400, 401)),
        ("application/vnd.api+json", '{"email": "a@b.c", "password": "x"}', 401),
    ],
    ids=[
        "text-plain",
        "form",
        "multipart",
        "xml",
        "octet-stream",
        "no-content-type",
        "html-as-json",
        "invalid-utf8",
        "bom-empty-object",
        "null",
        "string",
        "array",
        "truncated",
        "charset-lie",
        "vendor-json",
    ],
)
def test_wrong_content_types(client, content_type, data, expected):
    kwargs = {"data": data}
    if content_type:
        kwargs["content_type"] = content_type
    r = client.post("/api/v1/auth/login", **kwargs)
    assert_clean(r, *(expected if isinstance(expected, tuple) else (expected,)))


def test_json_with_numbers_no_parser_should_take_seriously(client, world):
    for literal in ("1e999", "-1e999", "NaN", "Infinity", "9" * 5000, "1.5", "true", '"12"', "-1", "0"):
        r = client.post(
            "/api/v1/halaka/",
            data=f'{{"title": "t", "teacherId": {literal}, "schedule": {json.dumps(SCHEDULE)}}}',
            content_type="application/json",
            headers=world.admin.headers,
        )
        assert_clean(r, 400, 201)  # "12" is coerced to 12 (no such teacher: 400); the rest are invalid


# --- unicode and SQL metacharacters in every string field -----------------------------------------------


def _register_body(**change: Any) -> dict:
    body = {
        "name": "Amina",
        "email": f"u{uuid.uuid4().hex[:10]}@example.com",
        "password": "s3cret-pass",
        "role": "student",
    }
    return {**body, **change}


def _set(body: dict, dotted: str, value: Any) -> dict:
    out = json.loads(json.dumps(body))
    node = out
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return out


# (endpoint, method, path template, string fields, base body, who)
STRING_FIELDS = [
    ("register", "POST", "/api/v1/auth/register", ["name", "email", "password", "role"], None),
    ("login", "POST", "/api/v1/auth/login", ["email", "password"], None),
    (
        "halaka-create",
        "POST",
        "/api/v1/halaka/",
        [
            "title",
            "description",
            "schedule.frequency",
            "schedule.days.0",
            "schedule.startTime",
            "schedule.startDate",
            "schedule.endDate",
            "schedule.timezone",
        ],
        "teacher",
    ),
    (
        "halaka-patch",
        "PATCH",
        "/api/v1/halaka/{own}",
        ["title", "description", "schedule.frequency", "schedule.startTime", "schedule.timezone"],
        "teacher",
    ),
    ("users-patch", "PATCH", "/api/v1/users/{student}", ["name", "zoomUserId", "role"], "admin"),
    ("signature", "POST", "/api/v1/zoom/signature", ["meetingNumber", "role"], "admin"),
    ("zak", "POST", "/api/v1/zoom/zak-token", ["userId"], "admin"),
]
STORED_FIELDS = {
    "register": {"name"},
    "halaka-create": {"title", "description"},
    "halaka-patch": {"title", "description"},
    "users-patch": {"name", "zoomUserId"},
}


def _base_body(endpoint: str, world) -> dict:
    return {
        "register": _register_body(),
        "login": {"email": world.student.email, "password": "correct horse battery"},
        "halaka-create": {
            "title": "Tajweed",
            "description": "",
            "schedule": SCHEDULE,
        },
        "halaka-patch": {
            "title": "Tajweed",
            "description": "",
            "schedule": SCHEDULE,
        },
        "users-patch": {"name": "Renamed", "zoomUserId": TEACHER_ZOOM_USER},
        "signature": {"meetingNumber": str(world.meetings[world.own]), "role": 0},
        "zak": {"userId": TEACHER_ZOOM_USER},
    }[endpoint]


@pytest.mark.parametrize("value_name", list(HOSTILE_TEXT))
@pytest.mark.parametrize(
    ("endpoint", "method", "path", "fields", "who"), STRING_FIELDS, ids=[s[0] for s in STRING_FIELDS]
)
def test_hostile_text_in_every_string_field(
    client, app, zoom_configured, endpoint, method, path, fields, who, value_name
):
    world = build_world(app)
    value = HOSTILE_TEXT[value_name]
    headers = {"admin": world.admin.headers, "teacher": world.teacher.headers}.get(who, {})
    for field in fields:
        body = _set(_base_body(endpoint, world), field, value)
        r = send(client, method, _path(path, world), body, headers)
        assert_clean(r)
        if value_name in REJECTED_TEXT:
            assert r.status_code == 400, (field, r.json)
            continue
        if r.status_code < 300 and field in STORED_FIELDS.get(endpoint, set()):
            stored = r.json["data"][field]
            assert stored in (value, value.strip()), (field, stored)  # byte-for-byte (some fields stripped)
    with session_scope() as s:  # the tables are still there and nobody was dropped
        assert s.scalar(select(func.count()).select_from(User)) >= 5


@pytest.mark.parametrize("value_name", [n for n in HOSTILE_TEXT if n not in REJECTED_TEXT])
def test_hostile_text_in_query_filters(client, world, value_name):
    value = HOSTILE_TEXT[value_name][:300]
    for path, params in [
        ("/api/v1/users/", {"email": value}),
        ("/api/v1/users/", {"role": value}),
        ("/api/v1/halaka/", {"zoomStatus": value}),
        ("/api/v1/halaka/", {"mine": value}),
    ]:
        assert_clean(client.get(path, query_string=params, headers=world.admin.headers))


def test_nul_in_query_filter_is_400(client, world):
    r = client.get(
        "/api/v1/users/", query_string={"email": "a\x00b@example.com"}, headers=world.admin.headers
    )
    assert_clean(r, 400)


# --- pagination, ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=100001",
        "page=999999999999999999999999",
        "page=" + "9" * 5000,
        "page=1e3",
        "page=abc",
        "page=",
        "perPage=0",
        "perPage=-5",
        "perPage=101",
        "perPage=1000000",
        "perPage=99999999999999999999",
        "perPage=1.5",
        "page=1&page=2&perPage=3&perPage=4",
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/halaka/", "/api/v1/users/"])
def test_page_numbers_and_sizes(client, world, path, query):
    r = client.get(f"{path}?{query}", headers=world.admin.headers)
    assert_clean(r, 400, 200)
    if query.startswith("page=1&page=2"):
        assert r.status_code == 200


def test_last_allowed_page_is_an_empty_success(client, world):
    for path in ("/api/v1/halaka/", "/api/v1/users/"):
        r = client.get(f"{path}?page=100000&perPage=100", headers=world.admin.headers)
        assert_clean(r, 200)
        assert r.json["data"]["items"] == []


@pytest.mark.parametrize("limit", ["0", "-1", "501", "99999999999999999999", "x"])
def test_session_limit_out_of_range(client, world, limit):
    r = client.get(f"/api/v1/halaka/{world.own}/sessions?limit={limit}", headers=world.admin.headers)
    assert_clean(r, 400)


BAD_IDS = [
    ("-1", 404),  # the route only matches digits
    ("0", 400),
    ("2147483648", 400),  # beyond PostgreSQL integer
    ("99999999999999999999999", 400),
    ("9" * 5000, (404, 405)),  # werkzeug cannot int() it and falls through to other rules: 404 or 405
    ("abc", 404),
    ("1.5", 404),
    ("1e3", 404),
    ("%00", 404),
    ("1%20OR%201=1", 404),
    ("1;DROP%20TABLE%20halakat", 404),
    ("%D9%A9" * 7, 404),  # Arabic-Indic digits: Python reads them as 9999999, an id that does not exist
]
ID_ROUTES = [
    ("GET", "/api/v1/halaka/{}"),
    ("PATCH", "/api/v1/halaka/{}"),
    ("DELETE", "/api/v1/halaka/{}"),
    ("GET", "/api/v1/halaka/{}/sessions"),
    ("POST", "/api/v1/halaka/{}/enroll"),
    ("DELETE", "/api/v1/halaka/{}/enroll"),
    ("POST", "/api/v1/halaka/{}/zoom/retry"),
    ("POST", "/api/v1/halaka/{}/start"),
    ("PATCH", "/api/v1/users/{}"),
]


# Ids the `<int:id>` converter routes to the view, and of those the ones that also pass validation, so
# that only the lookup answers them (Python reads Arabic-Indic digits as an int).
ROUTED_IDS = {"0", "2147483648", "99999999999999999999999", "%D9%A9" * 7}
LOOKED_UP_IDS = {"%D9%A9" * 7}
# Roles a route's decorator refuses before it validates or looks up the id (403 for every routed id) …
ROLE_FIRST = {
    ("PATCH", "/api/v1/halaka/{}"): {"student"},
    ("DELETE", "/api/v1/halaka/{}"): {"student"},
    ("POST", "/api/v1/halaka/{}/zoom/retry"): {"student"},
    ("POST", "/api/v1/halaka/{}/start"): {"student"},
    ("PATCH", "/api/v1/users/{}"): {"student", "teacher"},
}
# … and roles a view refuses after validating the id but before looking it up.
ROLE_IN_VIEW = {
    ("POST", "/api/v1/halaka/{}/enroll"): {"admin", "teacher"},
    ("DELETE", "/api/v1/halaka/{}/enroll"): {"admin", "teacher"},
}


@pytest.mark.parametrize(("method", "template"), ID_ROUTES, ids=[f"{m} {t}" for m, t in ID_ROUTES])
def test_bad_ids_in_paths(client, app, method, template):
    world = build_world(app)
    for raw, expected in BAD_IDS:
        for who in (world.admin, world.student):
            body = {"title": "x"} if method == "PATCH" else None
            r = send(client, method, template.format(raw), body, who.headers)
            assert_clean(r)
            refused = (who.role in ROLE_FIRST.get((method, template), ()) and raw in ROUTED_IDS) or (
                who.role in ROLE_IN_VIEW.get((method, template), ()) and raw in LOOKED_UP_IDS
            )
            allowed = {403} if refused else set(expected) if isinstance(expected, tuple) else {expected}
            assert r.status_code in allowed, (method, template, raw, who.role, r.status_code, r.json)


# --- headers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Bearer " + "A" * 20_000,
        "Bearer ",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        "Bearer a.b.c",
        "Bearer \u202e\u0645\u0631\u062d\u0628\u0627",
        "Basic YWRtaW46YWRtaW4=",
        "bearer  ",
        "Bearer x\x00y",
    ],
    ids=["huge", "empty", "alg-none", "garbage", "rtl", "basic", "lowercase", "nul"],
)
def test_bad_authorization_headers_are_401(client, value):
    assert_clean(client.get("/api/v1/auth/me", headers={"Authorization": value}), 401)


def test_prefer_wait_is_capped(client, app, monkeypatch):
    import api.blueprints.halaka as halaka_module

    monkeypatch.setattr(halaka_module, "MAX_WAIT_SECONDS", 1)
    world = build_world(app)
    for prefer in ("wait=" + "9" * 150, "wait=-5", "wait=abc", "respond-async, wait=1e9", "wait=1" * 30):
        r = send(
            client,
            "POST",
            "/api/v1/halaka/",
            {"title": "t", "schedule": SCHEDULE},
            {**world.teacher.headers, "Prefer": prefer},
        )
        assert_clean(r, 201, 400)
        assert r.headers.get("Preference-Applied") in (None, "wait=1")
