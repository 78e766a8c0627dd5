"""Zoom's events end to end: the sandbox signs and posts them to the API over HTTP, the API stores
them, a real Celery worker on the `webhooks` queue processes them (live sessions, attendance), and
drift is healed (docs/api.md)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import requests
from sqlalchemy import text

from shared.celery_config import WEBHOOK_TASK
from shared.db import get_engine
from shared.task_queue import enqueue
from tests.integration.helpers import create, utc, wait_status
from tests.webhook_fixture import WEBHOOK_PATH, encode, sign
from tests.worker_fixture import wait_for
from zoomsim.control import SandboxControl


def events_settled(sandbox: SandboxControl, expected: int) -> None:
    """Every delivery answered 200, and every stored event processed by the worker."""

    def done():
        log = sandbox.webhooks()
        delivered = [d for d in log["deliveries"] if d["status"] == 200]
        with get_engine().connect() as conn:
            waiting = conn.execute(
                text("SELECT count(*) FROM webhook_events WHERE processed_at IS NULL")
            ).scalar()
        return len(delivered) >= expected and log["pending"] == 0 and waiting == 0

    wait_for(done, 30, 0.2, f"{expected} webhooks delivered and processed")


def ready_halaka(client, teacher, worker) -> dict:
    data = create(client, teacher)
    return wait_status(client, teacher, data["id"], worker=worker)


def customer_key_of(client, account, meeting_id: str) -> str:
    r = client.post(
        "/api/v1/zoom/signature", json={"meetingNumber": meeting_id, "role": 0}, headers=account.headers
    )
    assert r.status_code == 201, r.json
    key = r.json["data"]["customerKey"]
    assert 0 < len(key) <= 35 and key.isalnum() and key != str(account.id)
    return key


def attendance(client, account, halaka_id: int, fmt: str = "json"):
    return client.get(f"/api/v1/halaka/{halaka_id}/attendance?format={fmt}", headers=account.headers)


def enroll(client, account, halaka_id: int) -> None:
    assert client.post(f"/api/v1/halaka/{halaka_id}/enroll", headers=account.headers).status_code == 200


def test_a_simulated_class_becomes_attendance_by_identity(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    on_time, late, rejoining, absent, outsider = (make_user("student") for _ in range(5))
    halaka = ready_halaka(client, teacher, worker)
    for student in (on_time, late, rejoining, absent):
        enroll(client, student, halaka["id"])
    meeting_id = halaka["zoomMeetings"][0]["meetingId"]
    first_start = halaka["zoomMeetings"][0]["firstSession"]
    played = sandbox_webhooks.simulate(
        meeting_id,
        duration=60,
        participants=[
            {
                "name": "On Time",
                "customer_key": customer_key_of(client, on_time, meeting_id),
                "join": 0,
                "leave": 60,
            },
            {"name": "Late Comer", "email": late.email, "join": 25, "leave": 60},
            {
                "name": "Rejoiner",
                "customer_key": customer_key_of(client, rejoining, meeting_id),
                "join": 2,
                "leave": 20,
            },
            {
                "name": "Rejoiner",
                "customer_key": customer_key_of(client, rejoining, meeting_id),
                "join": 30,
                "leave": 60,
            },
            {"name": '=HYPERLINK("http://evil")', "join": 5, "leave": 55},
        ],
    )
    events_settled(sandbox_webhooks, len(played["events"]))

    r = attendance(client, teacher, halaka["id"])
    assert r.status_code == 200, r.json
    (session,) = r.json["data"]["sessions"]
    start = utc(first_start)
    assert utc(session["startUtc"]) == start and session["status"] == "ended"
    assert utc(session["startedAt"]) == start and utc(session["endedAt"]) == start + timedelta(minutes=60)
    rows = {a["name"]: a for a in session["attendees"]}
    names = {on_time.id: None, late.id: None, rejoining.id: None, absent.id: None}
    by_user = {a["userId"]: a for a in session["attendees"] if a["userId"] in names}
    assert {k: (v["status"], v["minutes"]) for k, v in by_user.items()} == {
        on_time.id: ("present", 60),
        late.id: ("late", 35),
        rejoining.id: ("present", 48),
        absent.id: ("absent", 0),
    }
    assert utc(by_user[late.id]["joinedAt"]) == start + timedelta(minutes=25)
    assert utc(by_user[rejoining.id]["joinedAt"]) == start + timedelta(minutes=2)
    assert utc(by_user[rejoining.id]["leftAt"]) == start + timedelta(minutes=60)
    assert by_user[absent.id]["joinedAt"] is None
    guest = rows['=HYPERLINK("http://evil")']
    assert guest["userId"] is None and (guest["status"], guest["minutes"]) == ("present", 50)
    assert len(session["attendees"]) == 5  # one row per person: the rejoin merged

    # CSV: the same rows, and a guest's name cannot run as a spreadsheet formula
    r = attendance(client, teacher, halaka["id"], "csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(table) == 5
    assert {row["userId"]: (row["status"], row["minutes"]) for row in table if row["userId"]} == {
        str(k): (v["status"], str(v["minutes"])) for k, v in by_user.items()
    }
    assert [row["name"] for row in table if not row["userId"]] == ['\'=HYPERLINK("http://evil")']

    # who sees what (README, Trust model)
    mine = attendance(client, late, halaka["id"]).json["data"]["sessions"][0]["attendees"]
    assert [(a["userId"], a["status"]) for a in mine] == [(late.id, "late")]
    assert attendance(client, outsider, halaka["id"]).status_code == 403
    assert attendance(client, make_user("teacher"), halaka["id"]).status_code == 403
    assert client.get(f"/api/v1/halaka/{halaka['id']}/attendance").status_code == 401
    assert (
        len(attendance(client, make_user("admin"), halaka["id"]).json["data"]["sessions"][0]["attendees"])
        == 5
    )

    # the same events delivered again (Zoom's retries), and replayed by the admin command: no change
    before = attendance(client, teacher, halaka["id"]).json
    for delivery in sandbox_webhooks.webhooks()["deliveries"]:
        body = encode(delivery["body"])
        assert (
            requests.post(sandbox_webhooks_url(), data=body, headers=sign(body), timeout=5).status_code == 200
        )
    with get_engine().begin() as conn:
        ids = conn.execute(text("UPDATE webhook_events SET processed_at = NULL RETURNING id")).scalars().all()
    for event_id in ids:
        enqueue(WEBHOOK_TASK, event_id)
    events_settled(sandbox_webhooks, len(played["events"]))
    assert attendance(client, teacher, halaka["id"]).json == before


def sandbox_webhooks_url() -> str:
    from tests import webhook_fixture

    return webhook_fixture.LAST_API_URL + WEBHOOK_PATH


def post_event(event: dict) -> None:
    body = encode(event)
    r = requests.post(sandbox_webhooks_url(), data=body, headers=sign(body), timeout=5)
    assert r.status_code == 200, r.text


def meeting_event(name: str, meeting_id: str, uuid: str, start: str, **extra) -> dict:
    obj = {
        "id": meeting_id,
        "uuid": uuid,
        "host_id": "x1yCzABCDEfg23HiJKl4mN",
        "host_email": "host@example.com",
        "topic": "Tajweed",
        "type": 8,
        "start_time": start,
        "duration": 60,
        **extra,
    }
    return {"event": name, "event_ts": 1, "payload": {"account_id": "sandbox-account", "object": obj}}


def session_status(client, account, halaka_id: int, start: str) -> str:
    r = client.get(f"/api/v1/halaka/{halaka_id}/sessions", headers=account.headers)
    assert r.status_code == 200, r.json
    return next(s["status"] for s in r.json["data"]["sessions"] if utc(s["startUtc"]) == utc(start))


def test_started_then_ended_moves_the_session_status(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    halaka = ready_halaka(client, teacher, worker)
    meeting = halaka["zoomMeetings"][0]
    first = meeting["firstSession"]
    actual = (utc(first) + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert session_status(client, teacher, halaka["id"], first) == "scheduled"
    post_event(meeting_event("meeting.started", meeting["meetingId"], "inst-1==", actual))
    wait_for(lambda: session_status(client, teacher, halaka["id"], first) == "live", 20, 0.2, "live")
    end = (utc(first) + timedelta(minutes=58)).strftime("%Y-%m-%dT%H:%M:%SZ")
    post_event(meeting_event("meeting.ended", meeting["meetingId"], "inst-1==", actual, end_time=end))
    wait_for(lambda: session_status(client, teacher, halaka["id"], first) == "ended", 20, 0.2, "ended")
    with get_engine().connect() as conn:
        row = conn.execute(text("SELECT uuid, started_at, ended_at FROM meeting_instances")).one()
    assert row[0] == "inst-1==" and row[1] == utc(actual) and row[2] == utc(end)


def stored_outcome(event_id: int):
    with get_engine().connect() as conn:
        return conn.execute(
            text("SELECT outcome FROM webhook_events WHERE id = :i"), {"i": event_id}
        ).scalar()


def started_event(halaka: dict, uuid: str) -> dict:
    meeting = halaka["zoomMeetings"][0]
    return meeting_event(
        "meeting.started", meeting["meetingId"], uuid, meeting["firstSession"].replace("+00:00", "Z")
    )


def test_events_wait_for_a_stopped_webhook_worker_and_are_processed_when_it_starts(
    client, make_user, sandbox_webhooks, worker, webhook_worker
):
    teacher = make_user("teacher")
    halaka = ready_halaka(client, teacher, worker)
    webhook_worker.stop()
    try:
        post_event(started_event(halaka, "while-stopped=="))
        with get_engine().connect() as conn:
            assert (
                conn.execute(text("SELECT count(*) FROM webhook_events WHERE processed_at IS NULL")).scalar()
                == 1
            )
    finally:
        webhook_worker.start()
    first = halaka["zoomMeetings"][0]["firstSession"]
    wait_for(
        lambda: session_status(client, teacher, halaka["id"], first) == "live",
        60,
        0.3,
        "processed after start",
    )


def test_the_sweep_processes_a_stored_event_whose_enqueue_was_lost(
    client, make_user, zoom_configured, worker, webhook_worker
):
    from shared import webhook_store
    from shared.celery_config import WEBHOOK_SWEEP_TASK
    from shared.task_queue import producer

    teacher = make_user("teacher")
    halaka = ready_halaka(client, teacher, worker)
    event_id = webhook_store.store(encode(started_event(halaka, "lost-enqueue==")), "meeting.started")
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE webhook_events SET enqueued_at = now() - interval '10 minutes'"))
    producer().send_task(WEBHOOK_SWEEP_TASK, retry=False)
    assert wait_for(lambda: stored_outcome(event_id), 30, 0.2, "swept and processed") == "live"


def test_the_admin_command_replays_stored_events(
    app, client, make_user, zoom_configured, worker, webhook_worker
):
    from shared import webhook_store

    teacher = make_user("teacher")
    halaka = ready_halaka(client, teacher, worker)
    event_id = webhook_store.store(encode(started_event(halaka, "replayed==")), "meeting.started")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["replay-webhooks"]).exit_code != 0  # says which events
    result = runner.invoke(args=["replay-webhooks", "--event", "meeting.started"])
    assert result.exit_code == 0, result.output
    assert "1 event(s) marked for replay, 1 enqueued" in result.output
    assert wait_for(lambda: stored_outcome(event_id), 30, 0.2, "replayed") == "live"
    result = runner.invoke(args=["replay-webhooks", "--id", str(event_id)])
    assert "1 event(s) marked" in result.output
    assert wait_for(lambda: stored_outcome(event_id), 30, 0.2, "replayed again") == "live"
    with get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM meeting_instances")).scalar() == 1
