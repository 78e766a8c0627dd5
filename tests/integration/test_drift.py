"""Drift: meetings changed or deleted in Zoom's portal are healed (or flagged), the project's own
writes echoing back are not, and the slow check heals what a lost webhook missed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared import webhook_store
from shared.celery_config import DRIFT_CHECK_TASK
from shared.db import get_engine
from shared.task_queue import producer
from tests.integration.helpers import create, get, keyed_meetings, utc, wait_status
from tests.integration.test_webhooks import events_settled, session_status
from tests.webhook_fixture import encode
from tests.worker_fixture import wait_for
from workers import webhooks


def outcomes() -> list[tuple[str, str]]:
    with get_engine().connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT event, outcome FROM webhook_events ORDER BY id"))]


def creates_since(sandbox, seq: int) -> int:
    """Meetings the sandbox created since `seq`. A POST it refused (a 401 for a token from before the
    sandbox's reset, a 429) created nothing, and the client's retry of it is not a duplicate."""
    return sum(
        1
        for e in sandbox.requests_log(seq)
        if e["method"] == "POST" and e["path"].endswith("/meetings") and e["status"] == 201
    )


def last_seq(sandbox) -> int:
    log = sandbox.requests_log()
    return log[-1]["seq"] if log else 0


def ready(client, teacher, worker) -> dict:
    return wait_status(client, teacher, create(client, teacher)["id"], worker=worker)


def healed(client, teacher, halaka_id: int, old_meeting: str, worker) -> dict:
    def back():
        data = get(client, teacher, halaka_id)
        ids = [m["meetingId"] for m in data["zoomMeetings"]]
        return data if data["zoomStatus"] == "ready" and ids and old_meeting not in ids else None

    return wait_for(back, 40, 0.3, f"halaka {halaka_id} healed\n{worker.log_tail()}")


def test_a_meeting_deleted_in_zoom_is_provisioned_again_with_one_new_meeting(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    halaka = ready(client, teacher, worker)
    old = halaka["zoomMeetings"][0]["meetingId"]
    seq = last_seq(sandbox_webhooks)
    sandbox_webhooks.portal_delete(old)
    data = healed(client, teacher, halaka["id"], old, worker)
    assert creates_since(sandbox_webhooks, seq) == 1
    assert [len(ids) for ids in keyed_meetings(sandbox_webhooks).values()] == [1]
    assert int(data["zoomMeetings"][0]["meetingId"]) in {m["id"] for m in sandbox_webhooks.meetings()}
    assert ("meeting.deleted", "healing") in outcomes()
    events_settled(sandbox_webhooks, 1)
    assert get(client, teacher, halaka["id"])["zoomStatus"] == "ready"  # and it stays so: no loop


def test_the_project_s_own_writes_echo_back_and_are_ignored(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    halaka = ready(client, teacher, worker)
    r = client.patch(
        f"/api/v1/halaka/{halaka['id']}", json={"schedule": {"startTime": "18:30"}}, headers=teacher.headers
    )
    assert r.status_code == 200, r.json
    after = wait_status(client, teacher, halaka["id"], worker=worker)
    events_settled(sandbox_webhooks, 1)
    assert [e for e, _ in outcomes()] == ["meeting.updated"]
    assert outcomes()[0][1] in (
        "matches the plan",
        "echo of our own update",
        "ignored while the halaka is updating",
    )
    assert get(client, teacher, halaka["id"])["zoomMeetings"] == after["zoomMeetings"]
    assert client.delete(f"/api/v1/halaka/{halaka['id']}", headers=teacher.headers).status_code == 200
    events_settled(sandbox_webhooks, 2)
    assert outcomes()[-1][0] == "meeting.deleted"
    assert outcomes()[-1][1] in (
        "halaka is being deleted",
        "echo of our own delete",
        "not a platform meeting (or already forgotten)",
    )


def test_an_occurrence_deleted_in_zoom_shows_as_a_cancelled_session(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    halaka = ready(client, teacher, worker)
    meeting_id = halaka["zoomMeetings"][0]["meetingId"]
    zoom_meeting = next(m for m in sandbox_webhooks.meetings() if str(m["id"]) == meeting_id)
    second = zoom_meeting["occurrences"][1]
    sandbox_webhooks.portal_delete(meeting_id, occurrence_id=second["occurrence_id"])
    wait_for(
        lambda: session_status(client, teacher, halaka["id"], second["start_time"]) == "cancelled",
        20,
        0.2,
        "cancelled session",
    )
    assert (
        session_status(client, teacher, halaka["id"], zoom_meeting["occurrences"][0]["start_time"])
        == "scheduled"
    )
    assert get(client, teacher, halaka["id"])["zoomStatus"] == "ready"


def move_first_time(sandbox, halaka: dict) -> list[str]:
    """Move the halaka's first meeting two hours in Zoom's portal; the planned starts."""
    meeting_id = halaka["zoomMeetings"][0]["meetingId"]
    planned = [
        o["start_time"]
        for o in next(m for m in sandbox.meetings() if str(m["id"]) == meeting_id)["occurrences"]
    ]
    first = utc(planned[0])
    sandbox.portal_update(
        meeting_id, start_time=first.replace(hour=(first.hour + 2) % 24).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    return planned


def times_put_back(client, teacher, sandbox, halaka_id: int, planned: list[str]) -> None:
    def put_back():
        current = get(client, teacher, halaka_id)
        if current["zoomStatus"] != "ready":
            return None
        ids = {int(m["meetingId"]) for m in current["zoomMeetings"]}
        zoom = [m for m in sandbox.meetings() if m["id"] in ids]
        starts = sorted(o["start_time"] for m in zoom for o in m["occurrences"] if o["status"] == "available")
        return starts == planned

    wait_for(put_back, 40, 0.3, "times put back")


def test_a_time_changed_in_zoom_is_put_back(client, make_user, sandbox_webhooks, worker, webhook_worker):
    teacher = make_user("teacher")
    halaka = ready(client, teacher, worker)
    planned = move_first_time(sandbox_webhooks, halaka)
    times_put_back(client, teacher, sandbox_webhooks, halaka["id"], planned)
    assert any(o == ("meeting.updated", "healing") for o in outcomes())


def test_with_the_webhook_lost_the_slow_check_puts_a_changed_time_back(
    client, make_user, zoom_configured, worker, webhook_worker
):
    teacher = make_user("teacher")
    halaka = ready(client, teacher, worker)
    planned = move_first_time(zoom_configured, halaka)
    assert zoom_configured.webhooks()["deliveries"] == []
    producer().send_task(DRIFT_CHECK_TASK, retry=False)
    times_put_back(client, teacher, zoom_configured, halaka["id"], planned)


def test_with_the_webhook_lost_the_slow_check_heals_it(
    client, make_user, zoom_configured, worker, webhook_worker
):
    teacher = make_user("teacher")
    halaka = ready(client, teacher, worker)
    old = halaka["zoomMeetings"][0]["meetingId"]
    zoom_configured.portal_delete(old)  # no webhook URL configured: Zoom's event never arrives
    assert zoom_configured.webhooks()["deliveries"] == []
    seq = last_seq(zoom_configured)
    producer().send_task(DRIFT_CHECK_TASK, retry=False)
    healed(client, teacher, halaka["id"], old, worker)
    assert creates_since(zoom_configured, seq) == 1
    assert [len(ids) for ids in keyed_meetings(zoom_configured).values()] == [1]


def test_under_the_flag_policy_a_deleted_meeting_flags_the_halaka_with_a_reason_and_retry_heals(
    client, make_user, zoom_configured, worker, monkeypatch
):
    from shared.settings import get_settings

    teacher = make_user("teacher")
    halaka = ready(client, teacher, worker)
    old = halaka["zoomMeetings"][0]["meetingId"]
    zoom_configured.portal_delete(old)
    event = {
        "event": "meeting.deleted",
        "event_ts": 1,
        "payload": {
            "account_id": "sandbox-account",
            "operator": "someone@example.com",
            "operation": "all",
            "object": {"uuid": "u==", "id": int(old), "host_id": "h", "type": 8},
        },
    }
    monkeypatch.setattr(get_settings(), "zoom_drift_policy", "flag")
    event_id = webhook_store.store(encode(event), event["event"])
    assert webhooks.process(event_id) == "flagged"
    data = get(client, teacher, halaka["id"])
    assert data["zoomStatus"] == "failed"
    assert data["zoomError"] == f"Zoom meeting {old} was deleted in Zoom by someone@example.com"
    assert data["zoomMeetings"] == []
    assert webhooks.process(event_id) == "already processed"
    r = client.post(f"/api/v1/halaka/{halaka['id']}/zoom/retry", headers=teacher.headers)
    assert r.status_code == 200, r.json
    healed(client, teacher, halaka["id"], old, worker)


@pytest.mark.parametrize("policy", ["heal", "flag"])
def test_an_unknown_meeting_deleted_changes_nothing(
    client, make_user, zoom_configured, worker, monkeypatch, policy
):
    from shared.settings import get_settings

    teacher = make_user("teacher")
    halaka = ready(client, teacher, worker)
    monkeypatch.setattr(get_settings(), "zoom_drift_policy", policy)
    event = {
        "event": "meeting.deleted",
        "payload": {
            "account_id": "a",
            "operator": "x@example.com",
            "object": {"uuid": "u", "id": 99999999999, "host_id": "h", "type": 2},
        },
    }
    assert webhooks.process(webhook_store.store(encode(event), event["event"])).startswith(
        "not a platform meeting"
    )
    assert get(client, teacher, halaka["id"])["zoomStatus"] == "ready"
