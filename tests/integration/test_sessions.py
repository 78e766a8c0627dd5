"""Single sessions with a real worker and the sandbox: cancel, restore, move and add reach Zoom as exactly
the intended occurrence or meeting and nothing else, survive a kill between the Zoom call and the commit,
are not taken for drift (the echoes of the writes, and the hourly check), and a schedule edit keeps what
still makes sense."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shared.celery_config import DRIFT_CHECK_TASK
from shared.db import session_scope
from shared.models import SessionChange
from shared.task_queue import producer
from shared.zoom.payloads import key_from_agenda
from tests.integration.helpers import create, get, utc, wait_status
from tests.integration.test_lifecycle_faults import _kill_while_held
from tests.worker_fixture import wait_for


def ready(client, teacher, worker, **schedule_kw) -> dict:
    data = wait_status(client, teacher, create(client, teacher, **schedule_kw)["id"], worker=worker)
    assert data["zoomStatus"] == "ready", data
    return data


def listed(client, who, halaka_id: int, query: str = "?limit=100") -> dict[str, dict]:
    r = client.get(f"/api/v1/halaka/{halaka_id}/sessions{query}", headers=who.headers)
    assert r.status_code == 200, r.json
    return {s["occurrenceId"]: s for s in r.json["data"]["sessions"]}


def applied(client, who, halaka_id: int, worker, *occurrence_ids: str) -> dict[str, dict]:
    def done():
        items = listed(client, who, halaka_id)
        return items if all(o in items and not items[o]["pending"] for o in occurrence_ids) else None

    try:
        return wait_for(done, 40, 0.2, f"sessions {occurrence_ids} applied")
    except AssertionError:
        with session_scope() as s:
            rows = [(r.id, r.version, r.applied_version, r.error) for r in s.scalars(select(SessionChange))]
        raise AssertionError(f"{rows}\n{worker.log_tail()}") from None


def seq(sandbox) -> int:
    log = sandbox.requests_log()
    return log[-1]["seq"] if log else 0


def writes_since(sandbox, since: int) -> list[dict]:
    return [r for r in sandbox.requests_log(since) if r["method"] in ("POST", "PATCH", "DELETE")]


def segment(sandbox, data: dict) -> dict:
    [meeting] = [m for m in sandbox.meetings() if str(m["id"]) == data["zoomMeetings"][0]["meetingId"]]
    return meeting


def by_id(meeting: dict) -> dict[str, dict]:
    return {o["occurrence_id"]: o for o in meeting["occurrences"]}


def post(client, who, path: str, body: dict | None = None):
    return client.post(path, json=body if body is not None else {}, headers=who.headers)


def drift_check_leaves_alone(sandbox, data: dict, since: int) -> None:
    """Beat's hourly drift check, run now: it reads the meetings back and writes nothing."""
    producer().send_task(DRIFT_CHECK_TASK, retry=False)
    wanted = {str(m["meetingId"]) for m in data["zoomMeetings"]}
    wait_for(
        lambda: (
            {r["path"].rsplit("/", 1)[-1] for r in sandbox.requests_log(since) if r["method"] == "GET"}
            >= wanted
        ),
        30,
        0.2,
        "the drift check to read the meetings",
    )
    time.sleep(2)  # what it would do after reading (a PATCH, a create) comes right after its GETs
    assert writes_since(sandbox, since) == []


def test_cancel_deletes_exactly_that_occurrence_without_emails_and_drift_leaves_it(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    data = ready(client, teacher, worker)
    before = by_id(segment(sandbox_webhooks, data))
    target = sorted(before)[1]
    emails = sandbox_webhooks.stats()["cancellation_emails"]
    r = post(client, teacher, f"/api/v1/halaka/{data['id']}/sessions/{target}/cancel", {"reason": "Eid"})
    assert r.status_code == 200, r.json
    items = applied(client, teacher, data["id"], worker, target)
    assert items[target]["status"] == "cancelled" and items[target]["cancelReason"] == "Eid"
    after = by_id(segment(sandbox_webhooks, data))
    assert after[target]["status"] == "deleted"
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in before.items() if k != target}
    assert sandbox_webhooks.stats()["cancellation_emails"] == emails
    assert len(sandbox_webhooks.meetings()) == 1
    since = seq(sandbox_webhooks)
    drift_check_leaves_alone(sandbox_webhooks, data, since)
    assert get(client, teacher, data["id"])["zoomStatus"] == "ready"
    assert listed(client, teacher, data["id"])[target]["status"] == "cancelled"


def test_move_patches_only_that_occurrence_and_drift_leaves_it(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    data = ready(client, teacher, worker)
    before = by_id(segment(sandbox_webhooks, data))
    target = sorted(before)[2]
    new_start = utc(before[target]["start_time"]) + timedelta(hours=3)
    r = client.patch(
        f"/api/v1/halaka/{data['id']}/sessions/{target}",
        json={"startUtc": new_start.isoformat(), "duration": 45},
        headers=teacher.headers,
    )
    assert r.status_code == 200, r.json
    items = applied(client, teacher, data["id"], worker, target)
    assert utc(items[target]["startUtc"]) == new_start and items[target]["duration"] == 45
    assert utc(items[target]["originalStartUtc"]) == utc(before[target]["start_time"])
    after = by_id(segment(sandbox_webhooks, data))
    assert utc(after[target]["start_time"]) == new_start and after[target]["status"] == "available"
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in before.items() if k != target}
    since = seq(sandbox_webhooks)
    drift_check_leaves_alone(sandbox_webhooks, data, since)
    assert utc(by_id(segment(sandbox_webhooks, data))[target]["start_time"]) == new_start
    assert get(client, teacher, data["id"])["zoomStatus"] == "ready"


def standalone(sandbox, data: dict) -> list[dict]:
    key = None
    for m in sandbox.meetings():
        if str(m["id"]) == data["zoomMeetings"][0]["meetingId"]:
            key = key_from_agenda(m["agenda"]).rsplit(".", 2)[0]
    return [m for m in sandbox.meetings() if (key_from_agenda(m.get("agenda")) or "").startswith(f"{key}-s")]


def test_restore_gives_the_session_a_standalone_meeting_signed_and_deleted_like_a_segment(
    client, make_user, worker, zoom_configured
):
    teacher, enrolled, outsider = make_user("teacher"), make_user("student"), make_user("student")
    data = ready(client, teacher, worker)
    assert client.post(f"/api/v1/halaka/{data['id']}/enroll", headers=enrolled.headers).status_code == 200
    before = by_id(segment(zoom_configured, data))
    target = sorted(before)[1]
    base = f"/api/v1/halaka/{data['id']}/sessions/{target}"
    assert post(client, teacher, f"{base}/cancel").status_code == 200
    applied(client, teacher, data["id"], worker, target)
    assert post(client, teacher, f"{base}/restore").status_code == 200
    items = applied(client, teacher, data["id"], worker, target)
    after = by_id(segment(zoom_configured, data))
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in before.items() if k != target}
    [own] = standalone(zoom_configured, data)
    assert own["type"] == 2 and utc(own["start_time"]) == utc(items[target]["startUtc"])
    assert items[target]["status"] == "scheduled" and items[target]["meetingId"] == str(own["id"])
    assert by_id(segment(zoom_configured, data))[target]["status"] == "deleted"  # Zoom cannot undelete
    for who, role, expected in [(enrolled, 0, 201), (outsider, 0, 403), (teacher, 1, 403)]:
        r = client.post(
            "/api/v1/zoom/signature",
            json={"meetingNumber": str(own["id"]), "role": role},
            headers=who.headers,
        )
        assert r.status_code == expected, (who.role, role, r.json)
    view = get(client, enrolled, data["id"])
    assert str(own["id"]) in [m["meetingId"] for m in view["zoomMeetings"]]
    assert all("joinUrl" in m for m in view["zoomMeetings"])
    assert all("joinUrl" not in m for m in get(client, outsider, data["id"])["zoomMeetings"])
    r = client.delete(f"/api/v1/halaka/{data['id']}", headers=teacher.headers)
    assert r.status_code == 200
    wait_for(lambda: zoom_configured.meetings() == [], 40, 0.2, "every meeting deleted with the halaka")


def test_an_extra_session_is_a_type_2_meeting_and_cancelling_it_deletes_it(
    client, make_user, worker, zoom_configured
):
    teacher = make_user("teacher")
    data = ready(client, teacher, worker)
    day = (datetime.now(UTC) + timedelta(days=12)).date().isoformat()
    r = post(client, teacher, f"/api/v1/halaka/{data['id']}/sessions", {"date": day, "startTime": "08:00"})
    assert r.status_code == 201, r.json
    extra = r.json["data"]["occurrenceId"]
    items = applied(client, teacher, data["id"], worker, extra)
    [own] = standalone(zoom_configured, data)
    assert own["type"] == 2 and utc(own["start_time"]) == utc(items[extra]["startUtc"])
    assert len(zoom_configured.meetings()) == 2
    assert post(client, teacher, f"/api/v1/halaka/{data['id']}/sessions/{extra}/cancel").status_code == 200
    items = applied(client, teacher, data["id"], worker, extra)
    assert items[extra]["status"] == "cancelled" and standalone(zoom_configured, data) == []


def test_a_kill_between_the_occurrence_delete_and_the_commit_deletes_once(
    client, make_user, worker, beat, zoom_configured
):
    teacher = make_user("teacher")
    data = ready(client, teacher, worker)
    target = sorted(by_id(segment(zoom_configured, data)))[1]
    since = seq(zoom_configured)
    zoom_configured.fault(kind="hold", count=1, seconds=3, match="delete")
    assert post(client, teacher, f"/api/v1/halaka/{data['id']}/sessions/{target}/cancel").status_code == 200
    _kill_while_held(zoom_configured, worker, "delete")
    applied(client, teacher, data["id"], worker, target)
    deletes = [r for r in writes_since(zoom_configured, since) if r["method"] == "DELETE"]
    assert len(deletes) == 1, deletes
    assert by_id(segment(zoom_configured, data))[target]["status"] == "deleted"


def test_a_kill_during_the_restore_create_makes_one_meeting(client, make_user, worker, beat, zoom_configured):
    teacher = make_user("teacher")
    data = ready(client, teacher, worker)
    target = sorted(by_id(segment(zoom_configured, data)))[1]
    base = f"/api/v1/halaka/{data['id']}/sessions/{target}"
    assert post(client, teacher, f"{base}/cancel").status_code == 200
    applied(client, teacher, data["id"], worker, target)
    zoom_configured.fault(kind="hold", count=1, seconds=3, match="create")
    assert post(client, teacher, f"{base}/restore").status_code == 200
    _kill_while_held(zoom_configured, worker, "create")
    applied(client, teacher, data["id"], worker, target)
    assert len(standalone(zoom_configured, data)) == 1
    assert len(zoom_configured.meetings()) == 2


def test_a_schedule_edit_keeps_what_still_makes_sense(client, make_user, worker, zoom_configured):
    """Mondays and Wednesdays 17:00 Cairo; one Monday cancelled, one Wednesday moved three hours later,
    an extra Tuesday 17:00. Tuesdays join the plan: the extra overlaps a planned session and goes (its
    meeting deleted); the cancel and the move keep their slots and stay, on Zoom too."""
    teacher = make_user("teacher")
    data = ready(client, teacher, worker, start_in=7)
    items = listed(client, teacher, data["id"])
    by_day = {}
    for oid, item in items.items():
        by_day.setdefault(utc(item["startUtc"]).strftime("%A"), []).append((utc(item["startUtc"]), oid))
    monday, wednesday = min(by_day["Monday"])[1], min(by_day["Wednesday"])[1]
    tuesday = (min(by_day["Monday"])[0] + timedelta(days=1)).date().isoformat()
    base = f"/api/v1/halaka/{data['id']}/sessions"
    assert post(client, teacher, f"{base}/{monday}/cancel", {"reason": "Eid"}).status_code == 200
    moved = utc(items[wednesday]["startUtc"]) + timedelta(hours=3)
    r = client.patch(f"{base}/{wednesday}", json={"startUtc": moved.isoformat()}, headers=teacher.headers)
    assert r.status_code == 200, r.json
    r = post(client, teacher, base, {"date": tuesday, "startTime": "17:00"})
    assert r.status_code == 201, r.json
    extra = r.json["data"]["occurrenceId"]
    applied(client, teacher, data["id"], worker, monday, wednesday, extra)
    assert len(standalone(zoom_configured, data)) == 1
    r = client.patch(
        f"/api/v1/halaka/{data['id']}",
        json={"schedule": {"days": ["monday", "tuesday", "wednesday"]}},
        headers=teacher.headers,
    )
    assert r.status_code == 200, r.json
    data = wait_status(client, teacher, data["id"], worker=worker)
    assert data["zoomStatus"] == "ready", data
    wait_for(lambda: standalone(zoom_configured, data) == [], 40, 0.2, "the extra session's meeting deleted")
    items = applied(client, teacher, data["id"], worker, monday, wednesday)
    assert extra not in items
    assert items[monday]["status"] == "cancelled" and utc(items[wednesday]["startUtc"]) == moved
    occurrences = by_id(segment(zoom_configured, data))
    assert occurrences[monday]["status"] == "deleted" and utc(occurrences[wednesday]["start_time"]) == moved
    tuesdays = [o for o in occurrences.values() if utc(o["start_time"]).strftime("%A") == "Tuesday"]
    assert tuesdays and all(o["status"] == "available" for o in tuesdays)


def test_a_class_in_an_extra_sessions_meeting_is_attendance_and_ends_the_session(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    from tests.integration.test_webhooks import attendance, customer_key_of, enroll, events_settled

    teacher, student = make_user("teacher"), make_user("student")
    data = ready(client, teacher, worker)
    enroll(client, student, data["id"])
    day = (datetime.now(UTC) + timedelta(days=12)).date().isoformat()
    r = post(client, teacher, f"/api/v1/halaka/{data['id']}/sessions", {"date": day, "startTime": "08:00"})
    assert r.status_code == 201, r.json
    extra = r.json["data"]["occurrenceId"]
    item = applied(client, teacher, data["id"], worker, extra)[extra]
    meeting_id = item["meetingId"]
    played = sandbox_webhooks.simulate(
        meeting_id,
        duration=60,
        participants=[
            {
                "name": "Student",
                "customer_key": customer_key_of(client, student, meeting_id),
                "join": 0,
                "leave": 60,
            }
        ],
    )
    events_settled(sandbox_webhooks, len(played["events"]))
    r = attendance(client, teacher, data["id"])
    assert r.status_code == 200, r.json
    (session,) = r.json["data"]["sessions"]
    assert utc(session["startUtc"]) == utc(item["startUtc"]) and session["status"] == "ended"
    assert [(a["userId"], a["status"]) for a in session["attendees"]] == [(student.id, "present")]
    assert listed(client, teacher, data["id"])[extra]["status"] == "ended"


def _extra(client, teacher, data, worker) -> tuple[str, str]:
    day = (datetime.now(UTC) + timedelta(days=12)).date().isoformat()
    r = post(client, teacher, f"/api/v1/halaka/{data['id']}/sessions", {"date": day, "startTime": "08:00"})
    assert r.status_code == 201, r.json
    extra = r.json["data"]["occurrenceId"]
    return extra, applied(client, teacher, data["id"], worker, extra)[extra]["meetingId"]


def _recreated(client, teacher, data, extra: str, old: str, sandbox, worker) -> None:
    def back():
        item = listed(client, teacher, data["id"]).get(extra)
        return item if item and not item["pending"] and item["meetingId"] not in (None, old) else None

    item = wait_for(back, 40, 0.3, f"the extra session's meeting created again\n{worker.log_tail()}")
    [own] = standalone(sandbox, data)
    assert str(own["id"]) == item["meetingId"] and utc(own["start_time"]) == utc(item["startUtc"])
    assert get(client, teacher, data["id"])["zoomStatus"] == "ready"


def test_an_extra_sessions_meeting_deleted_in_zoom_is_created_again(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    data = ready(client, teacher, worker)
    extra, old = _extra(client, teacher, data, worker)
    sandbox_webhooks.portal_delete(old)
    _recreated(client, teacher, data, extra, old, sandbox_webhooks, worker)


def test_with_the_webhook_lost_the_drift_check_creates_an_extra_sessions_meeting_again(
    client, make_user, worker, zoom_configured
):
    teacher = make_user("teacher")
    data = ready(client, teacher, worker)
    extra, old = _extra(client, teacher, data, worker)
    zoom_configured.portal_delete(old)
    producer().send_task(DRIFT_CHECK_TASK, retry=False)
    _recreated(client, teacher, data, extra, old, zoom_configured, worker)


def test_a_kill_between_the_occurrence_patch_and_the_commit_moves_once(
    client, make_user, worker, beat, zoom_configured
):
    teacher = make_user("teacher")
    data = ready(client, teacher, worker)
    before = by_id(segment(zoom_configured, data))
    target = sorted(before)[1]
    new_start = utc(before[target]["start_time"]) + timedelta(hours=4)
    since = seq(zoom_configured)
    zoom_configured.fault(kind="hold", count=1, seconds=3, match="update")
    r = client.patch(
        f"/api/v1/halaka/{data['id']}/sessions/{target}",
        json={"startUtc": new_start.isoformat()},
        headers=teacher.headers,
    )
    assert r.status_code == 200, r.json
    _kill_while_held(zoom_configured, worker, "update")
    applied(client, teacher, data["id"], worker, target)
    patches = [r for r in writes_since(zoom_configured, since) if r["method"] == "PATCH"]
    assert len(patches) == 1, patches
    after = by_id(segment(zoom_configured, data))
    assert utc(after[target]["start_time"]) == new_start
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in before.items() if k != target}
