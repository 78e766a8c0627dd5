"""Secrets stay where they belong (README, Trust model).

1. No response to a student ever contains a start URL (it carries the host's ZAK): halakat with Zoom
   meeting rows whose start URL holds a recognizable secret, the student enrolled in them, then every GET
   route the app registers (found in `app.url_map`, so new ones are covered) and every action a student
   may take, with the raw bytes grepped. Positive controls show the secret is really there for the
   halaka's teacher and admins, so the test cannot pass by accident.
2. Logs from a representative run hold no password, JWT, ZAK, start URL or Zoom secret: everything the
   API logs (root logger at DEBUG, through the production JSON handler) while registering, logging in,
   refreshing, logging out, creating and reading halakat, signing, fetching a ZAK and failing at several
   of those; and the log file of a real Celery worker while it provisions a halaka on the Zoom sandbox.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator

import pytest
from flask_jwt_extended import create_access_token

from api.auth_context import login_claims
from shared.db import get_engine
from shared.logging import json_handler
from shared.redis_client import get_redis
from shared.settings import get_settings
from tests.factories import calendar_feed_path
from tests.integration.helpers import schedule
from tests.security.world import TEACHER_ZOOM_USER, World, build_world


def start_secrets(sandbox) -> dict[str, str]:
    """Every start link on the sandbox and the ZAK inside it, by a readable name."""
    out = {}
    for m in sandbox.meetings():
        out[f"start url {m['id']}"] = m["start_url"]
        out[f"start url zak {m['id']}"] = m["start_url"].split("zak=", 1)[1].split("&")[0]
    assert out, "the sandbox holds no meeting: nothing to look for"
    return out


def test_no_start_link_is_stored_at_rest():
    """Start links carry the host's ZAK and expire after two hours: fetched when asked for, not kept."""
    with get_engine().connect() as conn:
        columns = conn.exec_driver_sql(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name ILIKE '%%start%%url%%'"
        ).all()
    assert columns == []


PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


# --- 1. start URLs never reach a student -----------------------------------------------------------------


def _get_paths(app, world: World) -> list[str]:
    """Every GET route, with each halaka of the world (and list filters) substituted in."""
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        names = PARAM.findall(rule.rule)
        if not names:
            paths.append(rule.rule)
        elif names == ["id"] and rule.rule.startswith("/api/v1/halaka/"):
            paths += [PARAM.sub(str(h), rule.rule) for h in (world.own, world.other)]
        elif names == ["filename"]:
            paths.append(PARAM.sub("none.css", rule.rule))
        elif names == ["token"] and rule.rule.startswith("/api/v1/calendar/"):
            paths += [calendar_feed_path(u.id) for u in (world.student, world.outsider)]
        else:
            raise AssertionError(f"GET {rule.rule}: teach _get_paths which ids to try")
    filters = [
        "perPage=100",
        "enrolled=true",
        "mine=true",
        f"teacherId={world.teacher.id}",
        "zoomStatus=ready",
    ]
    paths += [f"/api/v1/halaka/?{f}" for f in filters]
    return paths


def _student_actions(world: World) -> list[tuple[str, str, dict]]:
    meeting = str(world.meetings[world.own])
    return [
        ("POST", f"/api/v1/halaka/{world.own}/enroll", {}),
        ("POST", "/api/v1/zoom/signature", {"json": {"meetingNumber": meeting, "role": 0}}),
        ("POST", "/api/v1/zoom/signature", {"json": {"meetingNumber": meeting, "role": 1}}),
        ("POST", "/api/v1/zoom/zak-token", {"json": {"userId": TEACHER_ZOOM_USER}}),
        ("PATCH", f"/api/v1/halaka/{world.own}", {"json": {"title": "mine now"}}),
        ("DELETE", f"/api/v1/halaka/{world.own}", {}),
        ("POST", f"/api/v1/halaka/{world.own}/zoom/retry", {}),
        ("POST", f"/api/v1/halaka/{world.own}/start", {}),
        (
            "POST",
            "/api/v1/halaka/",
            {"json": {"title": "x", "schedule": schedule(start_in=4, length_days=26)}},
        ),
        ("DELETE", f"/api/v1/halaka/{world.other}/enroll", {}),
        ("POST", f"/api/v1/halaka/{world.other}/enroll", {}),
    ]


def test_no_response_to_a_student_contains_a_start_url(app, client, zoom_configured):
    world = build_world(app, zoom=zoom_configured)
    # the host token of `own`, which its teacher does get (so the test sees it when it is there)
    host_token = start_secrets(zoom_configured)[f"start url zak {world.meetings[world.own]}"]
    r = client.get(f"/api/v1/halaka/{world.own}", headers=world.teacher.headers)
    assert host_token in r.json["data"]["zoomMeeting"]["startUrl"]
    # the enrolled student gets the join details, the outsider does not (checked before the outsider enrolls)
    own = client.get(f"/api/v1/halaka/{world.own}", headers=world.student.headers).json["data"]
    assert own["zoomMeeting"]["joinUrl"] and own["zoomMeeting"]["password"]
    outsider = client.get(f"/api/v1/halaka/{world.own}", headers=world.outsider.headers)
    assert b"joinsecret" not in outsider.data and b"pw-join" not in outsider.data
    seen = 0
    for student in (world.student, world.outsider):
        for path in _get_paths(app, world):
            r = client.get(path, headers=student.headers)
            assert r.status_code < 500, (path, r.status_code)
            seen += r.status_code == 200
            assert host_token.encode() not in r.data, f"GET {path} leaked the start URL to a student"
            if r.is_json and "status" in r.json:  # an API answer (the OpenAPI document may name the field)
                assert b"startUrl" not in r.data, f"GET {path} has a startUrl field for a student"
        for method, path, kwargs in _student_actions(world):
            r = client.open(path, method=method, headers=student.headers, **kwargs)
            assert r.status_code < 500, (method, path, r.status_code)
            assert host_token.encode() not in r.data and b"startUrl" not in r.data, (method, path)
    assert seen >= 20, "too few successful reads: the test is not looking at anything"


def test_start_url_only_for_the_meetings_own_host_and_admins(app, client, zoom_configured):
    world = build_world(app, zoom=zoom_configured)
    host_token = start_secrets(zoom_configured)[f"start url zak {world.meetings[world.own]}"]
    for who in (world.teacher, world.admin):
        r = client.get(f"/api/v1/halaka/{world.own}", headers=who.headers)
        assert host_token in r.json["data"]["zoomMeeting"]["startUrl"], who.role
    # the shared-host teacher manages `other` but never gets its host's credential
    r = client.get(f"/api/v1/halaka/{world.other}", headers=world.other_teacher.headers)
    assert r.json["data"]["zoomMeeting"]["joinUrl"] and b"startUrl" not in r.data
    # another teacher reads it as a non-enrolled student would
    r = client.get(f"/api/v1/halaka/{world.own}", headers=world.other_teacher.headers)
    assert r.status_code == 200
    assert host_token.encode() not in r.data and b"startUrl" not in r.data
    assert b"joinsecret" not in r.data
    listing = client.get("/api/v1/halaka/?perPage=100", headers=world.other_teacher.headers)
    own_items = [h for h in listing.json["data"]["items"] if h["id"] == world.own]
    assert own_items and "startUrl" not in str(own_items)


# --- 2. logs ---------------------------------------------------------------------------------------------


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged in this process, through the production JSON handler, at DEBUG."""
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _jwt_parts(token: str) -> list[str]:
    """The token and its signature: a log holding either gives the token away."""
    return [token, token.rsplit(".", 1)[-1]]


def assert_no_secrets(text: str, secrets: dict[str, str]) -> None:
    assert text.strip(), "nothing was logged: the capture is not working"
    leaked = [name for name, value in secrets.items() if value and value in text]
    assert not leaked, f"secrets in the logs: {leaked}"


def test_api_logs_of_a_representative_run_hold_no_secrets(app, client, zoom_configured, captured_logs):
    world = build_world(app, zoom=zoom_configured)
    tag = uuid.uuid4().hex[:8]
    secrets: dict[str, str] = {}
    settings = get_settings()
    secrets["jwt signing key"] = settings.jwt_secret_key.get_secret_value()
    secrets["sdk secret"] = settings.zoom_sdk_secret.get_secret_value()
    secrets["zoom client secret"] = settings.zoom_client_secret.get_secret_value()
    secrets.update(start_secrets(zoom_configured))

    # register and log in, with a wrong password on the way
    passwords = {"teacher": f"Teacher-pw-{tag}!", "student": f"Student-pw-{tag}!"}
    emails = {role: f"{role}-{tag}@example.com" for role in passwords}
    tokens: dict[str, dict] = {}
    for role, password in passwords.items():
        secrets[f"{role} password"] = password
        body = {"name": f"{role} {tag}", "email": emails[role], "password": password, "role": role}
        assert client.post("/api/v1/auth/register", json=body).status_code == 201
        wrong = f"Wrong-pw-{role}-{tag}"
        secrets[f"{role} wrong password"] = wrong
        assert (
            client.post("/api/v1/auth/login", json={"email": emails[role], "password": wrong}).status_code
            == 401
        )
        r = client.post("/api/v1/auth/login", json={"email": emails[role], "password": password})
        assert r.status_code == 200
        tokens[role] = r.json["data"]
        for kind in ("accessToken", "refreshToken"):
            for i, part in enumerate(_jwt_parts(r.json["data"][kind])):
                secrets[f"{role} {kind} {i}"] = part
    teacher = {"Authorization": f"Bearer {tokens['teacher']['accessToken']}"}
    teacher_id = tokens["teacher"]["user"]["id"]

    # refresh, me; an admin links the teacher's Zoom user
    r = client.post(
        "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {tokens['teacher']['refreshToken']}"}
    )
    assert r.status_code == 200
    secrets["refreshed access token"] = r.json["data"]["accessToken"]
    assert client.get("/api/v1/auth/me", headers=teacher).status_code == 200
    own_zoom_user = f"fresh-{tag}@example.com"
    zoom_configured.add_user(own_zoom_user)
    r = client.patch(
        f"/api/v1/users/{teacher_id}",
        json={"zoomUserId": own_zoom_user, "approved": True},
        headers=world.admin.headers,
    )
    assert r.status_code == 200

    # halakat: create, list and read (responses carry start URLs for teacher and admin)
    r = client.post(
        "/api/v1/halaka/",
        json={"title": f"Halaka {tag}", "schedule": schedule(start_in=4, length_days=26)},
        headers=teacher,
    )
    assert r.status_code == 201
    for who in (world.teacher, world.admin):
        client.get("/api/v1/halaka/?perPage=100", headers=who.headers)
        assert b"zak=" in client.get(f"/api/v1/halaka/{world.own}", headers=who.headers).data
        assert client.post(f"/api/v1/halaka/{world.own}/start", headers=who.headers).status_code == 200
        client.get(f"/api/v1/halaka/{world.own}/sessions", headers=who.headers)
    client.patch(
        f"/api/v1/halaka/{world.own}", json={"description": "changed"}, headers=world.teacher.headers
    )

    # Meeting SDK signatures and the ZAK (through the sandbox's OAuth)
    for who, role in ((world.student, 0), (world.teacher, 1), (world.admin, 1)):
        r = client.post(
            "/api/v1/zoom/signature",
            json={"meetingNumber": str(world.meetings[world.own]), "role": role},
            headers=who.headers,
        )
        assert r.status_code == 201
        for i, part in enumerate(_jwt_parts(r.json["data"]["signature"])):
            secrets[f"signature {who.role} {i}"] = part
    r = client.post(
        "/api/v1/zoom/zak-token", json={"userId": TEACHER_ZOOM_USER}, headers=world.teacher.headers
    )
    assert r.status_code == 200
    secrets["zak"] = r.json["zak"]
    client.post("/api/v1/zoom/zak-token", json={"userId": "nobody@example.com"}, headers=world.admin.headers)
    oauth = get_redis().get(f"zoom:oauth:{settings.zoom_client_id}:token")
    assert oauth, "the Zoom OAuth token is not where this test looks for it"
    secrets["zoom oauth token"] = oauth.decode() if isinstance(oauth, bytes) else oauth

    # bad tokens: a tampered signature, alg none, a valid token with junk appended
    access = world.student.token
    tampered = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    with app.app_context():
        fresh = create_access_token(identity=str(world.student.id), additional_claims=login_claims("student"))
    for bad in (tampered, "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", fresh + "x"):
        secrets[f"bad token {len(secrets)}"] = bad
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bad}"})

    # log out (access token and refresh token), then use the revoked token
    r = client.post(
        "/api/v1/auth/logout",
        json={"refreshToken": tokens["student"]["refreshToken"]},
        headers={"Authorization": f"Bearer {tokens['student']['accessToken']}"},
    )
    assert r.status_code == 200
    assert (
        client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['student']['accessToken']}"}
        ).status_code
        == 401
    )

    for person in (world.admin, world.teacher, world.student):
        secrets[f"world {person.role} token"] = person.token
    assert_no_secrets(captured_logs.getvalue(), secrets)


def test_worker_logs_while_provisioning_hold_no_start_url_or_zoom_secret(
    app, client, worker, zoom_configured, captured_logs
):
    """A real Celery worker creates the meeting on the sandbox: its log must not carry what Zoom returned."""
    from tests.integration.helpers import wait_status

    start = worker.log_path.stat().st_size if worker.log_path.exists() else 0
    world = build_world(app)
    r = client.post(
        "/api/v1/halaka/",
        json={"title": "Provisioned", "schedule": schedule(start_in=4, length_days=26)},
        headers=world.teacher.headers,
    )
    assert r.status_code == 201
    halaka = wait_status(client, world.teacher, r.json["data"]["id"], worker=worker)
    assert halaka["zoomStatus"] == "ready", halaka

    settings = get_settings()
    secrets = {"zoom client secret": settings.zoom_client_secret.get_secret_value()}
    secrets.update(start_secrets(zoom_configured))
    for i, m in enumerate(halaka["zoomMeetings"]):
        secrets[f"meeting password {i}"] = m["password"]
    oauth = get_redis().get(f"zoom:oauth:{settings.zoom_client_id}:token")
    if oauth:
        secrets["zoom oauth token"] = oauth.decode() if isinstance(oauth, bytes) else oauth
    with open(worker.log_path, errors="replace") as log:
        log.seek(start)
        worker_log = log.read()
    assert worker_log.strip(), "the worker wrote nothing: the log capture is not working"
    assert_no_secrets(worker_log + captured_logs.getvalue(), secrets)


# --- 3. every line the suite's processes logged ------------------------------------------------------------

COMMON_FIELDS = ("time", "level", "logger", "message", "role")
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.")
UNMASKED_QUERY_SECRET = re.compile(r"(?i)\b(zak|pwd)=(?!\[redacted)")


def test_every_log_line_of_the_suites_processes_is_json_with_common_fields_and_no_secret(
    app, client, worker, beat, zoom_sandbox, zoom_sandbox_server, _role_logs, stack_env
):
    """The worker, beat, every API server the suite started (their logs share one folder) and the
    sandbox: each line one JSON object with the common fields, a task's lines with its ids, no secret.
    A halaka provisioned through a 429 makes the worker log a warning inside a task."""
    from stack.process import RoleProcess
    from tests.integration.helpers import wait_status
    from tests.worker_fixture import wait_for

    migrate = RoleProcess("migrate", stack_env, _role_logs / "migrate.log").start()
    assert migrate.proc.wait(120) == 0, migrate.log_tail()
    world = build_world(app)
    zoom_sandbox.fault(kind="429", count=1, retry_after="seconds", value=1, match="create")
    r = client.post(
        "/api/v1/halaka/",
        json={"title": "Logged", "schedule": schedule(start_in=4, length_days=26)},
        headers=world.teacher.headers,
    )
    assert r.status_code == 201
    assert wait_status(client, world.teacher, r.json["data"]["id"], worker=worker)["zoomStatus"] == "ready"
    beat_log = _role_logs / "beat.log"
    wait_for(lambda: beat_log.exists() and "Sending due task" in beat_log.read_text(), 20, what="beat")
    files = sorted(_role_logs.glob("*.log"))
    if zoom_sandbox_server.process is not None:
        files.append(zoom_sandbox_server.process.log_path)
    settings = get_settings()
    secrets = {
        "JWT_SECRET_KEY": settings.jwt_secret_key.get_secret_value(),
        "ZOOM_SDK_SECRET": settings.zoom_sdk_secret.get_secret_value(),
        "ZOOM_CLIENT_SECRET": stack_env["ZOOM_CLIENT_SECRET"],
        "METRICS_TOKEN": stack_env["METRICS_TOKEN"],
    }
    roles: set[str] = set()
    task_lines = 0
    problems = []
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            where = f"{path.name}:{number}"
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                problems.append(f"{where} is not JSON: {line[:200]}")
                continue
            if not isinstance(entry, dict) or not all(entry.get(f) is not None for f in COMMON_FIELDS):
                problems.append(f"{where} lacks a common field: {line[:200]}")
                continue
            roles.add(entry["role"])
            task_lines += bool(entry.get("task_id") and entry.get("halaka_id"))
            leaked = [name for name, secret in secrets.items() if secret in line]
            if leaked or JWT_SHAPE.search(line) or UNMASKED_QUERY_SECRET.search(line):
                problems.append(f"{where} holds a secret {leaked}: {line[:200]}")
    assert not problems, "\n".join(problems[:20])
    assert {"worker", "beat", "migrate"} <= roles, roles
    if zoom_sandbox_server.process is not None:
        assert "sandbox" in roles, roles
    assert task_lines, "no worker line carried a task_id and halaka_id"
