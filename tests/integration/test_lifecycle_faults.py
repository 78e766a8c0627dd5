"""Fault tests of the lifecycle with a real worker and the sandbox behaving as Zoom documents (listed
agendas truncated to 250 characters): long and non-Latin texts, kills, races, deletes during a run,
malformed answers and absurd Retry-After values."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from shared.db import session_scope
from shared.models import Halaka
from shared.zoom.recurrence import sessions
from tests.integration.helpers import get, keyed_meetings, schedule, utc, wait_status
from tests.integration.test_faults import assert_one_meeting_per_segment
from tests.worker_fixture import wait_for

ARABIC_TITLE = "حلقة تجويد للمبتدئين " * 9  # 189 characters
ARABIC_LONG = ("بسم الله الرحمن الرحيم، الحمد لله رب العالمين. " * 60)[:2000]
LATIN_LONG = ("Tajweed rules, makharij and sifat for beginners; bring a mushaf. " * 40)[:2000]


def create(client, account, *, title="Tajweed", description="", **schedule_kw) -> dict:
    r = client.post(
        "/api/v1/halaka/",
        json={"title": title.strip(), "description": description, "schedule": schedule(**schedule_kw)},
        headers=account.headers,
    )
    assert r.status_code == 201, r.json
    return r.json["data"]


def creates(sandbox, since: int = 0) -> list[dict]:
    return [
        r
        for r in sandbox.requests_log(since)
        if r["method"] == "POST" and r["path"].endswith("/meetings") and r["status"] != 401
    ]


def _row(halaka_id: int) -> Halaka:
    with session_scope() as s:
        return s.get(Halaka, halaka_id)


def _zoom_holds_the_plan(sandbox, halaka_id: int) -> None:
    """Every occurrence on Zoom, across the halaka's meetings, is exactly its planned sessions."""
    h = _row(halaka_id)
    planned = sessions(h.schedule, after=h.plan_after)
    on_zoom = sorted(utc(o["start_time"]) for m in sandbox.meetings() for o in m["occurrences"])
    assert on_zoom == [s.start_utc for s in planned]


def _kill_while_held(sandbox, worker, operation: str) -> None:
    """Wait until the sandbox holds a request of `operation`, SIGKILL the worker, start a new one."""
    wait_for(
        lambda: any(r["operation"] == operation and r["status"] is None for r in sandbox.requests_log()),
        30,
        what=f"the {operation} to be held",
    )
    worker.kill()
    worker.start()


@pytest.mark.parametrize("mode", ["500", "drop"])
@pytest.mark.parametrize(
    ("title", "description"),
    [("Tajweed", LATIN_LONG), (ARABIC_TITLE, ARABIC_LONG)],
    ids=["latin-2000", "arabic-2000"],
)
def test_lost_create_response_with_a_2000_character_description_makes_one_meeting(
    client, make_user, worker, zoom_sandbox, mode, title, description
):
    zoom_sandbox.fault(kind="commit_then_fail", count=1, mode=mode, match="create")
    teacher = make_user("teacher")
    data = wait_status(
        client, teacher, create(client, teacher, title=title, description=description)["id"], worker=worker
    )
    assert data["zoomStatus"] == "ready", data
    assert len(creates(zoom_sandbox)) == 1, "the lost response must be adopted, not created again"
    assert_one_meeting_per_segment(zoom_sandbox, [data])
    [meeting] = zoom_sandbox.meetings()
    assert len(meeting["agenda"]) <= 2000 and meeting["agenda"].startswith("[halaka-key:")


@pytest.mark.parametrize("held", [1, 2], ids=["kill-during-first-create", "kill-during-second-create"])
def test_kill_at_each_create_makes_one_meeting_per_segment(
    client, make_user, worker, beat, zoom_sandbox, held
):
    if held == 2:
        zoom_sandbox.fault(kind="hold", count=1, seconds=0, match="create")
    zoom_sandbox.fault(kind="hold", count=1, seconds=3, match="create")
    teacher = make_user("teacher")
    halaka_id = create(
        client, teacher, title=ARABIC_TITLE, description=ARABIC_LONG, frequency="daily", length_days=119
    )["id"]
    wait_for(
        lambda: (
            len([r for r in creates(zoom_sandbox) if r["status"] is None]) == 1
            and len(creates(zoom_sandbox)) == held
        ),
        30,
        what=f"create #{held} to be held by the sandbox",
    )
    worker.kill()
    wait_for(lambda: len(zoom_sandbox.meetings()) == held, 10, what="the held create to commit")
    worker.start()
    data = wait_status(client, teacher, halaka_id, timeout=90, worker=worker)
    assert data["zoomStatus"] == "ready", data
    assert [m["occurrences"] for m in data["zoomMeetings"]] == [50, 50, 20]
    assert_one_meeting_per_segment(zoom_sandbox, [data])


def test_two_patches_racing_end_with_zoom_on_the_second(client, make_user, worker, zoom_sandbox):
    teacher = make_user("teacher")
    halaka_id = create(client, teacher)["id"]
    assert wait_status(client, teacher, halaka_id, worker=worker)["zoomStatus"] == "ready"
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def patch(days: list[str]) -> None:
        barrier.wait()
        r = client.patch(
            f"/api/v1/halaka/{halaka_id}", json={"schedule": {"days": days}}, headers=teacher.headers
        )
        answers.append(r.status_code)

    threads = [threading.Thread(target=patch, args=(d,)) for d in (["tuesday"], ["thursday", "friday"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [200, 200]
    data = wait_status(client, teacher, halaka_id, worker=worker)
    assert data["zoomStatus"] == "ready", data
    h = _row(halaka_id)
    assert (h.schedule_version, h.applied_version) == (3, 3), "each PATCH is its own version"
    _zoom_holds_the_plan(zoom_sandbox, halaka_id)
    assert data["schedule"]["days"] in (["tuesday"], ["thursday", "friday"])


def test_delete_during_a_20_segment_create_stops_the_creates(client, make_user, worker, zoom_sandbox):
    zoom_sandbox.config(latency_ms=150)
    teacher = make_user("teacher")
    halaka_id = create(client, teacher, frequency="daily", length_days=959)["id"]  # 960 sessions: 20 segments
    wait_for(lambda: len(creates(zoom_sandbox)) >= 3, 60, what="three creates")
    r = client.delete(f"/api/v1/halaka/{halaka_id}", headers=teacher.headers)
    assert r.status_code == 200 and r.json["data"]["zoomStatus"] == "deleting"
    committed = max(e["seq"] for e in zoom_sandbox.requests_log())
    wait_for(
        lambda: client.get(f"/api/v1/halaka/{halaka_id}", headers=teacher.headers).status_code == 404,
        60,
        what="the halaka to be deleted",
    )
    late = [c for c in creates(zoom_sandbox) if c["seq"] > committed]
    assert late == [], "no create may start after the delete is committed"
    assert len(creates(zoom_sandbox)) < 20
    assert zoom_sandbox.meetings() == []


def test_malformed_2xx_body_fails_after_the_attempt_budget(client, make_user, worker, zoom_sandbox):
    zoom_sandbox.fault(kind="malformed", count=1000, match="create")
    teacher = make_user("teacher")
    halaka_id = create(client, teacher)["id"]
    wait_for(lambda: _row(halaka_id).attempts >= 1 and creates(zoom_sandbox), 30, what="a first attempt")
    with session_scope() as s:  # skip most of the 40-attempt budget the test worker runs with
        s.execute(update(Halaka).where(Halaka.id == halaka_id).values(attempts=37))
    data = wait_status(client, teacher, halaka_id, timeout=60, worker=worker)
    assert data["zoomStatus"] == "failed"
    assert data["zoomError"] == "gave up after 40 attempts: unexpected error while talking to Zoom (KeyError)"
    assert _row(halaka_id).next_attempt_at is None
    r = client.post(f"/api/v1/halaka/{halaka_id}/zoom/retry", headers=teacher.headers)
    assert r.status_code == 200 and r.json["data"]["zoomStatus"] == "pending"


@pytest.mark.parametrize(
    ("form", "value"),
    [
        ("seconds", 1e12),
        ("http-date", (datetime(9999, 12, 31, tzinfo=UTC) - datetime.now(UTC)).total_seconds()),
    ],
    ids=["1e12-seconds", "year-9999-date"],
)
def test_absurd_retry_after_waits_the_cap(client, make_user, worker, zoom_sandbox, form, value):
    zoom_sandbox.fault(kind="429", count=1, retry_after=form, value=value, match="create")
    teacher = make_user("teacher")
    halaka_id = create(client, teacher)["id"]
    data = wait_status(client, teacher, halaka_id, timeout=30, worker=worker)
    assert data["zoomStatus"] == "ready" and data["zoomError"] is None
    assert [r["fault"] for r in creates(zoom_sandbox)] == ["429", None]
    assert "OverflowError" not in worker.log_tail(400)


def test_daily_limit_waits_until_midnight_with_a_readable_error(client, make_user, worker, zoom_sandbox):
    zoom_sandbox.config(daily_limit=0)
    teacher = make_user("teacher")
    halaka_id = create(client, teacher)["id"]
    wait_for(lambda: _row(halaka_id).zoom_error, 30, what="the daily limit to be recorded")
    h = _row(halaka_id)
    midnight = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), datetime.min.time(), UTC)
    assert h.zoom_status == "provisioning"
    assert (
        h.zoom_error
        == "Zoom's daily meeting limit for host host@example.com is reached; retrying after 00:00 UTC"
    )
    assert midnight < h.next_attempt_at <= midnight + timedelta(seconds=61)
    assert h.attempts == 0
    assert get(client, teacher, halaka_id)["zoomError"] == h.zoom_error


def test_moving_end_date_by_a_week_on_20_segments_costs_at_most_two_writes(
    client, make_user, worker, zoom_sandbox
):
    teacher = make_user("teacher", zoom_user_id="host@example.com")  # its own host: no shared budget
    created = create(client, teacher, frequency="daily", length_days=959)
    data = wait_status(client, teacher, created["id"], timeout=120, worker=worker)
    assert data["zoomStatus"] == "ready" and len(data["zoomMeetings"]) == 20
    for days in (7, -14):
        seq = max(e["seq"] for e in zoom_sandbox.requests_log())
        end = (datetime.fromisoformat(data["schedule"]["endDate"]) + timedelta(days=days)).date()
        r = client.patch(
            f"/api/v1/halaka/{created['id']}",
            json={"schedule": {"endDate": end.isoformat()}},
            headers=teacher.headers,
        )
        assert r.status_code == 200, r.json
        data = wait_status(client, teacher, created["id"], timeout=60, worker=worker)
        assert data["zoomStatus"] == "ready", data
        writes = [
            (e["method"], e["path"])
            for e in zoom_sandbox.requests_log(seq)
            if e["method"] in ("POST", "PATCH") and e["path"].startswith("/v2/")
        ]
        assert 1 <= len(writes) <= 2, writes
    _zoom_holds_the_plan(zoom_sandbox, created["id"])
    assert all(len(ids) == 1 for ids in keyed_meetings(zoom_sandbox).values())


def test_a_schedule_change_during_a_run_reaches_zoom(client, make_user, worker, zoom_sandbox):
    zoom_sandbox.fault(kind="hold", count=1, seconds=2, match="create")
    teacher = make_user("teacher")
    halaka_id = create(client, teacher)["id"]
    wait_for(lambda: any(r["status"] is None for r in creates(zoom_sandbox)), 20, what="the held create")
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"schedule": {"days": ["sunday"]}}, headers=teacher.headers
    )
    assert r.status_code == 200
    data = wait_status(client, teacher, halaka_id, timeout=60, worker=worker)
    assert data["zoomStatus"] == "ready"
    h = _row(halaka_id)
    assert h.applied_version == h.schedule_version == 2
    [zoom] = zoom_sandbox.meetings()
    assert {utc(o["start_time"]).weekday() for o in zoom["occurrences"]} == {6}  # Sundays


def test_kill_during_the_adoption_list_makes_one_meeting(client, make_user, worker, beat, zoom_sandbox):
    zoom_sandbox.fault(kind="commit_then_fail", count=1, mode="drop", match="create")
    zoom_sandbox.fault(kind="hold", count=1, seconds=3, match="list")
    teacher = make_user("teacher")
    halaka_id = create(client, teacher, title=ARABIC_TITLE, description=ARABIC_LONG)["id"]
    _kill_while_held(zoom_sandbox, worker, "list")
    data = wait_status(client, teacher, halaka_id, timeout=60, worker=worker)
    assert data["zoomStatus"] == "ready", data
    assert len(creates(zoom_sandbox)) == 1
    assert_one_meeting_per_segment(zoom_sandbox, [data])


def test_kill_during_an_update_ends_on_the_new_schedule(client, make_user, worker, beat, zoom_sandbox):
    teacher = make_user("teacher")
    halaka_id = create(
        client, teacher, title=ARABIC_TITLE, description=LATIN_LONG, frequency="daily", length_days=59
    )["id"]
    assert wait_status(client, teacher, halaka_id, worker=worker)["zoomStatus"] == "ready"
    zoom_sandbox.fault(kind="hold", count=1, seconds=3, match="update")
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"schedule": {"startTime": "06:15"}}, headers=teacher.headers
    )
    assert r.status_code == 200
    _kill_while_held(zoom_sandbox, worker, "update")
    data = wait_status(client, teacher, halaka_id, timeout=60, worker=worker)
    assert data["zoomStatus"] == "ready", data
    assert len(creates(zoom_sandbox)) == 2
    assert_one_meeting_per_segment(zoom_sandbox, [data])
    _zoom_holds_the_plan(zoom_sandbox, halaka_id)
