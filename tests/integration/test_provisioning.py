"""Create → a real Celery worker provisions on the sandbox → GET shows it ready (docs/architecture.md)."""

from __future__ import annotations

from datetime import time

import pytest

from shared.zoom.recurrence import Schedule, sessions
from tests.integration.helpers import (
    as_date,
    create,
    keyed_meetings,
    sandbox_meetings_of,
    schedule,
    utc,
    wait_status,
)

CASES = {
    "daily": ({"frequency": "daily", "length_days": 9}, {"type": 1, "repeat_interval": 1}),
    "weekly": (
        {"frequency": "weekly", "days": ["monday", "wednesday"]},
        {"type": 2, "repeat_interval": 1, "weekly_days": "2,4"},
    ),
    "biweekly": (
        {"frequency": "biweekly", "days": ["sunday", "thursday"], "length_days": 60},
        {"type": 2, "repeat_interval": 2, "weekly_days": "1,5"},
    ),
    "monthly": (
        {"frequency": "monthly", "start_in": 3, "length_days": 150},
        {"type": 3, "repeat_interval": 1},
    ),
}


def _expected_sessions(body: dict) -> list:
    s = body
    return sessions(
        Schedule(
            s["frequency"],
            tuple(s["days"]),
            time.fromisoformat(s["startTime"]),
            s["duration"],
            as_date(s["startDate"]),
            as_date(s["endDate"]),
            s["timezone"],
        )
    )


@pytest.mark.parametrize("case", list(CASES))
def test_each_frequency_provisions_a_matching_recurring_meeting(
    client, make_user, worker, zoom_sandbox, case
):
    sandbox_kw, recurrence = CASES[case]
    teacher = make_user("teacher")
    created = create(client, teacher, **sandbox_kw)
    assert created["zoomStatus"] == "pending" and created["zoomMeeting"] is None
    data = wait_status(client, teacher, created["id"], worker=worker)
    assert data["zoomStatus"] == "ready", data
    meeting = data["zoomMeeting"]
    assert meeting["meetingId"].isdigit() and len(meeting["meetingId"]) > 9
    assert meeting["joinUrl"] and meeting["password"]
    assert "startUrl" not in meeting  # the teacher has no linked Zoom user: a shared host's credential

    [zoom] = sandbox_meetings_of(zoom_sandbox, data)
    for field, value in recurrence.items():
        assert zoom["recurrence"][field] == value, (field, zoom["recurrence"])
    assert zoom["timezone"] == "Africa/Cairo" and zoom["type"] == 8
    expected = _expected_sessions(created["schedule"])
    assert [utc(o["start_time"]) for o in zoom["occurrences"]] == [s.start_utc for s in expected]
    assert all(s.start_local.strftime("%H:%M") == "17:00" for s in expected)


def test_120_sessions_become_three_segments(client, make_user, worker, zoom_sandbox):
    teacher = make_user("teacher")
    created = create(client, teacher, frequency="daily", length_days=119)
    data = wait_status(client, teacher, created["id"], worker=worker)
    assert data["zoomStatus"] == "ready"
    assert [m["occurrences"] for m in data["zoomMeetings"]] == [50, 50, 20]
    zoom = sandbox_meetings_of(zoom_sandbox, data)
    assert sorted(len(m["occurrences"]) for m in zoom) == [20, 50, 50]
    assert data["zoomMeeting"]["meetingId"] == data["zoomMeetings"][0]["meetingId"]
    assert all(len(ids) == 1 for ids in keyed_meetings(zoom_sandbox).values())


def test_prefer_wait_returns_the_outcome(client, make_user, worker):
    teacher = make_user("teacher")
    r = client.post(
        "/api/v1/halaka/",
        json={"title": "Waited", "schedule": schedule()},
        headers={**teacher.headers, "Prefer": "wait=20"},
    )
    assert r.status_code == 201
    assert r.json["data"]["zoomStatus"] == "ready", r.json
    assert r.headers["Preference-Applied"] == "wait=20"


def test_update_patches_the_meeting_and_title_only_costs_nothing(client, make_user, worker, zoom_sandbox):
    teacher = make_user("teacher")
    created = create(client, teacher)
    data = wait_status(client, teacher, created["id"], worker=worker)
    meeting_id = data["zoomMeeting"]["meetingId"]
    seq = max((r["seq"] for r in zoom_sandbox.requests_log()), default=0)

    r = client.patch(f"/api/v1/halaka/{created['id']}", json={"title": "New title"}, headers=teacher.headers)
    assert r.status_code == 200 and r.json["data"]["zoomStatus"] == "ready"
    r = client.patch(
        f"/api/v1/halaka/{created['id']}",
        json={"schedule": {"days": ["tuesday"], "startTime": "18:30"}},
        headers=teacher.headers,
    )
    assert r.status_code == 200 and r.json["data"]["zoomStatus"] == "updating"
    data = wait_status(client, teacher, created["id"], worker=worker)
    assert data["zoomStatus"] == "ready" and data["zoomMeeting"]["meetingId"] == meeting_id

    calls = [
        (r["method"], r["path"]) for r in zoom_sandbox.requests_log(since=seq) if r["path"].startswith("/v2/")
    ]
    patches = [c for c in calls if c[0] == "PATCH"]
    assert patches == [("PATCH", f"/v2/meetings/{meeting_id}")]
    assert not [c for c in calls if c[0] == "POST"]
    [zoom] = [m for m in zoom_sandbox.meetings() if str(m["id"]) == meeting_id]
    assert zoom["recurrence"]["weekly_days"] == "3"
    assert zoom["topic"] == "New title"
    assert all(utc(o["start_time"]).weekday() == 1 for o in zoom["occurrences"])


def test_delete_removes_meetings_then_the_halaka(client, make_user, worker, zoom_sandbox):
    teacher = make_user("teacher")
    created = create(client, teacher, frequency="daily", length_days=60)
    data = wait_status(client, teacher, created["id"], worker=worker)
    assert len(zoom_sandbox.meetings()) == 2
    r = client.delete(f"/api/v1/halaka/{created['id']}", headers=teacher.headers)
    assert r.status_code == 200 and r.json["data"]["zoomStatus"] == "deleting"
    from tests.worker_fixture import wait_for

    wait_for(
        lambda: client.get(f"/api/v1/halaka/{created['id']}", headers=teacher.headers).status_code == 404,
        30,
        what="halaka deleted",
    )
    assert zoom_sandbox.meetings() == []
    deletes = [r for r in zoom_sandbox.requests_log() if r["method"] == "DELETE"]
    assert {r["path"] for r in deletes} == {f"/v2/meetings/{m['meetingId']}" for m in data["zoomMeetings"]}


def test_unknown_zoom_user_fails_then_link_and_retry(client, make_user, worker, zoom_sandbox):
    admin = make_user("admin")
    teacher = make_user("teacher", zoom_user_id="ghost@example.com")
    created = create(client, teacher)
    data = wait_status(client, teacher, created["id"], worker=worker)
    assert data["zoomStatus"] == "failed"
    assert data["zoomError"] == "Zoom user ghost@example.com does not exist"
    assert zoom_sandbox.meetings() == []

    r = client.post(f"/api/v1/halaka/{created['id']}/zoom/retry", headers=teacher.headers)
    assert r.status_code == 200
    data = wait_status(client, teacher, created["id"], worker=worker)
    assert data["zoomStatus"] == "failed"

    zoom_sandbox.add_user("ghost-real@example.com")
    r = client.patch(
        f"/api/v1/users/{teacher.id}", json={"zoomUserId": "ghost-real@example.com"}, headers=admin.headers
    )
    assert r.status_code == 200
    r = client.post(f"/api/v1/halaka/{created['id']}/zoom/retry", headers=teacher.headers)
    assert r.status_code == 200
    data = wait_status(client, teacher, created["id"], worker=worker)
    assert data["zoomStatus"] == "ready"
    assert [m["host_user"] for m in zoom_sandbox.meetings()] == ["ghost-real@example.com"]
    r = client.post(f"/api/v1/halaka/{created['id']}/zoom/retry", headers=teacher.headers)
    assert r.status_code == 409


def test_ops_metrics_show_zoom_calls_task_outcomes_and_queue(client, make_user, worker):
    from tests.worker_fixture import wait_for

    teacher, admin = make_user("teacher"), make_user("admin")
    data = wait_status(client, teacher, create(client, teacher)["id"], worker=worker)
    assert data["zoomStatus"] == "ready"
    assert client.get("/api/v1/ops/metrics", headers=teacher.headers).status_code == 403

    def metrics():
        m = client.get("/api/v1/ops/metrics", headers=admin.headers).json["data"]
        return m if m["taskOutcomes"].get("halaka.sync ready") else None

    m = wait_for(metrics, 10, what="the task outcome to be counted")
    assert m["zoomCalls"]["POST /users/{userId}/meetings 201"] == 1
    assert m["queueDepth"] == {"zoom": 0}
    assert m["halakatByStatus"] == {"ready": 1}
