"""Who may do what (README, Trust model) for every route the app registers, as
anonymous, student, teacher (linked to the Zoom user hosting their halaka), shared-host teacher (no
linked Zoom user), re-linked teacher (their halaka's host is no longer their linked user), unapproved
teacher, and admin (the cast is in tests/security/world.py).

`DECISIONS` holds one entry per (method, route rule) of `app.url_map`; each entry lists, for a role, the
requests to make and the exact status each must get (own vs another teacher's halaka, enrolled vs not,
role 0 vs 1 signatures, linked vs foreign Zoom user…). The tests are generated from the app's routes, not
from `DECISIONS`: a route added later without a decision fails `test_route_access` until someone writes
down who may call it.

Public routes (health, OpenAPI document and UI, register, login) must answer every role exactly as they
answer an anonymous caller, and never 401/403.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from api import create_app
from shared.settings import get_settings
from tests.conftest import METRICS_TOKEN
from tests.factories import PASSWORD, calendar_feed_path
from tests.security.world import (
    NEW_ZOOM_USER,
    OLD_ZOOM_USER,
    OTHER_ZOOM_USER,
    ROLES,
    SHARED_HOST,
    TEACHER_ROLES,
    TEACHER_ZOOM_USER,
    UNAPPROVED_ZOOM_USER,
    Person,
    World,
    build_world,
)

IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by Flask for every rule

# (description, method, path, client kwargs, expected status)
Probe = tuple[str, str, str, dict, int]
Decide = Callable[[World, str, Person | None], list[Probe]]


def _routes() -> list[tuple[str, str]]:
    app = create_app()
    return sorted(
        (method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - IGNORED_METHODS
    )


def _auth(who: Person | None, token: str | None = None) -> dict:
    if who is None:
        return {}
    return {"headers": {"Authorization": f"Bearer {token or who.token}"}}


def _halaka_body(teacher_id: int | None = None) -> dict:
    start = datetime.now(UTC).date() + timedelta(days=10)
    body = {
        "title": "Matrix halaka",
        "schedule": {
            "frequency": "weekly",
            "days": ["monday"],
            "startTime": "17:00",
            "duration": 60,
            "startDate": start.isoformat(),
            "endDate": (start + timedelta(days=30)).isoformat(),
            "timezone": "Africa/Cairo",
        },
    }
    if teacher_id is not None:
        body["teacherId"] = teacher_id
    return body


def public(path: str, method: str = "GET", json: dict | None = None) -> Decide:
    """Same answer for everyone; `expected` is whatever the anonymous caller gets (checked separately)."""

    def decide(w: World, role: str, who: Person | None) -> list[Probe]:
        kwargs = {"json": json} if json is not None else {}
        return [("public", method, path, {**kwargs, **_auth(who)}, -1)]

    return decide


def any_user(method: str, path_of: Callable[[World], str], ok: int = 200, **kwargs) -> Decide:
    """Any authenticated user; 401 without a token."""

    def decide(w: World, role: str, who: Person | None) -> list[Probe]:
        return [("authenticated", method, path_of(w), {**kwargs, **_auth(who)}, 401 if who is None else ok)]

    return decide


def manage(method: str, suffix: str = "", ok: int = 200, **kwargs) -> Decide:
    """Update/delete/retry: the halaka's own (approved) teacher or an admin; others 403."""

    def decide(w: World, role: str, who: Person | None) -> list[Probe]:
        own = f"/api/v1/halaka/{w.own_of(role)}{suffix}"
        other = f"/api/v1/halaka/{w.foreign_of(role)}{suffix}"
        if who is None:
            return [("anonymous", method, own, kwargs, 401)]
        expected = {
            "student": (403, 403),
            "teacher": (ok, 403),
            "shared_teacher": (ok, 403),
            "relinked_teacher": (ok, 403),
            "unapproved_teacher": (403, 403),
            "admin": (ok, ok),
        }[role]
        return [
            ("another teacher's halaka", method, other, {**kwargs, **_auth(who)}, expected[1]),
            ("own halaka", method, own, {**kwargs, **_auth(who)}, expected[0]),
        ]

    return decide


def admin_only(method: str, path_of: Callable[[World], str], **kwargs) -> Decide:
    def decide(w: World, role: str, who: Person | None) -> list[Probe]:
        expected = {"anonymous": 401, "admin": 200}.get(role, 403)
        return [("admin only", method, path_of(w), {**kwargs, **_auth(who)}, expected)]

    return decide


def students_only(method: str) -> Decide:
    def decide(w: World, role: str, who: Person | None) -> list[Probe]:
        expected = {"anonymous": 401, "student": 200}.get(role, 403)
        return [("students only", method, f"/api/v1/halaka/{w.own}/enroll", _auth(who), expected)]

    return decide


def create_halaka(w: World, role: str, who: Person | None) -> list[Probe]:
    path = "/api/v1/halaka/"
    if who is None:
        return [("anonymous", "POST", path, {"json": _halaka_body()}, 401)]
    if role == "student":
        return [
            ("student", "POST", path, {"json": _halaka_body(), **_auth(who)}, 403),
            ("student for a teacher", "POST", path, {"json": _halaka_body(w.teacher.id), **_auth(who)}, 403),
        ]
    if role in TEACHER_ROLES:
        own = 403 if role == "unapproved_teacher" else 201  # a shared-host teacher within its budget
        another = w.other_teacher.id if role == "teacher" else w.teacher.id
        return [
            ("for another teacher", "POST", path, {"json": _halaka_body(another), **_auth(who)}, 403),
            ("own", "POST", path, {"json": _halaka_body(), **_auth(who)}, own),
        ]
    return [
        ("admin without teacherId", "POST", path, {"json": _halaka_body(), **_auth(who)}, 400),
        ("admin for a teacher", "POST", path, {"json": _halaka_body(w.teacher.id), **_auth(who)}, 201),
        (
            "admin for an unapproved teacher",
            "POST",
            path,
            {"json": _halaka_body(w.unapproved_teacher.id), **_auth(who)},
            400,
        ),
    ]


def signature(w: World, role: str, who: Person | None) -> list[Probe]:
    path = "/api/v1/zoom/signature"

    def body(halaka: int, sig_role: int) -> dict:
        return {"json": {"meetingNumber": str(w.meetings[halaka]), "role": sig_role}}

    if who is None:
        return [("anonymous", "POST", path, body(w.own, 0), 401)]
    expected = {
        # (own role 0, own role 1, other role 0, other role 1); the student is enrolled in own and other
        "student": (201, 403, 201, 403),
        "teacher": (201, 201, 403, 403),
        "shared_teacher": (201, 403, 403, 403),  # the shared host is not theirs to start
        "relinked_teacher": (201, 403, 403, 403),  # their halaka's host is no longer their Zoom user
        "unapproved_teacher": (403, 403, 403, 403),  # reads like a student enrolled nowhere
        "admin": (201, 201, 201, 201),
    }[role]
    own, other = w.own_of(role), w.foreign_of(role)
    probes = [
        ("own halaka, role 0", "POST", path, {**body(own, 0), **_auth(who)}, expected[0]),
        ("own halaka, role 1", "POST", path, {**body(own, 1), **_auth(who)}, expected[1]),
        ("other halaka, role 0", "POST", path, {**body(other, 0), **_auth(who)}, expected[2]),
        ("other halaka, role 1", "POST", path, {**body(other, 1), **_auth(who)}, expected[3]),
        (
            "meeting of no halaka",
            "POST",
            path,
            {"json": {"meetingNumber": "70000000001", "role": 0}, **_auth(who)},
            404,
        ),
    ]
    if role == "student":
        probes.append(
            ("student not enrolled, role 0", "POST", path, {**body(w.own, 0), **_auth(w.outsider)}, 403)
        )
    return probes


def zak(w: World, role: str, who: Person | None) -> list[Probe]:
    """(the persona's linked Zoom user, the Zoom user hosting its halaka when that differs or a foreign
    one): a ZAK is a user-level credential, so only one's own linked user, and only when approved."""
    path = "/api/v1/zoom/zak-token"

    def ask(user: str) -> dict:
        return {"json": {"userId": user}, **_auth(who)}

    if who is None:
        return [("anonymous", "POST", path, {"json": {"userId": TEACHER_ZOOM_USER}}, 401)]
    linked, other, expected = {
        "student": (TEACHER_ZOOM_USER, OTHER_ZOOM_USER, (403, 403)),
        "teacher": (TEACHER_ZOOM_USER, OTHER_ZOOM_USER, (200, 403)),
        "shared_teacher": (SHARED_HOST, SHARED_HOST.upper(), (403, 403)),  # hosted there, never linked
        "relinked_teacher": (NEW_ZOOM_USER, OLD_ZOOM_USER, (200, 403)),
        "unapproved_teacher": (UNAPPROVED_ZOOM_USER, OTHER_ZOOM_USER, (403, 403)),
        "admin": (TEACHER_ZOOM_USER, OTHER_ZOOM_USER, (200, 200)),
    }[role]
    return [
        (f"{linked} (the persona's link or host)", "POST", path, ask(linked), expected[0]),
        (f"{other}", "POST", path, ask(other), expected[1]),
    ]


def start(w: World, role: str, who: Person | None) -> list[Probe]:
    """A fresh start link: the meeting's own host (approved, linked to the Zoom user hosting it), admins."""

    def path(halaka: int) -> str:
        return f"/api/v1/halaka/{halaka}/start"

    if who is None:
        return [("anonymous", "POST", path(w.own), {}, 401)]
    expected = {"teacher": (200, 403), "admin": (200, 200)}.get(role, (403, 403))
    return [
        ("own halaka", "POST", path(w.own_of(role)), _auth(who), expected[0]),
        ("another teacher's halaka", "POST", path(w.foreign_of(role)), _auth(who), expected[1]),
    ]


def patch_user(w: World, role: str, who: Person | None) -> list[Probe]:
    if who is None:
        return [("anonymous", "PATCH", f"/api/v1/users/{w.student.id}", {"json": {"name": "x"}}, 401)]
    if role == "admin":
        return [
            (
                "admin renames",
                "PATCH",
                f"/api/v1/users/{w.student.id}",
                {"json": {"name": "Renamed"}, **_auth(who)},
                200,
            ),
            (
                "second teacher linked to the same Zoom user",
                "PATCH",
                f"/api/v1/users/{w.other_teacher.id}",
                {"json": {"zoomUserId": TEACHER_ZOOM_USER.upper()}, **_auth(who)},
                409,
            ),
            (
                "admin approves a teacher",
                "PATCH",
                f"/api/v1/users/{w.unapproved_teacher.id}",
                {"json": {"approved": True}, **_auth(who)},
                200,
            ),
        ]
    return [
        ("promote self", "PATCH", f"/api/v1/users/{who.id}", {"json": {"role": "admin"}, **_auth(who)}, 403),
        (
            "link own Zoom user",
            "PATCH",
            f"/api/v1/users/{who.id}",
            {"json": {"zoomUserId": OTHER_ZOOM_USER}, **_auth(who)},
            403,
        ),
        (
            "change another",
            "PATCH",
            f"/api/v1/users/{w.admin.id}",
            {"json": {"active": False}, **_auth(who)},
            403,
        ),
    ]


def refresh(w: World, role: str, who: Person | None) -> list[Probe]:
    if who is None:
        return [("anonymous", "POST", "/api/v1/auth/refresh", {}, 401)]
    return [
        ("with an access token", "POST", "/api/v1/auth/refresh", _auth(who), 401),
        ("with the refresh token", "POST", "/api/v1/auth/refresh", _auth(who, who.refresh_token), 200),
    ]


def register(w: World, role: str, who: Person | None) -> list[Probe]:
    body = {"name": "New", "email": f"new-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
    return [
        (
            "register a student",
            "POST",
            "/api/v1/auth/register",
            {"json": {**body, "role": "student"}, **_auth(who)},
            201,
        ),
        (
            "register an admin",
            "POST",
            "/api/v1/auth/register",
            {"json": {**body, "email": "x" + body["email"], "role": "admin"}, **_auth(who)},
            400,
        ),
    ]


def login(w: World, role: str, who: Person | None) -> list[Probe]:
    body = {"email": w.student.email, "password": PASSWORD}
    return [("login", "POST", "/api/v1/auth/login", {"json": body, **_auth(who)}, 200)]


def prometheus(w: World, role: str, who: Person | None) -> list[Probe]:
    """`/metrics` takes the METRICS_TOKEN bearer only: no user's JWT, an admin's included, opens it."""
    probes: list[Probe] = [("a user's JWT is not the metrics token", "GET", "/metrics", _auth(who), 401)]
    if role == "admin":
        operator = {"headers": {"Authorization": f"Bearer {METRICS_TOKEN}"}}
        probes.append(("the metrics token", "GET", "/metrics", operator, 200))
    return probes


def member_read(suffix: str, refused: int, *variants: str) -> Decide:
    """A halaka's read for its members: the (approved) teacher of their own, an enrolled student, admins;
    `refused` for anyone else. `variants`: query strings probed like the plain path on the own halaka."""

    def decide(w: World, role: str, who: Person | None) -> list[Probe]:
        own = f"/api/v1/halaka/{w.own_of(role)}{suffix}"
        other = f"/api/v1/halaka/{w.foreign_of(role)}{suffix}"
        if who is None:
            return [("anonymous", "GET", own, {}, 401)]
        expected = {
            "student": (200, 200),  # enrolled in both
            "teacher": (200, refused),
            "shared_teacher": (200, refused),
            "relinked_teacher": (200, refused),
            "unapproved_teacher": (refused, refused),
            "admin": (200, 200),
        }[role]
        probes = [
            ("own halaka", "GET", own, _auth(who), expected[0]),
            ("another teacher's halaka", "GET", other, _auth(who), expected[1]),
            *((f"own halaka, {q}", "GET", own + q, _auth(who), expected[0]) for q in variants),
        ]
        if role == "student":
            probes.append(("student not enrolled", "GET", own, _auth(w.outsider), refused))
        return probes

    return decide


# attendance: everyone's rows for the teacher and admins, an enrolled student's own (403 for others);
# one halaka's calendar: 404 for others, as if it did not exist
attendance = member_read("/attendance", 403, "?format=csv")
halaka_calendar = member_read("/calendar.ics", 404)


def zoom_webhook(w: World, role: str, who: Person | None) -> list[Probe]:
    """Zoom's signature, not a JWT: every caller gets the same answer (503 here, no secret configured;
    401 for a bad signature once one is, see tests/api/test_zoom_webhook.py)."""
    return [("unsigned", "POST", "/api/v1/zoom/webhook", {"json": {"event": "x"}, **_auth(who)}, 503)]


def _first_session(halaka_id: int) -> str:
    from shared.db import session_scope
    from shared.models import Halaka
    from shared.sessions import occurrence_id_of
    from shared.zoom.recurrence import sessions

    with session_scope() as s:
        [first] = sessions(s.get(Halaka, halaka_id).schedule, after=datetime.now(UTC), limit=1)
    return occurrence_id_of(first.start_utc)


def manage_session(method: str, action: str = "", ok: int = 200, **kwargs) -> Decide:
    """Single-session changes: like `manage`, on the first session of each halaka."""

    def decide(w: World, role: str, who: Person | None) -> list[Probe]:
        probes = manage(method, "", ok, **kwargs)(w, role, who)
        out = []
        for what, verb, path, kw, expected in probes:
            halaka_id = int(path.rsplit("/", 1)[-1])
            out.append((what, verb, f"{path}/sessions/{_first_session(halaka_id)}{action}", kw, expected))
        return out

    return decide


def calendar_feed(w: World, role: str, who: Person | None) -> list[Probe]:
    """The secret URL is the credential: its user's feed with or without a JWT, anyone else's token
    (or none) 404."""
    unknown = ("unknown token", "GET", "/api/v1/calendar/" + "A" * 43 + ".ics", _auth(who), 404)
    if who is None:
        return [unknown]
    path = calendar_feed_path(who.id)
    return [
        ("own feed, no JWT", "GET", path, {}, 200),
        ("own feed with a JWT", "GET", path, _auth(who), 200),
        unknown,
    ]


def _extra_day() -> str:
    return (datetime.now(UTC).date() + timedelta(days=10)).isoformat()


def _halaka(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/halaka/{w.other}{suffix}"


DECISIONS: dict[tuple[str, str], Decide] = {
    # operator and documentation routes: public
    ("GET", "/healthz"): public("/healthz"),
    ("GET", "/readyz"): public("/readyz"),
    ("GET", "/static/<path:filename>"): public("/static/none.css"),
    ("GET", "/api/v1/"): public("/api/v1/"),
    ("GET", "/api/v1/openapi.json"): public("/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"): public("/api/v1/docs"),
    ("GET", "/api/v1/swagger"): public("/api/v1/swagger"),
    ("GET", "/api/v1/swagger/<path:filename>"): public("/api/v1/swagger/none.css"),
    ("GET", "/api/v1/static/<path:filename>"): public("/api/v1/static/none.css"),
    ("GET", "/api/v1/oauth2-redirect.html"): public("/api/v1/oauth2-redirect.html"),
    # auth (docs/api.md)
    ("POST", "/api/v1/auth/register"): register,
    ("POST", "/api/v1/auth/login"): login,
    ("GET", "/api/v1/auth/me"): any_user("GET", lambda w: "/api/v1/auth/me"),
    ("POST", "/api/v1/auth/refresh"): refresh,
    ("POST", "/api/v1/auth/logout"): any_user("POST", lambda w: "/api/v1/auth/logout", json={}),
    ("POST", "/api/v1/auth/logout-all"): any_user("POST", lambda w: "/api/v1/auth/logout-all"),
    # users: admin only
    ("GET", "/api/v1/users/"): admin_only("GET", lambda w: "/api/v1/users/"),
    ("PATCH", "/api/v1/users/<int:id>"): patch_user,
    # operators' metrics: admin only; Prometheus exposition with the metrics token
    ("GET", "/metrics"): prometheus,
    ("GET", "/api/v1/ops/metrics"): admin_only("GET", lambda w: "/api/v1/ops/metrics"),
    # halaka (README, Trust model)
    ("POST", "/api/v1/halaka/"): create_halaka,
    ("GET", "/api/v1/halaka/"): any_user("GET", lambda w: "/api/v1/halaka/"),
    ("GET", "/api/v1/halaka/<int:id>"): any_user("GET", _halaka()),
    ("GET", "/api/v1/halaka/<int:id>/sessions"): any_user("GET", _halaka("/sessions")),
    ("PATCH", "/api/v1/halaka/<int:id>"): manage("PATCH", json={"title": "Renamed"}),
    # single sessions (issue 11): the halaka's teacher and admins; restore needs a cancelled one (409)
    ("POST", "/api/v1/halaka/<int:id>/sessions/<occurrence_id>/cancel"): manage_session(
        "POST", "/cancel", json={"reason": "Eid"}
    ),
    ("POST", "/api/v1/halaka/<int:id>/sessions/<occurrence_id>/restore"): manage_session(
        "POST", "/restore", ok=409
    ),
    ("PATCH", "/api/v1/halaka/<int:id>/sessions/<occurrence_id>"): manage_session(
        "PATCH", json={"duration": 45}
    ),
    ("POST", "/api/v1/halaka/<int:id>/sessions"): manage(
        "POST", "/sessions", ok=201, json={"date": _extra_day(), "startTime": "09:00"}
    ),
    ("DELETE", "/api/v1/halaka/<int:id>"): manage("DELETE"),
    ("POST", "/api/v1/halaka/<int:id>/zoom/retry"): manage("POST", "/zoom/retry"),
    ("POST", "/api/v1/halaka/<int:id>/start"): start,
    ("POST", "/api/v1/halaka/<int:id>/enroll"): students_only("POST"),
    ("DELETE", "/api/v1/halaka/<int:id>/enroll"): students_only("DELETE"),
    # zoom (docs/api.md, README Trust model)
    ("POST", "/api/v1/zoom/signature"): signature,
    ("POST", "/api/v1/zoom/zak-token"): zak,
    ("POST", "/api/v1/zoom/webhook"): zoom_webhook,
    ("GET", "/api/v1/halaka/<int:id>/attendance"): attendance,
    # calendar feeds (issue 11)
    ("GET", "/api/v1/calendar/token"): any_user("GET", lambda w: "/api/v1/calendar/token"),
    ("POST", "/api/v1/calendar/token"): any_user("POST", lambda w: "/api/v1/calendar/token"),
    ("GET", "/api/v1/calendar/<token>.ics"): calendar_feed,
    ("GET", "/api/v1/halaka/<int:id>/calendar.ics"): halaka_calendar,
}

ROUTES = _routes()


def build_world_users_on(sandbox) -> None:
    """Every Zoom user the ZAK probes name exists on the sandbox (so 200 means allowed, not a 404)."""
    known = {u["email"] for u in sandbox.users()}
    for email in (OLD_ZOOM_USER, NEW_ZOOM_USER, UNAPPROVED_ZOOM_USER):
        if email not in known:
            sandbox.add_user(email)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "rule"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_route_access(request, monkeypatch, app, client, method, rule, role):
    decide = DECISIONS.get((method, rule))
    assert decide is not None, (
        f"{method} {rule} has no access decision: add it to DECISIONS in {__name__} (README, Trust model)"
    )
    sandbox = None
    if decide in (zak, start):
        sandbox = request.getfixturevalue("zoom_configured")  # the sandbox answers ZAK and start calls
    else:  # a shared-host teacher may create halakat without any Zoom call
        monkeypatch.setattr(get_settings(), "zoom_default_host_user", SHARED_HOST)
    # retry is only allowed on a failed halaka: make both failed so success is 200, not 409
    status = "failed" if rule.endswith("/zoom/retry") else "ready"
    world = build_world(app, status=status, zoom=sandbox if decide is start else None)
    if decide is zak:
        build_world_users_on(sandbox)
    who = None if role == "anonymous" else world.as_role(role)
    problems = []
    for what, verb, path, kwargs, expected in decide(world, role, who):
        response = client.open(path, method=verb, **kwargs)
        if expected == -1:  # public: as an anonymous caller
            anonymous = client.open(path, method=verb, **{k: v for k, v in kwargs.items() if k != "headers"})
            expected = anonymous.status_code
            if expected in (401, 403):
                problems.append(f"{what}: a public route answered {expected} to an anonymous caller")
        if response.status_code != expected:
            body = response.get_data(as_text=True)[:200]
            problems.append(
                f"{what}: {verb} {path} as {role} -> {response.status_code}, expected {expected}: {body}"
            )
        elif response.status_code >= 400 and response.is_json:
            assert response.json["status"] == "error"
    assert not problems, "\n".join(problems)


def test_decisions_cover_only_real_routes():
    """A decision for a route that no longer exists is a stale entry (e.g. a renamed path): remove it."""
    stale = sorted(set(DECISIONS) - set(ROUTES))
    assert not stale, f"decisions for routes the app does not register: {stale}"
