"""The trust model with a real Celery worker on the sandbox: shared-host meetings run without a host,
`Prefer: wait` waits without a transaction and wakes on the worker's announcement, and a database error
while recording a meeting leaks no passcode, start link, ZAK or secret into the worker's log, the task
events Flower shows, or the broker."""

from __future__ import annotations

import json
import threading
import time

import psutil
from sqlalchemy import text

from shared.db import get_engine
from shared.redis_client import get_redis
from shared.settings import get_settings
from shared.task_queue import producer
from tests.integration.helpers import create, sandbox_meetings_of, schedule, wait_status
from tests.worker_fixture import wait_for

OWN_ZOOM_USER = "teacher@example.com"


def test_shared_host_meetings_run_without_a_host_and_own_ones_with_it(
    client, make_user, worker, zoom_sandbox
):
    shared = make_user("teacher")  # no linked Zoom user: hosted by ZOOM_DEFAULT_HOST_USER
    own = make_user("teacher", zoom_user_id=OWN_ZOOM_USER)
    settings = {}
    for who in (shared, own):
        data = wait_status(client, who, create(client, who)["id"], worker=worker)
        assert data["zoomStatus"] == "ready", data
        [meeting] = sandbox_meetings_of(zoom_sandbox, data)
        settings[who.id] = meeting["settings"]
        start = client.post(f"/api/v1/halaka/{data['id']}/start", headers=who.headers)
        sign = client.post(
            "/api/v1/zoom/signature",
            json={"meetingNumber": data["zoomMeeting"]["meetingId"], "role": 1},
            headers=who.headers,
        )
        expected = 403 if who is shared else None
        assert (start.status_code, sign.status_code) == ((403, 403) if expected else (200, 201))
    assert settings[shared.id]["join_before_host"] is True and settings[shared.id]["waiting_room"] is False
    assert settings[own.id]["join_before_host"] is False and settings[own.id]["waiting_room"] is True


def _idle_in_transaction_here() -> int:
    """Connections of this process (the API under the test client) idle inside a transaction. The
    worker's own (a share lock held around each Zoom call) are another process's and not counted."""
    pg_port = get_engine().url.port
    mine = {
        c.laddr.port
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == pg_port
    }
    with get_engine().connect() as conn:
        states = conn.execute(
            text(
                "SELECT client_port, state FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ).all()
    assert any(port in mine for port, _ in states), "found none of this process's connections"
    return sum(1 for port, state in states if port in mine and state.startswith("idle in transaction"))


def test_prefer_wait_holds_no_transaction_and_wakes_on_the_outcome(client, make_user, worker, zoom_sandbox):
    zoom_sandbox.config(latency_ms=1500)  # each Zoom call takes 1.5 s: the request waits a few seconds
    teacher = make_user("teacher", zoom_user_id=OWN_ZOOM_USER)
    result = {}

    def request():
        started = time.monotonic()
        result["response"] = client.post(
            "/api/v1/halaka/",
            json={"title": "Waited", "schedule": schedule()},
            headers={**teacher.headers, "Prefer": "wait=25"},
        )
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=request)
    thread.start()
    samples = []
    while thread.is_alive():
        samples.append(_idle_in_transaction_here())
        time.sleep(0.2)
    thread.join()
    response = result["response"]
    assert response.status_code == 201 and response.json["data"]["zoomStatus"] == "ready", response.json
    assert response.json["data"]["zoomMeeting"]["meetingId"]
    assert response.headers["Preference-Applied"] == "wait=25"
    assert len(samples) >= 5, "the request did not wait: nothing was observed"
    assert max(samples) == 0, f"a transaction stayed open while the request waited: {samples}"
    assert result["seconds"] < 20


FORCE_ERROR = """
CREATE OR REPLACE FUNCTION trust_test_fail_record() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'forced failure while recording a meeting' USING ERRCODE = '40001'; END
$$ LANGUAGE plpgsql;
CREATE TRIGGER trust_test_fail_record BEFORE INSERT ON zoom_meetings
FOR EACH ROW EXECUTE FUNCTION trust_test_fail_record();
"""
UNFORCE = """
DROP TRIGGER IF EXISTS trust_test_fail_record ON zoom_meetings;
DROP FUNCTION IF EXISTS trust_test_fail_record();
"""


class EventTap:
    """Every Celery task event on the broker (what Flower receives and shows as task info)."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.receiver = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> EventTap:
        self._thread.start()
        # ready once anything arrives: capture(wakeup=True) asks the workers for a heartbeat
        wait_for(lambda: self.events or self.error, timeout=20, what="the first worker event")
        assert self.error is None, self.error
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.receiver is not None:
            self.receiver.should_stop = True
        self._thread.join(10)

    def _run(self) -> None:
        app = producer()
        try:
            with app.connection_for_read() as conn:
                self.receiver = app.events.Receiver(conn, handlers={"*": self.events.append})
                self.receiver.capture(limit=None, timeout=None, wakeup=True)
        except BaseException as exc:
            self.error = exc

    def text(self) -> str:
        return json.dumps(self.events, default=str)


def _broker_dump() -> str:
    """Every value the broker's Redis holds (queues, unacked messages, bindings…), but the Zoom OAuth
    token cache, which shares the Redis server and is where that token belongs."""
    r = get_redis()
    parts = []
    for key in r.scan_iter(count=500):
        if key.startswith(b"zoom:oauth:"):
            continue
        kind = r.type(key).decode()
        if kind == "string":
            parts.append(repr(r.get(key)))
        elif kind == "list":
            parts.append(repr(r.lrange(key, 0, -1)))
        elif kind == "hash":
            parts.append(repr(r.hgetall(key)))
        elif kind == "set":
            parts.append(repr(r.smembers(key)))
        elif kind == "zset":
            parts.append(repr(r.zrange(key, 0, -1)))
    return "\n".join(parts)


def test_a_database_error_while_recording_a_meeting_leaks_no_secret(client, make_user, worker, zoom_sandbox):
    teacher = make_user("teacher", zoom_user_id=OWN_ZOOM_USER)
    log_start = worker.log_path.stat().st_size if worker.log_path.exists() else 0
    with get_engine().begin() as conn:
        conn.exec_driver_sql(FORCE_ERROR)
    try:
        with EventTap() as tap:
            halaka = create(client, teacher, title="Recording fails")
            retried = wait_for(
                lambda: [e for e in tap.events if e.get("type") == "task-retried"],
                timeout=40,
                what="the task to retry after the database error",
            )
            broker = _broker_dump()
        assert "forced failure while recording" in tap.text(), "the error did not reach the task events"
        assert retried
    finally:
        with get_engine().begin() as conn:
            conn.exec_driver_sql(UNFORCE)
    meetings = [m for m in zoom_sandbox.meetings() if m.get("host_user") == OWN_ZOOM_USER]
    assert meetings, "Zoom never created the meeting: the error did not happen while recording it"
    settings = get_settings()
    secrets = {
        "jwt secret": settings.jwt_secret_key.get_secret_value(),
        "sdk secret": settings.zoom_sdk_secret.get_secret_value(),
        "zoom client secret": settings.zoom_client_secret.get_secret_value(),
    }
    for m in meetings:
        secrets[f"passcode {m['id']}"] = m["password"]
        secrets[f"start url {m['id']}"] = m["start_url"]
        secrets[f"zak {m['id']}"] = m["start_url"].split("zak=", 1)[1]
        secrets[f"join url {m['id']}"] = m["join_url"]
    oauth = get_redis().get(f"zoom:oauth:{settings.zoom_client_id}:token")
    if oauth:
        secrets["zoom oauth token"] = oauth.decode()
    with open(worker.log_path, errors="replace") as log:
        log.seek(log_start)
        worker_log = log.read()
    assert "forced failure while recording" in worker_log or "Retry" in worker_log, worker_log[-2000:]
    for where, content in (
        ("worker log", worker_log),
        ("task events (Flower)", tap.text()),
        ("broker", broker),
    ):
        leaked = [name for name, value in secrets.items() if value and value in content]
        assert not leaked, f"{where} holds {leaked}"
    assert halaka["id"]
