"""Halaka endpoints without a worker: validation, roles, visibility (README, Trust model)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from shared.db import session_scope
from shared.models import Halaka
from shared.zoom.recurrence import WEEKDAYS
from tests.factories import enroll, make_halaka
from tests.integration.helpers import future, schedule

LINK = "teacher-zoom@example.com"


def body(**schedule_kw) -> dict:
    return {"title": "Tajweed", "description": "d", "schedule": schedule(**schedule_kw)}


@pytest.fixture
def teacher(make_user):
    return make_user("teacher", zoom_user_id=LINK)


def test_create_answers_pending_without_calling_zoom(client, teacher):
    r = client.post("/api/v1/halaka/", json=body(), headers=teacher.headers)
    assert r.status_code == 201 and r.json["status"] == "created"
    data = r.json["data"]
    assert data["zoomStatus"] == "pending" and data["zoomMeeting"] is None and data["zoomMeetings"] == []
    assert data["teacher"]["id"] == teacher.id
    assert data["schedule"]["startTime"] == "17:00" and data["schedule"]["days"] == ["monday", "wednesday"]


def test_iso_datetime_dates_use_the_date_part(client, teacher):
    r = client.post(
        "/api/v1/halaka/",
        json=body(startDate=future(3) + "T10:00:00Z", endDate=future(40) + "T23:59:59+02:00"),
        headers=teacher.headers,
    )
    assert r.status_code == 201
    assert r.json["data"]["schedule"]["startDate"] == future(3)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"days": ["funday"]}, "schedule.days.0"),
        ({"endDate": future(1), "startDate": future(5)}, "schedule.endDate"),
        ({"startTime": "25:00"}, "schedule.startTime"),
        ({"startTime": "5pm"}, "schedule.startTime"),
        ({"timezone": "Mars/Olympus"}, "schedule.timezone"),
        ({"days": []}, "schedule.days"),
        ({"duration": 0}, "schedule.duration"),
        ({"duration": 1441}, "schedule.duration"),
        ({"frequency": "yearly"}, "schedule.frequency"),
        ({"startDate": "2026-02-30"}, "schedule.startDate"),
        ({"days": ["monday"], "startDate": "2030-01-01", "endDate": "2030-01-01"}, "schedule.days"),
        ({"startDate": future(-30), "endDate": future(-1)}, "schedule.endDate"),
        ({"frequency": "monthly", "startDate": "2030-01-31", "endDate": "2030-12-31"}, "schedule.startDate"),
        ({"frequency": "daily", "startDate": future(3), "endDate": future(1200)}, "schedule.endDate"),
    ],
    ids=[
        "unknown-weekday",
        "end-before-start",
        "hour-25",
        "not-hhmm",
        "unknown-timezone",
        "weekly-no-days",
        "duration-0",
        "duration-1441",
        "unknown-frequency",
        "impossible-date",
        "no-session",
        "all-past",
        "monthly-31st",
        "too-many-sessions",
    ],
)
def test_schedule_validation_names_the_field(client, teacher, change, field):
    r = client.post(
        "/api/v1/halaka/", json={"title": "T", "schedule": {**schedule(), **change}}, headers=teacher.headers
    )
    assert r.status_code == 400, r.json
    assert r.json["status"] == "error"
    assert field in [e["field"] for e in r.json["errors"]], r.json


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"schedule": schedule()}, "title"),
        ({"title": "  ", "schedule": schedule()}, "title"),
        ({"title": "x" * 201, "schedule": schedule()}, "title"),
        ({"title": "T"}, "schedule"),
    ],
    ids=["missing-title", "blank-title", "long-title", "missing-schedule"],
)
def test_halaka_fields_validated(client, teacher, payload, field):
    r = client.post("/api/v1/halaka/", json=payload, headers=teacher.headers)
    assert r.status_code == 400 and field in [e["field"] for e in r.json["errors"]]


def test_student_cannot_create(client, make_user):
    student = make_user("student")
    assert client.post("/api/v1/halaka/", json=body(), headers=student.headers).status_code == 403


def test_admin_creates_for_a_teacher(client, make_user, teacher):
    admin = make_user("admin")
    r = client.post("/api/v1/halaka/", json=body(), headers=admin.headers)
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "teacherId"
    r = client.post("/api/v1/halaka/", json={**body(), "teacherId": admin.id}, headers=admin.headers)
    assert r.status_code == 400
    r = client.post("/api/v1/halaka/", json={**body(), "teacherId": teacher.id}, headers=admin.headers)
    assert r.status_code == 201 and r.json["data"]["teacher"]["id"] == teacher.id


def test_teacher_cannot_create_for_another(client, make_user, teacher):
    other = make_user("teacher", zoom_user_id="other@example.com")
    r = client.post("/api/v1/halaka/", json={**body(), "teacherId": other.id}, headers=teacher.headers)
    assert r.status_code == 403


def test_no_zoom_host_is_409(client, make_user):
    unlinked = make_user("teacher")
    r = client.post("/api/v1/halaka/", json=body(), headers=unlinked.headers)
    assert r.status_code == 409
    assert "admin must link a Zoom user" in r.json["message"]


VIEWERS = ["admin", "owner", "other-teacher", "enrolled-student", "student"]
# viewer -> (password and joinUrl visible, zoomError visible); startUrl: tests/security/test_trust.py
EXPECTED = {
    "admin": (True, True),
    "owner": (True, True),
    "other-teacher": (False, False),
    "enrolled-student": (True, False),
    "student": (False, False),
}
ZOOM_ERROR = "Zoom user host@example.com is not allowed to host meetings"


@pytest.fixture
def scene(make_user, teacher):
    accounts = {
        "admin": make_user("admin"),
        "owner": teacher,
        "other-teacher": make_user("teacher", zoom_user_id="x@example.com"),
        "enrolled-student": make_user("student"),
        "student": make_user("student"),
    }
    halaka_id = make_halaka(teacher.id, meeting_ids=(81234567890, 81234567891))
    with session_scope() as s:
        s.execute(update(Halaka).where(Halaka.id == halaka_id).values(zoom_error=ZOOM_ERROR))
    enroll(halaka_id, accounts["enrolled-student"].id)
    return accounts, halaka_id


@pytest.mark.parametrize("who", VIEWERS)
def test_meeting_fields_visibility(client, scene, who):
    accounts, halaka_id = scene
    join, error = EXPECTED[who]
    single = client.get(f"/api/v1/halaka/{halaka_id}", headers=accounts[who].headers).json["data"]
    listed = client.get("/api/v1/halaka/", headers=accounts[who].headers).json["data"]["items"]
    for data in (single, listed[0]):
        assert data["enrolled"] is (who == "enrolled-student")
        assert data["zoomStatus"] == "ready"
        assert (data.get("zoomError") == ZOOM_ERROR) is error and ("zoomError" in data) is error
        for meeting in [data["zoomMeeting"], *data["zoomMeetings"]]:
            assert meeting["meetingId"].isdigit()
            assert ("password" in meeting) is join and ("joinUrl" in meeting) is join
            assert "startUrl" not in meeting  # the owner is on a shared host; lists never carry one


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin", 200), ("owner", 200), ("other-teacher", 403), ("enrolled-student", 403), ("student", 403)],
)
def test_update_rights(client, scene, who, status):
    accounts, halaka_id = scene
    r = client.patch(f"/api/v1/halaka/{halaka_id}", json={"title": "Renamed"}, headers=accounts[who].headers)
    assert r.status_code == status
    r = client.post(f"/api/v1/halaka/{halaka_id}/zoom/retry", headers=accounts[who].headers)
    assert r.status_code == (409 if status == 200 else 403)


@pytest.mark.parametrize(
    ("who", "status"),
    [("other-teacher", 403), ("student", 403), ("owner", 200), ("admin", 200)],
)
def test_delete_rights(client, scene, who, status):
    accounts, halaka_id = scene
    r = client.delete(f"/api/v1/halaka/{halaka_id}", headers=accounts[who].headers)
    assert r.status_code == status
    if status == 200:
        assert r.json["data"]["zoomStatus"] == "deleting"
        r = client.patch(f"/api/v1/halaka/{halaka_id}", json={"title": "x"}, headers=accounts[who].headers)
        assert r.status_code == 409


def test_title_change_is_local_but_schedule_change_goes_to_zoom(client, scene):
    accounts, halaka_id = scene
    owner = accounts["owner"]
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"title": "New", "description": "More"}, headers=owner.headers
    )
    assert r.json["data"]["zoomStatus"] == "ready" and r.json["data"]["title"] == "New"
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"schedule": {"startTime": "17:00"}}, headers=owner.headers
    )
    assert r.json["data"]["zoomStatus"] == "ready", "an unchanged schedule is not a change"
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"schedule": {"duration": 90}}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json["data"]["zoomStatus"] == "updating"
    assert r.json["data"]["schedule"]["duration"] == 90
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"schedule": {"days": ["funday"]}}, headers=owner.headers
    )
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "schedule.days.0"


def test_enroll_and_unenroll(client, scene):
    accounts, halaka_id = scene
    student = accounts["student"]
    for _ in range(2):
        assert client.post(f"/api/v1/halaka/{halaka_id}/enroll", headers=student.headers).status_code == 200
    mine = client.get("/api/v1/halaka/?enrolled=true", headers=student.headers).json["data"]
    assert [h["id"] for h in mine["items"]] == [halaka_id] and mine["total"] == 1
    assert client.delete(f"/api/v1/halaka/{halaka_id}/enroll", headers=student.headers).status_code == 200
    mine = client.get("/api/v1/halaka/?enrolled=true", headers=student.headers).json["data"]
    assert mine["items"] == []
    for who in ("owner", "admin", "other-teacher"):
        r = client.post(f"/api/v1/halaka/{halaka_id}/enroll", headers=accounts[who].headers)
        assert r.status_code == 403
    assert client.post("/api/v1/halaka/999999/enroll", headers=student.headers).status_code == 404


def test_list_filters_and_pages(client, scene, make_user):
    accounts, _ = scene
    owner, other = accounts["owner"], accounts["other-teacher"]
    for i in range(3):
        make_halaka(other.id, title=f"Other {i}", status="pending")
    everything = client.get("/api/v1/halaka/?perPage=2", headers=owner.headers).json["data"]
    assert everything["total"] == 4 and len(everything["items"]) == 2
    mine = client.get("/api/v1/halaka/?mine=true", headers=owner.headers).json["data"]
    assert [h["teacher"]["id"] for h in mine["items"]] == [owner.id]
    by_teacher = client.get(f"/api/v1/halaka/?teacherId={other.id}", headers=owner.headers).json["data"]
    assert by_teacher["total"] == 3
    pending = client.get("/api/v1/halaka/?zoomStatus=pending", headers=owner.headers).json["data"]
    assert pending["total"] == 3
    r = client.get("/api/v1/halaka/?perPage=1000", headers=owner.headers)
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "perPage"


def test_sessions_in_timezone_and_utc(client, scene):
    accounts, halaka_id = scene
    r = client.get(f"/api/v1/halaka/{halaka_id}/sessions?limit=5", headers=accounts["student"].headers)
    assert r.status_code == 200
    data = r.json["data"]
    assert data["timezone"] == "Africa/Cairo" and len(data["sessions"]) == 5
    for s in data["sessions"]:
        local = datetime.fromisoformat(s["startLocal"])
        assert local.strftime("%H:%M") == "17:00" and local.strftime("%A").lower() in ("monday", "wednesday")
        assert datetime.fromisoformat(s["startUtc"]) == local.astimezone(UTC)
        assert datetime.fromisoformat(s["startUtc"]) > datetime.now(UTC)
    assert datetime.fromisoformat(data["sessions"][0]["startUtc"]) < datetime.now(UTC) + timedelta(days=10)


def test_unknown_halaka_404(client, teacher):
    for method, path in [
        ("get", "/api/v1/halaka/424242"),
        ("patch", "/api/v1/halaka/424242"),
        ("delete", "/api/v1/halaka/424242"),
        ("get", "/api/v1/halaka/424242/sessions"),
    ]:
        kwargs = {"json": {"title": "x"}} if method == "patch" else {}
        r = getattr(client, method)(path, headers=teacher.headers, **kwargs)
        assert r.status_code == 404 and r.json["status"] == "error", (method, path)


HOSTILE = {
    "weekly-all-days-to-9999": (
        {"frequency": "weekly", "days": list(WEEKDAYS), "endDate": "9999-12-31"},
        "schedule.endDate",
    ),
    "daily-to-9999-new-york": (
        {"frequency": "daily", "endDate": "9999-12-31", "timezone": "America/New_York"},
        "schedule.endDate",
    ),
    "start-in-year-1": ({"startDate": "0001-01-02"}, "schedule.startDate"),
    "start-and-end-in-9999": (
        {"frequency": "daily", "startDate": "9999-12-30", "endDate": "9999-12-31"},
        "schedule.startDate",
    ),
    "monthly-to-9999": ({"frequency": "monthly", "endDate": "9999-12-31"}, "schedule.endDate"),
    "biweekly-from-year-1": (
        {"frequency": "biweekly", "startDate": "0001-01-01", "endDate": "9999-12-31"},
        "schedule.startDate",
    ),
    "start-past-the-horizon": ({"startDate": future(800), "endDate": future(820)}, "schedule.startDate"),
    "daily-five-years": ({"frequency": "daily", "endDate": future(1800)}, "schedule.endDate"),
    "year-10000": ({"endDate": "10000-01-01"}, "schedule.endDate"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_schedules_are_400_naming_the_field_on_create_and_patch(client, scene, case):
    accounts, halaka_id = scene
    change, field = HOSTILE[case]
    owner = accounts["owner"]
    r = client.post(
        "/api/v1/halaka/", json={"title": "T", "schedule": {**schedule(), **change}}, headers=owner.headers
    )
    assert r.status_code == 400, r.json
    assert field in [e["field"] for e in r.json["errors"]], r.json
    r = client.patch(f"/api/v1/halaka/{halaka_id}", json={"schedule": change}, headers=owner.headers)
    assert r.status_code == 400, r.json
    assert field in [e["field"] for e in r.json["errors"]], r.json


def test_a_halaka_stored_before_the_bounds_lists_sessions_and_stays_editable(client, scene):
    from sqlalchemy import update

    from shared.db import session_scope
    from shared.models import Halaka

    accounts, halaka_id = scene
    with session_scope() as s:
        s.execute(
            update(Halaka)
            .where(Halaka.id == halaka_id)
            .values(frequency="daily", days=[], start_date=date(1, 1, 2), end_date=date(9999, 12, 31),
                    timezone="America/New_York")
        )  # fmt: skip
    r = client.get(f"/api/v1/halaka/{halaka_id}/sessions?limit=500", headers=accounts["student"].headers)
    assert r.status_code == 200 and len(r.json["data"]["sessions"]) == 500
    owner = accounts["owner"]
    r = client.patch(f"/api/v1/halaka/{halaka_id}", json={"title": "Renamed"}, headers=owner.headers)
    assert r.status_code == 200
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"schedule": {"duration": 30}}, headers=owner.headers
    )
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "schedule.endDate"


def test_an_old_start_date_kept_by_a_patch_is_not_refused(client, scene):
    from sqlalchemy import update

    from shared.db import session_scope
    from shared.models import Halaka

    accounts, halaka_id = scene
    with session_scope() as s:
        s.execute(
            update(Halaka).where(Halaka.id == halaka_id).values(start_date=date.today() - timedelta(days=500))
        )
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}",
        json={"schedule": {"startTime": "18:00"}},
        headers=accounts["owner"].headers,
    )
    assert r.status_code == 200, r.json
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}",
        json={"schedule": {"startDate": (date.today() - timedelta(days=400)).isoformat()}},
        headers=accounts["owner"].headers,
    )
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "schedule.startDate"
