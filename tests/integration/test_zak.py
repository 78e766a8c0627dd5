"""POST /zoom/zak-token (docs/api.md, README Trust model) over HTTP, with the Zoom sandbox as Zoom.

The Flask app runs in this process (test client); `zoom_configured` points its settings and Zoom client
at the sandbox, which is reset before every test.
"""

from __future__ import annotations

import io
import logging
import time

import pytest

import shared.zoom.client as zoom_client_module
from shared.settings import get_settings
from zoomsim.control import SandboxControl

ZAK = "/api/v1/zoom/zak-token"
TEACHER_ZOOM = "teacher@example.com"  # users the sandbox knows from the start
HOST_ZOOM = "host@example.com"
FAILED = {"status": "error", "message": "Failed to fetch ZAK token"}


def zak(client, account, user_id):
    return client.post(ZAK, json={"userId": user_id}, headers=account.headers)


def zak_calls(sandbox: SandboxControl) -> list[dict]:
    return [e for e in sandbox.requests_log() if e["operation"] == "zak"]


@pytest.fixture
def captured_logs():
    """Everything logged in this process while the test runs, as text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


# --- the contract -------------------------------------------------------------------------------


def test_success_is_the_seed_shape_and_never_cached(client, make_user, zoom_configured, captured_logs):
    teacher = make_user("teacher", zoom_user_id=TEACHER_ZOOM)
    first = zak(client, teacher, TEACHER_ZOOM)
    assert first.status_code == 200, first.json
    assert set(first.json) == {"status", "message", "zak"}
    assert first.json["status"] == "success"
    assert first.json["message"] == "ZAK token fetched successfully"
    assert isinstance(first.json["zak"], str) and len(first.json["zak"]) > 20
    assert first.headers["Cache-Control"] == "no-store"

    second = zak(client, teacher, TEACHER_ZOOM)
    assert second.status_code == 200
    calls = zak_calls(zoom_configured)
    assert len(calls) == 2, "a ZAK is fetched from Zoom on every request, never served from a cache"
    assert all(c["query"] == {"type": "zak"} and c["status"] == 200 for c in calls)
    assert all(c["method"] == "GET" and c["path"].endswith(f"/users/{TEACHER_ZOOM}/token") for c in calls)

    logged = captured_logs.getvalue()
    for token in (first.json["zak"], second.json["zak"]):
        assert token not in logged


@pytest.mark.parametrize("body", [{}, {"userId": None}, {"userId": ""}, {"userId": "   "}, {"user": "x"}])
def test_missing_user_id_is_the_seed_400(client, make_user, zoom_configured, body):
    admin = make_user("admin")
    r = client.post(ZAK, json=body, headers=admin.headers)
    assert r.status_code == 400
    assert {k: r.json[k] for k in ("status", "message")} == {
        "status": "error",
        "message": "userId is required",
    }
    assert zak_calls(zoom_configured) == []


@pytest.mark.parametrize(
    "value",
    [42, ["teacher@example.com"], {"id": "x"}, "x" * 321]
    # not one path segment, or whitespace by Python, JSON Schema and Rust alike (incl. NEL, \x1c, U+3000)
    + [f"a{c}b" for c in "/?#%\\ \t\x85\x1c\xa0\u2028\u3000"],
)
def test_invalid_user_id_is_400_naming_the_field(client, make_user, zoom_configured, value):
    admin = make_user("admin")
    r = client.post(ZAK, json={"userId": value}, headers=admin.headers)
    assert r.status_code == 400
    assert [e["field"] for e in r.json["errors"]] == ["userId"]
    assert zak_calls(zoom_configured) == []


def test_requires_a_token(client, zoom_configured):
    r = client.post(ZAK, json={"userId": TEACHER_ZOOM})
    assert r.status_code == 401 and r.json["status"] == "error"
    assert zak_calls(zoom_configured) == []


# --- who may fetch which ZAK (README, Trust model), table-driven over HTTP -------------------------------

ZAK_MATRIX = [
    # (who, the Zoom user asked for, expected status)
    ("own-teacher", TEACHER_ZOOM, 200),
    ("own-teacher", "Teacher@Example.COM", 200),  # e-mails compare case-insensitively
    ("own-teacher", HOST_ZOOM, 403),  # foreign
    ("unlinked-teacher", TEACHER_ZOOM, 403),
    ("unlinked-teacher", HOST_ZOOM, 403),
    ("admin", TEACHER_ZOOM, 200),
    ("admin", HOST_ZOOM, 200),
    ("admin", "nobody@example.com", 404),
    ("student", TEACHER_ZOOM, 403),
    ("linked-student", HOST_ZOOM, 403),  # even a student somehow linked gets no ZAK
    ("own-teacher", "nobody@example.com", 403),  # forbidden before Zoom is asked
]


@pytest.fixture
def zak_accounts(make_user):
    return {
        "own-teacher": make_user("teacher", zoom_user_id=TEACHER_ZOOM),
        "unlinked-teacher": make_user("teacher"),
        "admin": make_user("admin"),
        "student": make_user("student"),
        "linked-student": make_user("student", zoom_user_id=HOST_ZOOM),
    }


@pytest.mark.parametrize(("who", "user_id", "expected"), ZAK_MATRIX)
def test_who_may_fetch_a_zak(client, zoom_configured, zak_accounts, who, user_id, expected):
    r = zak(client, zak_accounts[who], user_id)
    assert r.status_code == expected, r.json
    calls = zak_calls(zoom_configured)
    if expected == 200:
        assert r.json["zak"] and len(calls) == 1
    else:
        assert "zak" not in r.json and r.json["status"] == "error"
    if expected == 403:
        assert calls == [], "a forbidden caller never reaches Zoom"


def test_unlinking_or_demoting_takes_effect_at_once(client, zoom_configured, zak_accounts):
    admin, teacher = zak_accounts["admin"], zak_accounts["own-teacher"]
    assert zak(client, teacher, TEACHER_ZOOM).status_code == 200
    r = client.patch(f"/api/v1/users/{teacher.id}", json={"role": "student"}, headers=admin.headers)
    assert r.status_code == 200
    assert zak(client, teacher, TEACHER_ZOOM).status_code == 403
    r = client.patch(
        f"/api/v1/users/{teacher.id}", json={"role": "teacher", "active": False}, headers=admin.headers
    )
    assert r.status_code == 200
    assert zak(client, teacher, TEACHER_ZOOM).status_code == 401


# --- Zoom failures ------------------------------------------------------------------------------


def test_zoom_user_not_found_is_404(client, make_user, zoom_configured):
    admin = make_user("admin")
    r = zak(client, admin, "nobody@example.com")
    assert r.status_code == 404
    assert r.json == {"status": "error", "message": "Zoom user not found"}


@pytest.mark.parametrize("status", [500, 502, 503])
def test_zoom_5xx_is_500_failed_to_fetch(client, make_user, zoom_configured, captured_logs, status):
    admin = make_user("admin")
    zoom_configured.fault(kind="error", status=status, match="zak")
    r = zak(client, admin, TEACHER_ZOOM)
    assert r.status_code == 500
    assert r.json == FAILED
    assert [c["status"] for c in zak_calls(zoom_configured)] == [status]
    assert "Bearer" not in captured_logs.getvalue()


def test_zoom_timeout_is_500_failed_to_fetch_quickly(client, make_user, zoom_configured, monkeypatch):
    admin = make_user("admin")
    monkeypatch.setattr(get_settings(), "zoom_timeout_read", 0.5)
    zoom_client_module.get_zoom_client.cache_clear()
    assert zak(client, admin, TEACHER_ZOOM).status_code == 200  # token fetched, connection warm
    zoom_configured.fault(kind="hang", seconds=3, match="zak")
    started = time.monotonic()
    r = zak(client, admin, TEACHER_ZOOM)
    elapsed = time.monotonic() - started
    assert r.status_code == 500
    assert r.json == FAILED
    assert elapsed < 2.5, f"answered after {elapsed:.2f}s: the read timeout was not applied"


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        (("zoom_client_secret",), ["ZOOM_CLIENT_SECRET"]),
        (("zoom_account_id",), ["ZOOM_ACCOUNT_ID"]),
        (
            ("zoom_account_id", "zoom_client_id", "zoom_client_secret"),
            ["ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET"],
        ),
    ],
)
def test_missing_credentials_500_naming_the_setting(
    client, make_user, zoom_configured, monkeypatch, unset, named
):
    admin = make_user("admin")
    secret = zoom_configured.client_secret
    for name in unset:
        monkeypatch.setattr(get_settings(), name, None)
    zoom_client_module.get_zoom_client.cache_clear()
    r = zak(client, admin, TEACHER_ZOOM)
    assert r.status_code == 500
    assert r.json["status"] == "error"
    for name in named:
        assert name in r.json["message"]
    assert secret not in r.get_data(as_text=True)
    assert zoom_configured.stats()["token_requests"] == 0 and zak_calls(zoom_configured) == []


def test_one_oauth_token_for_many_zak_calls(client, make_user, zoom_configured):
    admin = make_user("admin")
    tokens = set()
    for _ in range(50):
        r = zak(client, admin, HOST_ZOOM)
        assert r.status_code == 200, r.json
        tokens.add(r.json["zak"])
    stats = zoom_configured.stats()
    assert stats["token_requests"] == 1, stats
    assert len(zak_calls(zoom_configured)) == 50
    assert len(tokens) == 50, "every call is a fresh ZAK from Zoom"
