"""Faults (README, Benchmarks): every halaka ends ready with exactly one Zoom meeting per segment."""

from __future__ import annotations

import pytest

from shared.redis_client import get_redis
from tests.integration.helpers import create, keyed_meetings, wait_status
from tests.worker_fixture import wait_for


def assert_one_meeting_per_segment(sandbox, halakat: list[dict]) -> None:
    groups = keyed_meetings(sandbox)
    duplicates = {key: ids for key, ids in groups.items() if len(ids) != 1}
    assert not duplicates, f"duplicate meetings: {duplicates}"
    expected = sum(len(h["zoomMeetings"]) for h in halakat)
    assert len(sandbox.meetings()) == expected


def test_thirty_percent_errors_and_timeouts(client, make_user, worker, beat, zoom_sandbox):
    zoom_sandbox.config(error_rate=0.2, timeout_rate=0.1, hang_seconds=4, seed=7)
    teacher = make_user("teacher")
    ids = [create(client, teacher, title=f"H{i}", frequency="daily", length_days=55)["id"] for i in range(6)]
    done = [wait_status(client, teacher, i, timeout=120, worker=worker) for i in ids]
    assert [h["zoomStatus"] for h in done] == ["ready"] * 6
    assert all(len(h["zoomMeetings"]) == 2 for h in done)
    stats = zoom_sandbox.stats()
    assert stats["responses"].get("500", 0) + stats["responses"].get("dropped", 0) > 0
    assert_one_meeting_per_segment(zoom_sandbox, done)


@pytest.mark.parametrize("mode", ["500", "drop"])
def test_created_but_response_lost(client, make_user, worker, zoom_sandbox, mode):
    zoom_sandbox.fault(kind="commit_then_fail", count=1, mode=mode, match="create")
    teacher = make_user("teacher")
    data = wait_status(client, teacher, create(client, teacher)["id"], worker=worker)
    assert data["zoomStatus"] == "ready"
    creates = [
        r
        for r in zoom_sandbox.requests_log()
        if r["method"] == "POST" and "/meetings" in r["path"] and r["status"] != 401
    ]
    agendas = [(r["seq"], r["status"], (r["json"] or {}).get("agenda", "")[-50:]) for r in creates]
    assert len(creates) == 1, f"the lost response must be adopted, not created again: {agendas}"
    assert_one_meeting_per_segment(zoom_sandbox, [data])


def test_worker_killed_while_zoom_holds_the_create(client, make_user, worker, beat, zoom_sandbox):
    zoom_sandbox.fault(kind="hold", count=1, seconds=3, match="create")
    teacher = make_user("teacher")
    halaka_id = create(client, teacher)["id"]
    wait_for(
        lambda: any(r["method"] == "POST" and r["status"] is None for r in zoom_sandbox.requests_log()),
        20,
        what="the create to be held by the sandbox",
    )
    worker.kill()
    wait_for(lambda: len(zoom_sandbox.meetings()) == 1, 10, what="the held create to commit")
    worker.start()
    data = wait_status(client, teacher, halaka_id, timeout=60, worker=worker)
    assert data["zoomStatus"] == "ready"
    assert_one_meeting_per_segment(zoom_sandbox, [data])
    assert len(zoom_sandbox.meetings()) == 1


def test_broker_flushed_after_create(client, make_user, worker, beat, zoom_sandbox):
    worker.stop()
    teacher = make_user("teacher")
    halaka_id = create(client, teacher)["id"]
    get_redis().flushall()
    worker.start()
    data = wait_status(client, teacher, halaka_id, timeout=60, worker=worker)
    assert data["zoomStatus"] == "ready"
    assert_one_meeting_per_segment(zoom_sandbox, [data])


def test_broker_down_at_create_still_201(client, make_user, worker, beat, zoom_sandbox, monkeypatch):
    import shared.task_queue as task_queue
    from shared.settings import get_settings

    teacher = make_user("teacher")
    with monkeypatch.context() as patch:
        patch.setattr(get_settings(), "celery_broker_url", "redis://127.0.0.1:1/0")
        task_queue.producer.cache_clear()
        created = create(client, teacher)
    task_queue.producer.cache_clear()
    assert created["zoomStatus"] == "pending"
    data = wait_status(client, teacher, created["id"], timeout=60, worker=worker)
    assert data["zoomStatus"] == "ready"


def test_zoom_outage_then_recovery(client, make_user, worker, beat, zoom_sandbox):
    import time

    zoom_sandbox.config(outage=True)
    teacher = make_user("teacher")
    ids = [create(client, teacher, title=f"O{i}")["id"] for i in range(3)]
    time.sleep(10)
    statuses = {
        wait_status(client, teacher, i, statuses={"pending", "provisioning"})["zoomStatus"] for i in ids
    }
    assert statuses <= {"pending", "provisioning"}
    zoom_sandbox.config(outage=False)
    done = [wait_status(client, teacher, i, timeout=90, worker=worker) for i in ids]
    assert [h["zoomStatus"] for h in done] == ["ready"] * 3
    assert_one_meeting_per_segment(zoom_sandbox, done)
