"""The trust model for an open platform, finding by finding (each test fails on the code before it).

Approval of self-registered teachers, host credentials only for the meeting's own host, unique Zoom
links, fresh and audited start links, the read visibility table, the token lifecycle, a JWT secret
that is never the source's, and the abuse limits (register/login, shared-host Zoom budget).
"""

from __future__ import annotations

import os
import stat
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from api import start_links
from shared.db import get_engine, session_scope
from shared.models import Halaka, HostCredentialAudit, RevokedLogin, ZoomMeeting
from shared.settings import DEFAULT_JWT_SECRET, Settings, get_settings
from tests.factories import PASSWORD, insert_user, make_halaka
from tests.integration.helpers import schedule
from tests.security.world import SHARED_HOST, TEACHER_ZOOM_USER, build_world, sandbox_meeting

REGISTER = "/api/v1/auth/register"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_account(client, role: str, email: str, ip: str = "10.50.0.1") -> dict:
    body = {"name": "New", "email": email, "password": PASSWORD, "role": role}
    r = client.post(REGISTER, json=body, environ_base={"REMOTE_ADDR": ip})
    assert r.status_code == 201, r.json
    return r.json["data"]


def login(client, email: str, ip: str = "10.50.0.1") -> dict:
    r = client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": ip}
    )
    assert r.status_code == 200, r.json
    return r.json["data"]


@pytest.fixture
def shared_host(monkeypatch):
    monkeypatch.setattr(get_settings(), "zoom_default_host_user", SHARED_HOST)
    return SHARED_HOST


# --- 1. teacher approval ---------------------------------------------------------------------------------


def test_a_self_registered_teacher_waits_for_an_admin(client, make_user, shared_host):
    user = new_account(client, "teacher", "fresh-teacher@example.com")
    assert user["approved"] is False
    tokens = login(client, "fresh-teacher@example.com")
    me = client.get("/api/v1/auth/me", headers=bearer(tokens["accessToken"])).json["data"]
    assert me["approved"] is False
    halaka = {"title": "Mine", "schedule": schedule()}
    r = client.post("/api/v1/halaka/", json=halaka, headers=bearer(tokens["accessToken"]))
    assert r.status_code == 403 and "admin must approve" in r.json["message"]
    assert client.get("/api/v1/halaka/", headers=bearer(tokens["accessToken"])).status_code == 200  # reads
    admin = make_user("admin")
    r = client.patch(f"/api/v1/users/{user['id']}", json={"approved": True}, headers=admin.headers)
    assert r.status_code == 200 and r.json["data"]["approved"] is True
    r = client.post("/api/v1/halaka/", json=halaka, headers=bearer(tokens["accessToken"]))
    assert r.status_code == 201, r.json
    assert new_account(client, "student", "fresh-student@example.com")["approved"] is True


@pytest.mark.parametrize(
    ("policy", "status", "approved"),
    [("approval", 201, False), ("open", 201, True), ("closed", 403, None)],
)
def test_teacher_signup_policy(client, monkeypatch, policy, status, approved):
    monkeypatch.setattr(get_settings(), "teacher_signup", policy)
    body = {"name": "T", "email": f"{policy}@example.com", "password": PASSWORD, "role": "teacher"}
    r = client.post(REGISTER, json=body)
    assert r.status_code == status, r.json
    if approved is None:
        assert r.json["errors"][0]["field"] == "role"
    else:
        assert r.json["data"]["approved"] is approved
    student = {**body, "email": f"s-{policy}@example.com", "role": "student"}
    assert client.post(REGISTER, json=student).json["data"]["approved"] is True


def test_default_signup_policy_is_approval():
    assert Settings.model_fields["teacher_signup"].default == "approval"


# --- 2. host credentials: unique Zoom links, the visibility table, fresh and audited start links


def test_a_zoom_user_is_linked_to_one_account_case_insensitively(client, make_user):
    admin = make_user("admin")
    first, second = make_user("teacher"), make_user("teacher")
    r = client.patch(
        f"/api/v1/users/{first.id}", json={"zoomUserId": "Shared@Zoom.test"}, headers=admin.headers
    )
    assert r.status_code == 200
    r = client.patch(
        f"/api/v1/users/{second.id}", json={"zoomUserId": "shared@zoom.TEST"}, headers=admin.headers
    )
    assert r.status_code == 409 and r.json["errors"][0]["field"] == "zoomUserId"
    # re-saving one's own link is not a conflict; the database refuses a duplicate written around the API
    r = client.patch(
        f"/api/v1/users/{first.id}", json={"zoomUserId": "shared@zoom.test"}, headers=admin.headers
    )
    assert r.status_code == 200
    with pytest.raises(IntegrityError):
        insert_user("Sneaky", "sneaky@example.com", "teacher", "SHARED@zoom.test")


# persona -> halakat of the world it sees (join details, start link, zoomError) for
VISIBLE = {
    "admin": {"own": "JSE", "other": "JSE", "relinked": "JSE", "unapproved": "JSE"},
    "teacher": {"own": "JSE"},
    "other_teacher": {"other": "JE"},  # a shared-host teacher: never the host's start link
    "relinked_teacher": {"relinked": "JE"},  # the halaka's host is no longer their Zoom user
    "unapproved_teacher": {},  # reads like a student enrolled nowhere, even its own halaka
    "student": {"own": "J", "other": "J"},
    "outsider": {},
}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_read_visibility_table(app, client, zoom_configured, persona):
    world = build_world(app, zoom=zoom_configured)
    with session_scope() as s:
        s.execute(update(Halaka).values(zoom_error="Zoom user x@example.com cannot host"))
    start_urls = {m["id"]: m["start_url"] for m in zoom_configured.meetings()}
    who = getattr(world, persona)
    for name in ("own", "other", "relinked", "unapproved"):
        halaka_id = getattr(world, name)
        expected = VISIBLE[persona].get(name, "")
        data = client.get(f"/api/v1/halaka/{halaka_id}", headers=who.headers).json["data"]
        meeting = data["zoomMeeting"]
        assert ("password" in meeting and "joinUrl" in meeting) is ("J" in expected), (name, meeting)
        assert ("zoomError" in data) is ("E" in expected), name
        assert data["zoomStatus"] == "ready"
        if "S" in expected:
            assert meeting["startUrl"] == start_urls[world.meetings[halaka_id]]
        else:
            assert "startUrl" not in meeting, name
        listed = client.get("/api/v1/halaka/?perPage=100", headers=who.headers).get_data(as_text=True)
        assert "startUrl" not in listed and "zak=" not in listed


def _zoom_gets(sandbox, meeting_id: int) -> int:
    return sum(
        1
        for e in sandbox.requests_log()
        if e["method"] == "GET" and e["path"] == f"/v2/meetings/{meeting_id}"
    )


def test_start_gives_a_fresh_link_for_the_next_sessions_segment_and_audits_it(app, client, zoom_configured):
    world = build_world(app, zoom=zoom_configured)
    past, upcoming = sandbox_meeting(TEACHER_ZOOM_USER), sandbox_meeting(TEACHER_ZOOM_USER)
    halaka_id = make_halaka(world.teacher.id, meeting_ids=(past, upcoming), host=TEACHER_ZOOM_USER)
    with session_scope() as s:  # the first segment's sessions are all over
        s.execute(
            update(ZoomMeeting)
            .where(ZoomMeeting.meeting_id == past)
            .values(
                first_start=datetime.now(UTC) - timedelta(days=20),
                last_start=datetime.now(UTC) - timedelta(days=1),
            )
        )
    before = _zoom_gets(zoom_configured, upcoming)
    for who in (world.teacher, world.teacher, world.admin):
        r = client.post(f"/api/v1/halaka/{halaka_id}/start", headers=who.headers)
        assert r.status_code == 200, r.json
        assert r.headers["Cache-Control"] == "no-store"
        data = r.json["data"]
        assert data["meetingId"] == str(upcoming)
        sandbox_url = next(m["start_url"] for m in zoom_configured.meetings() if m["id"] == upcoming)
        assert data["startUrl"] == sandbox_url
        expires = datetime.fromisoformat(data["expiresAt"].replace("Z", "+00:00"))
        assert timedelta(hours=1, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=2)
    assert _zoom_gets(zoom_configured, upcoming) - before == 3  # every hand-out was fetched from Zoom
    with session_scope() as s:
        rows = s.scalars(select(HostCredentialAudit).where(HostCredentialAudit.halaka_id == halaka_id)).all()
        assert [(r.user_id, r.meeting_id, r.credential) for r in rows] == [
            (world.teacher.id, upcoming, "start_url"),
            (world.teacher.id, upcoming, "start_url"),
            (world.admin.id, upcoming, "start_url"),
        ]
    # a halaka with no meeting yet has nothing to start
    pending = make_halaka(world.teacher.id, status="pending", host=TEACHER_ZOOM_USER)
    r = client.post(f"/api/v1/halaka/{pending}/start", headers=world.teacher.headers)
    assert r.status_code == 409 and r.json["status"] == "error"


def test_the_halaka_view_never_serves_a_start_link_older_than_the_max_age(
    app, client, zoom_configured, monkeypatch
):
    monkeypatch.setattr(get_settings(), "start_url_max_age_seconds", 1)
    start_links.forget_all()
    try:
        world = build_world(app, zoom=zoom_configured)
        meeting = world.meetings[world.own]
        before = _zoom_gets(zoom_configured, meeting)
        for _ in range(3):
            assert client.get(f"/api/v1/halaka/{world.own}", headers=world.teacher.headers).json["data"][
                "zoomMeeting"
            ]["startUrl"]
        assert _zoom_gets(zoom_configured, meeting) - before == 1  # remembered while young
        time.sleep(1.2)
        client.get(f"/api/v1/halaka/{world.own}", headers=world.teacher.headers)
        assert _zoom_gets(zoom_configured, meeting) - before == 2  # fetched again once older than the age
    finally:
        start_links.forget_all()


def test_start_answers_502_and_the_view_stays_up_when_zoom_is_down(app, client, zoom_configured):
    world = build_world(app, zoom=zoom_configured)
    start_links.forget_all()
    zoom_configured.config(outage=True)
    r = client.post(f"/api/v1/halaka/{world.own}/start", headers=world.teacher.headers)
    assert r.status_code == 502 and r.json["status"] == "error" and "zak" not in r.get_data(as_text=True)
    r = client.get(f"/api/v1/halaka/{world.own}", headers=world.teacher.headers)
    assert r.status_code == 200 and "startUrl" not in r.json["data"]["zoomMeeting"]


def test_default_start_link_age_is_below_zooms_two_hours():
    assert Settings.model_fields["start_url_max_age_seconds"].default == 90 * 60


# --- 8. token lifecycle ------------------------------------------------------------------------------------


def test_logout_revokes_the_whole_login(client, make_user):
    account = make_user("student")
    assert client.post("/api/v1/auth/logout", headers=account.headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=account.headers).status_code == 401
    r = client.post("/api/v1/auth/refresh", headers=bearer(account.refresh_token))  # never sent to logout
    assert r.status_code == 401 and r.json["message"] == "Token has been revoked"
    # logging out with the refresh token revokes that login's access token too
    other = login(client, account.email)
    assert client.post("/api/v1/auth/logout", headers=bearer(other["refreshToken"])).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(other["accessToken"])).status_code == 401
    # a new login is unaffected; a refreshed access token belongs to its login
    third = login(client, account.email)
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(third["refreshToken"])).json["data"]
    assert client.post("/api/v1/auth/logout", headers=bearer(third["accessToken"])).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(refreshed["accessToken"])).status_code == 401


def test_logout_all_revokes_every_login_and_only_earlier_ones(client, make_user):
    account = make_user("teacher")
    phone, laptop = login(client, account.email), login(client, account.email)
    r = client.post("/api/v1/auth/logout-all", headers=bearer(phone["accessToken"]))
    assert r.status_code == 200
    for tokens in (phone, laptop, {"accessToken": account.token, "refreshToken": account.refresh_token}):
        assert client.get("/api/v1/auth/me", headers=bearer(tokens["accessToken"])).status_code == 401
        assert client.post("/api/v1/auth/refresh", headers=bearer(tokens["refreshToken"])).status_code == 401
    fresh = login(client, account.email)  # in the same second as logout-all: still valid
    assert client.get("/api/v1/auth/me", headers=bearer(fresh["accessToken"])).status_code == 200


def test_deactivation_invalidates_earlier_tokens_and_reactivation_does_not_revive_them(
    app, client, make_user
):
    admin = make_user("admin")
    student = make_user("student")
    teacher = make_user("teacher", zoom_user_id="deact@zoom.test")
    [meeting] = [81_555_000_000 + teacher.id]
    halaka_id = make_halaka(teacher.id, meeting_ids=(meeting,), host="deact@zoom.test")
    sign = {"meetingNumber": str(meeting), "role": 1}
    assert client.post("/api/v1/zoom/signature", json=sign, headers=teacher.headers).status_code == 201
    for active in (False, True):
        r = client.patch(f"/api/v1/users/{teacher.id}", json={"active": active}, headers=admin.headers)
        assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=teacher.headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", headers=bearer(teacher.refresh_token)).status_code == 401
    r = client.post("/api/v1/zoom/signature", json=sign, headers=teacher.headers)
    assert r.status_code == 401 and r.json["message"] == "Token has been revoked"
    fresh = login(client, teacher.email)
    assert (
        client.post("/api/v1/zoom/signature", json=sign, headers=bearer(fresh["accessToken"])).status_code
        == 201
    )
    assert client.get(f"/api/v1/halaka/{halaka_id}", headers=student.headers).status_code == 200


def test_signature_sees_a_revoked_login_in_its_one_query(client, make_user):
    teacher = make_user("teacher", zoom_user_id="one-query@zoom.test")
    meeting = 81_666_000_000 + teacher.id
    make_halaka(teacher.id, meeting_ids=(meeting,), host="one-query@zoom.test")
    sign = {"meetingNumber": str(meeting), "role": 0}
    assert client.post("/api/v1/zoom/signature", json=sign, headers=teacher.headers).status_code == 201
    client.post("/api/v1/auth/logout", headers=teacher.headers)
    r = client.post("/api/v1/zoom/signature", json=sign, headers=teacher.headers)
    assert r.status_code == 401 and r.json["message"] == "Token has been revoked"


def test_expired_revocations_are_purged_by_the_beat_task():
    from shared.celery_config import PURGE_REVOKED_TASK, configure
    from shared.revocation import purge_expired

    now = datetime.now(UTC)
    with session_scope() as s:
        s.add_all(
            [
                RevokedLogin(login_id="gone", expires_at=now - timedelta(seconds=1)),
                RevokedLogin(login_id="live", expires_at=now + timedelta(days=1)),
            ]
        )
    assert purge_expired() == 1
    with session_scope() as s:
        assert s.scalars(select(RevokedLogin.login_id)).all() == ["live"]
    from celery import Celery

    schedule_ = configure(Celery("probe"), get_settings()).conf.beat_schedule
    assert any(entry["task"] == PURGE_REVOKED_TASK for entry in schedule_.values())


# --- 4. no public JWT secret -----------------------------------------------------------------------


@pytest.mark.parametrize("env", ["development", "production"])
def test_the_source_default_secret_is_refused_outside_tests(env):
    base = {"database_url": "postgresql://u@h/db", "redis_url": "redis://h:6379/0"}
    with pytest.raises(ValueError, match="JWT_SECRET_KEY"):
        Settings(**base, app_env=env, jwt_secret_key=DEFAULT_JWT_SECRET)
    assert Settings(**base, app_env="test", jwt_secret_key=DEFAULT_JWT_SECRET).app_env == "test"


def test_a_token_forged_with_the_source_default_is_refused(client, make_user):
    import jwt as pyjwt

    admin = make_user("admin")
    claims = {
        "sub": str(admin.id),
        "type": "access",
        "jti": "x",
        "role": "admin",
        "lid": "x",
        "auth_time": 1e10,
    }
    claims["exp"] = int(time.time()) + 600
    forged = pyjwt.encode(claims, DEFAULT_JWT_SECRET, algorithm="HS256")
    assert client.get("/api/v1/users/", headers=bearer(forged)).status_code == 401


def test_make_run_generates_one_private_secret_per_install_and_reuses_it(tmp_path):
    from stack.dev import JWT_SECRET_FILE, install_jwt_secret

    first = install_jwt_secret(tmp_path)
    path = tmp_path / JWT_SECRET_FILE
    assert len(first) >= 32 and first != DEFAULT_JWT_SECRET
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert install_jwt_secret(tmp_path) == first
    assert (
        install_jwt_secret(tmp_path / "..") != first if (tmp_path / ".." / JWT_SECRET_FILE).exists() else True
    )
    other = tmp_path / "other"
    other.mkdir()
    assert install_jwt_secret(other) != first  # another install, another secret
    path.write_text("short\n")
    with pytest.raises(SystemExit):
        install_jwt_secret(tmp_path)


# --- 5. the engine hides statement parameters ---------------------------------------------------------------


def test_database_errors_carry_no_statement_parameters():
    """SQLAlchemy puts `[parameters: …]` into every DBAPI error it raises unless the engine hides them."""
    passcode = "pc-" + os.urandom(6).hex()
    with pytest.raises(DBAPIError) as exc, get_engine().begin() as conn:
        conn.execute(text("SELECT 1 / 0 WHERE :p <> ''"), {"p": passcode})
    assert passcode not in str(exc.value) and "parameters hidden" in str(exc.value)


# --- 6. abuse limits --------------------------------------------------------------------------------


def test_register_is_limited_per_client_address(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "register_rate_limit", "3 per minute")
    codes = [
        client.post(
            REGISTER,
            json={"name": "N", "email": f"r{i}@example.com", "password": PASSWORD, "role": "student"},
            environ_base={"REMOTE_ADDR": "10.60.0.1"},
        ).status_code
        for i in range(4)
    ]
    assert codes == [201, 201, 201, 429]
    new_account(client, "student", "elsewhere@example.com", ip="10.60.0.2")


def test_default_register_limit_bounds_argon2_work():
    assert Settings.model_fields["register_rate_limit"].default == "5 per hour"


def test_trusted_proxy_hops_give_each_client_its_own_bucket(monkeypatch):
    from api import create_app

    settings = get_settings().model_copy(update={"trusted_proxy_hops": 1})
    monkeypatch.setattr(settings, "login_rate_limit", "2 per minute")
    app = create_app(settings)
    client = app.test_client()
    monkeypatch.setattr(get_settings(), "login_rate_limit", "2 per minute")

    def attempt(forwarded: str):
        return client.post(
            "/api/v1/auth/login",
            json={"email": "nobody@example.com", "password": "x"},
            environ_base={"REMOTE_ADDR": "10.70.0.1"},  # the load balancer
            headers={"X-Forwarded-For": forwarded},
        ).status_code

    assert [attempt("198.51.100.1") for _ in range(3)] == [401, 401, 429]
    assert attempt("198.51.100.2") == 401  # another client behind the same balancer
    # a client cannot escape its bucket by prepending addresses: only the last hop is trusted
    assert attempt("203.0.113.9, 198.51.100.1") == 429


def test_a_shared_host_teacher_has_a_daily_zoom_write_budget(client, make_user, monkeypatch, shared_host):
    monkeypatch.setattr(get_settings(), "shared_host_teacher_daily_writes", 3)
    admin = make_user("admin")
    teacher, neighbour = make_user("teacher"), make_user("teacher")
    linked = make_user("teacher", zoom_user_id="own-zoom@example.com")
    me = client.get("/api/v1/auth/me", headers=teacher.headers).json["data"]
    assert me["zoomWriteBudget"] == {"host": SHARED_HOST, "limit": 3, "used": 0, "remaining": 3}
    assert client.get("/api/v1/auth/me", headers=linked.headers).json["data"]["zoomWriteBudget"] is None
    # 120 daily sessions are three Zoom meetings (50 each): the whole budget at once
    big = {"title": "Daily", "schedule": schedule("daily", start_in=3, length_days=119)}
    r = client.post("/api/v1/halaka/", json=big, headers=teacher.headers)
    assert r.status_code == 201, r.json
    halaka_id = r.json["data"]["id"]
    small = {"title": "Weekly", "schedule": schedule()}
    r = client.post("/api/v1/halaka/", json=small, headers=teacher.headers)
    assert r.status_code == 429 and "remain" in r.json["message"] and r.json["status"] == "error"
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"schedule": {"startTime": "18:00"}}, headers=teacher.headers
    )
    assert r.status_code == 429
    r = client.patch(f"/api/v1/halaka/{halaka_id}", json={"title": "Renamed"}, headers=teacher.headers)
    assert r.status_code == 200  # no Zoom write
    assert (
        client.get("/api/v1/auth/me", headers=teacher.headers).json["data"]["zoomWriteBudget"]["remaining"]
        == 0
    )
    # others keep their own budgets; admins and linked teachers are bounded by Zoom only
    assert client.post("/api/v1/halaka/", json=small, headers=neighbour.headers).status_code == 201
    for _ in range(4):
        assert client.post("/api/v1/halaka/", json=small, headers=linked.headers).status_code == 201
    r = client.post("/api/v1/halaka/", json={**small, "teacherId": teacher.id}, headers=admin.headers)
    assert r.status_code == 201
    metrics = client.get("/api/v1/ops/metrics", headers=admin.headers).json["data"]
    assert metrics["zoomWritesToday"] == {SHARED_HOST: 4}


def test_default_shared_host_budget_is_twenty():
    assert Settings.model_fields["shared_host_teacher_daily_writes"].default == 20


def test_prefer_wait_beyond_the_per_process_cap_answers_at_once(client, make_user, monkeypatch):
    from api import waiting

    monkeypatch.setattr(get_settings(), "prefer_wait_max_concurrent", 1)
    waiting.reset()
    teacher = make_user("teacher", zoom_user_id="waiter@zoom.test")
    body = {"title": "Now", "schedule": schedule()}
    with waiting.wait_slot(1) as mine:  # another request holds the only slot
        assert mine
        started = time.monotonic()
        r = client.post("/api/v1/halaka/", json=body, headers={**teacher.headers, "Prefer": "wait=5"})
        assert time.monotonic() - started < 2
    assert r.status_code == 201 and r.json["data"]["zoomStatus"] == "pending"
    assert "Preference-Applied" not in r.headers
    waiting.reset()


def test_zoom_error_is_not_shown_to_other_viewers(app, client):
    world = build_world(app, status="failed")
    with session_scope() as s:
        s.execute(update(Halaka).values(zoom_error="Zoom user host@example.com does not exist"))
    for who, shown in (
        (world.other_teacher, True),
        (world.admin, True),
        (world.student, False),
        (world.teacher, False),
    ):
        data = client.get(f"/api/v1/halaka/{world.other}", headers=who.headers).json["data"]
        assert data["zoomStatus"] == "failed"
        assert ("zoomError" in data) is shown, who.role
        assert ("host@example.com" in str(data)) is shown
