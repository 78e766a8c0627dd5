"""The sandbox sends webhooks like Zoom: signed, valid against Zoom's webhook spec, retried on 5xx and
timeouts (three more tries, delays scaled down), not on 4xx; portal changes, API writes and a
simulated class each produce their events, in order."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stack.embedded import free_port
from tests.sandbox.sandbox_helpers import HOST, meeting_body
from tests.sandbox_fixture import ZoomApiClient
from tests.zoom_webhook_spec import validate_event
from zoomsim.control import SandboxControl

SECRET = "sandbox-test-secret"


class Receiver:
    """A tiny HTTP endpoint recording what it gets; `answers` are popped per request (default 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int | str] = []
        self.server = make_server("127.0.0.1", free_port(), self, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        self.received.append({"headers": dict(request.headers), "body": body})
        answer = self.answers.pop(0) if self.answers else 200
        if answer == "hang":
            time.sleep(1.5)
            answer = 200
        return Response("{}", status=int(answer), content_type="application/json")(environ, start_response)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def hooked(zoom_sandbox: SandboxControl, receiver: Receiver) -> SandboxControl:
    zoom_sandbox.config(
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        webhook_delay_scale=0.0005,
        webhook_timeout_seconds=0.5,
    )
    return zoom_sandbox


def wait_deliveries(sandbox: SandboxControl, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    def done():
        log = sandbox.webhooks()
        return log["deliveries"] if len(log["deliveries"]) >= count and log["pending"] == 0 else None

    return sandbox.wait_until(done, timeout=timeout)


def create(api: ZoomApiClient, **overrides: Any) -> dict[str, Any]:
    response = api.post(f"/users/{HOST}/meetings", json=meeting_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def assert_signed(received: dict[str, Any]) -> None:
    headers = {k.lower(): v for k, v in received["headers"].items()}
    ts = headers["x-zm-request-timestamp"]
    assert ts.isdigit() and abs(int(ts) - time.time()) < 60
    expected = (
        "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + received["body"], hashlib.sha256).hexdigest()
    )
    assert headers["x-zm-signature"] == expected


def test_nothing_is_sent_without_a_webhook_url(zoom_sandbox, zoom_api, receiver):
    meeting = create(zoom_api)
    zoom_sandbox.portal_delete(meeting["id"])
    time.sleep(0.2)
    assert receiver.received == [] and zoom_sandbox.webhooks()["deliveries"] == []


def test_portal_delete_sends_a_signed_meeting_deleted_with_an_integer_id(hooked, zoom_api, receiver):
    meeting = create(zoom_api)
    hooked.portal_delete(meeting["id"])
    wait_deliveries(hooked, 1)
    (event,) = receiver.events()
    assert_signed(receiver.received[0])
    validate_event(event)
    assert event["event"] == "meeting.deleted"
    assert event["payload"]["operation"] == "all"
    assert event["payload"]["object"]["id"] == meeting["id"]  # an integer in deleted/updated events
    assert zoom_api.get(f"/meetings/{meeting['id']}", check_response=False).status_code == 404


def test_deleting_one_occurrence_sends_operation_single_with_it(hooked, zoom_api, receiver):
    meeting = create(zoom_api)
    occurrence = meeting["occurrences"][1]
    hooked.portal_delete(meeting["id"], occurrence_id=occurrence["occurrence_id"])
    wait_deliveries(hooked, 1)
    (event,) = receiver.events()
    validate_event(event)
    assert event["payload"]["operation"] == "single"
    assert event["payload"]["object"]["occurrences"] == [
        {"occurrence_id": occurrence["occurrence_id"], "start_time": occurrence["start_time"]}
    ]


def test_portal_time_change_sends_meeting_updated_with_old_and_new_values(hooked, zoom_api, receiver):
    meeting = create(zoom_api)
    hooked.portal_update(meeting["id"], start_time=meeting_body()["start_time"].replace("17:00", "19:30"))
    wait_deliveries(hooked, 1)
    (event,) = receiver.events()
    validate_event(event)
    payload = event["payload"]
    assert event["event"] == "meeting.updated"
    assert payload["object"]["start_time"] != payload["old_object"]["start_time"]
    assert [o["start_time"] for o in payload["object"]["occurrences"]] != [
        o["start_time"] for o in meeting["occurrences"]
    ]


def test_api_writes_are_echoed_like_zoom_does(hooked, zoom_api, receiver):
    meeting = create(zoom_api)
    assert zoom_api.patch(f"/meetings/{meeting['id']}", json={"duration": 50}).status_code == 204
    assert zoom_api.delete(f"/meetings/{meeting['id']}").status_code == 204
    wait_deliveries(hooked, 2)
    events = receiver.events()
    assert [e["event"] for e in events] == ["meeting.updated", "meeting.deleted"]
    for event in events:
        validate_event(event)


def test_moving_one_occurrence_sends_meeting_updated_scope_single_with_only_it(hooked, zoom_api, receiver):
    meeting = create(zoom_api)
    occurrence = meeting["occurrences"][2]
    later = datetime.fromisoformat(meeting["occurrences"][3]["start_time"]) + timedelta(minutes=30)
    new_start = later.strftime("%Y-%m-%dT%H:%M:%SZ")
    response = zoom_api.patch(
        f"/meetings/{meeting['id']}",
        params={"occurrence_id": occurrence["occurrence_id"]},
        json={"start_time": new_start, "duration": 60, "settings": {"waiting_room": False}},
    )
    assert response.status_code == 204
    nothing = zoom_api.patch(
        f"/meetings/{meeting['id']}",
        params={"occurrence_id": occurrence["occurrence_id"]},
        json={"duration": 60},
    )
    assert nothing.status_code == 204  # no change, no event
    hooked.portal_update(
        meeting["id"], occurrence_id=meeting["occurrences"][0]["occurrence_id"], agenda="Eid"
    )
    wait_deliveries(hooked, 2)
    api_event, portal_event = receiver.events()
    for event in (api_event, portal_event):
        validate_event(event)
        assert event["event"] == "meeting.updated" and event["payload"]["scope"] == "single"
    payload = api_event["payload"]
    moved = {**occurrence, "start_time": new_start, "duration": 60}
    assert payload["object"] == {
        "id": meeting["id"],
        "uuid": meeting["uuid"],
        "host_id": meeting["host_id"],
        "start_time": new_start,
        "duration": 60,
        "settings": {"waiting_room": False},
        "occurrences": [moved],
    }
    assert payload["old_object"] == {
        "id": meeting["id"],
        "uuid": meeting["uuid"],
        "host_id": meeting["host_id"],
        "start_time": occurrence["start_time"],
        "duration": occurrence["duration"],
        "settings": {"waiting_room": True},
        "occurrences": [occurrence],
    }
    assert portal_event["payload"]["object"]["agenda"] == "Eid"
    assert portal_event["payload"]["old_object"]["agenda"] == meeting["agenda"]


def test_5xx_is_retried_three_more_times_with_the_same_body_then_given_up(hooked, zoom_api, receiver):
    receiver.answers = [500, 503, 500, 502]
    meeting = create(zoom_api)
    hooked.portal_delete(meeting["id"])
    deliveries = wait_deliveries(hooked, 4)
    time.sleep(0.3)
    assert [d["attempt"] for d in hooked.webhooks()["deliveries"]] == [1, 2, 3, 4]
    assert len(receiver.received) == 4  # one try and three retries, no fifth
    assert len({r["body"] for r in receiver.received}) == 1
    assert deliveries[-1]["retrying"] is False


def test_a_retry_that_succeeds_stops_and_4xx_is_not_retried(hooked, zoom_api, receiver):
    receiver.answers = [500, 200, 401]
    first, second = create(zoom_api), create(zoom_api)
    hooked.portal_delete(first["id"])
    wait_deliveries(hooked, 2)
    hooked.portal_delete(second["id"])
    wait_deliveries(hooked, 3)
    time.sleep(0.3)
    assert [(d["attempt"], d["status"]) for d in hooked.webhooks()["deliveries"]] == [
        (1, 500),
        (2, 200),
        (1, 401),
    ]


def test_no_answer_within_the_timeout_is_retried(hooked, zoom_api, receiver):
    receiver.answers = ["hang"]
    meeting = create(zoom_api)
    hooked.portal_delete(meeting["id"])
    deliveries = wait_deliveries(hooked, 2)
    assert [(d["attempt"], d["status"]) for d in deliveries] == [(1, None), (2, 200)]


def test_simulate_plays_a_class_in_order_and_every_event_matches_zoom_s_spec(hooked, zoom_api, receiver):
    meeting = create(zoom_api)
    answer = hooked.simulate(
        meeting["id"],
        participants=[
            {"name": "Amina", "customer_key": "k" * 32, "join": 0, "leave": 20},
            {"name": "Yusuf", "email": "yusuf@example.com", "join": 12},
            {"name": "Guest Person", "join": 5, "leave": 10},
            {"name": "Amina", "customer_key": "k" * 32, "join": 25, "leave": 40},
        ],
    )
    names = answer["events"]
    wait_deliveries(hooked, len(names))
    events = receiver.events()
    assert [e["event"] for e in events] == names
    assert names[0] == "meeting.started" and names[-1] == "meeting.ended"
    assert names.count("meeting.participant_joined") == names.count("meeting.participant_left") == 4
    for event in events:
        validate_event(event)
        assert event["payload"]["object"]["uuid"] == answer["uuid"]
        assert isinstance(event["payload"]["object"]["id"], str)  # a string in these events
    times = [e["event_ts"] for e in events]
    assert times == sorted(times)
    joins = [
        e["payload"]["object"]["participant"] for e in events if e["event"] == "meeting.participant_joined"
    ]
    assert joins[0]["customer_key"] == "k" * 32 and joins[0]["email"] == ""
    amina = [p["participant_uuid"] for p in joins if p["user_name"] == "Amina"]
    assert len(amina) == 2 and amina[0] == amina[1]
    assert events[0]["payload"]["object"]["start_time"] == meeting["occurrences"][0]["start_time"]


@pytest.mark.parametrize(
    "body",
    [
        {"participants": "everyone"},
        {"participants": [{"name": "A", "join": 30, "leave": 10}]},
        {"duration": -5},
    ],
)
def test_simulate_refuses_a_plan_that_makes_no_sense(hooked, zoom_api, body):
    meeting = create(zoom_api)
    with pytest.raises(Exception, match="400"):
        hooked.simulate(meeting["id"], **body)


def test_webhook_config_is_checked(zoom_sandbox):
    with pytest.raises(Exception, match="400"):
        zoom_sandbox.config(webhook_url="ftp://example.com")
