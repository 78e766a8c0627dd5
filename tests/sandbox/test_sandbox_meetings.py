"""Create, get, update, delete and list meetings."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.sandbox.sandbox_helpers import (
    HOST,
    OTHER_HOST,
    YEAR,
    local,
    local_starts,
    meeting_body,
    next_weekday,
)
from tests.sandbox_fixture import ZoomApiClient
from tests.zoom_spec import validate_logged_request
from zoomsim.control import SandboxControl

pytest_plugins = ["tests.sandbox_fixture"]


def _create(api: ZoomApiClient, host: str = HOST, **overrides: Any) -> dict[str, Any]:
    response = api.post(f"/users/{host}/meetings", json=meeting_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def test_create_returns_zoom_meeting_object(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    meeting = _create(zoom_api)
    assert isinstance(meeting["id"], int) and meeting["id"] >= 10**10
    assert meeting["uuid"] and meeting["host_id"]
    assert meeting["host_email"] == HOST
    assert meeting["status"] == "waiting"
    assert meeting["type"] == 8
    assert meeting["pre_schedule"] is False
    assert "zak=" in meeting["start_url"]
    assert str(meeting["id"]) in meeting["join_url"]
    assert meeting["password"] == "Ab1@-_*!"
    for key in ("h323_password", "pstn_password", "encrypted_password", "created_at"):
        assert meeting[key]
    assert meeting["settings"]["waiting_room"] is True
    assert meeting["recurrence"] == {"type": 2, "repeat_interval": 1, "weekly_days": "2", "end_times": 4}
    assert len(meeting["occurrences"]) == 4
    assert meeting["start_time"] == meeting["occurrences"][0]["start_time"]
    stored = zoom_sandbox.meetings()
    assert [m["id"] for m in stored] == [meeting["id"]]
    assert stored[0]["host_user"] == HOST


def test_scheduled_meeting_with_utc_start(zoom_api: ZoomApiClient) -> None:
    body = meeting_body(type=2, start_time=f"{YEAR}-07-01T09:30:00Z", timezone="Asia/Riyadh")
    del body["recurrence"]
    response = zoom_api.post(f"/users/{HOST}/meetings", json=body)
    assert response.status_code == 201
    meeting = response.json()
    assert meeting["start_time"] == f"{YEAR}-07-01T09:30:00Z"
    assert "occurrences" not in meeting and "recurrence" not in meeting


def test_get_returns_same_meeting(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    fetched = zoom_api.get(f"/meetings/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created  # the start link is still valid, so it is the same


def test_start_url_expires_after_its_ttl_and_get_gives_a_fresh_one(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    assert zoom_sandbox.config()["start_url_ttl"] == 7200  # Zoom: two hours for regular users
    created = _create(zoom_api)
    status = zoom_sandbox.start_url_status(created["start_url"])
    assert status["valid"] and 7190 <= status["expires_in"] <= 7200
    zoom_sandbox.config(start_url_ttl=1)
    short = _create(zoom_api)["start_url"]
    assert zoom_sandbox.start_url_status(short)["valid"]
    time.sleep(1.2)
    assert zoom_sandbox.start_url_status(short) == {"valid": False, "expires_in": 0}
    fresh = zoom_api.get(f"/meetings/{short.split('/s/')[1].split('?')[0]}").json()["start_url"]
    assert fresh != short and zoom_sandbox.start_url_status(fresh)["valid"]
    assert not zoom_sandbox.start_url_status("https://zoom.us/s/1?zak=forged")["valid"]


def test_listed_agenda_is_truncated_to_250_characters(zoom_api: ZoomApiClient) -> None:
    agenda = "ب" * 240 + "[key-at-the-end]" + "x" * 1000
    created = _create(zoom_api, agenda=agenda)
    assert zoom_api.get(f"/meetings/{created['id']}").json()["agenda"] == agenda
    listed = zoom_api.get(f"/users/{HOST}/meetings").json()["meetings"]
    assert [m["agenda"] for m in listed] == [agenda[:250]]


def test_patch_applies_changes_and_reexpands(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    change = {
        "topic": "Renamed",
        "agenda": "new agenda",
        "duration": 30,
        "recurrence": {"type": 2, "repeat_interval": 1, "weekly_days": "2,4", "end_times": 6},
    }
    response = zoom_api.patch(f"/meetings/{created['id']}", json=change)
    assert response.status_code == 204
    assert response.content == b""
    updated = zoom_api.get(f"/meetings/{created['id']}").json()
    assert (updated["topic"], updated["agenda"], updated["duration"]) == ("Renamed", "new agenda", 30)
    assert len(updated["occurrences"]) == 6
    assert {o["duration"] for o in updated["occurrences"]} == {30}
    weekdays = {datetime.strptime(s, "%Y-%m-%d %H:%M").strftime("%a") for s in local_starts(updated)}
    assert weekdays == {"Mon", "Wed"}
    assert updated["occurrences"][0] == {**created["occurrences"][0], "duration": 30}


def test_patch_start_time_and_timezone(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    new_start = next_weekday(date(YEAR, 9, 1), 0)
    change = {"start_time": local(new_start, "06:15"), "timezone": "Africa/Cairo"}
    assert zoom_api.patch(f"/meetings/{created['id']}", json=change).status_code == 204
    updated = zoom_api.get(f"/meetings/{created['id']}").json()
    assert updated["timezone"] == "Africa/Cairo"
    assert local_starts(updated)[0] == f"{new_start} 06:15"
    assert len(updated["occurrences"]) == 4


def test_patch_with_past_start_time_leaves_recurrence_alone(zoom_api: ZoomApiClient) -> None:
    """Zoom ignores a past start_time on a recurring meeting and then skips the recurrence change."""
    created = _create(zoom_api)
    past = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
    change = {
        "topic": "Still applied",
        "start_time": past,
        "recurrence": {"type": 1, "repeat_interval": 1, "end_times": 2},
    }
    assert zoom_api.patch(f"/meetings/{created['id']}", json=change).status_code == 204
    updated = zoom_api.get(f"/meetings/{created['id']}").json()
    assert updated["topic"] == "Still applied"
    assert updated["recurrence"] == created["recurrence"]
    assert updated["occurrences"] == created["occurrences"]


def test_invalid_patch_changes_nothing(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    bad = {"topic": "ok", "recurrence": {"type": 2, "weekly_days": "2", "repeat_interval": 13}}
    response = zoom_api.patch(f"/meetings/{created['id']}", json=bad)
    assert response.status_code == 400
    assert response.json()["code"] == 300
    assert {**zoom_api.get(f"/meetings/{created['id']}").json(), "start_url": None} == {
        **created,
        "start_url": None,
    }


def test_delete_then_3001(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    path = f"/meetings/{created['id']}"
    deleted = zoom_api.delete(path)
    assert deleted.status_code == 204 and deleted.content == b""
    expected = {"code": 3001, "message": f"Meeting does not exist: {created['id']}."}
    for call in (zoom_api.get, zoom_api.delete):
        response = call(path)
        assert response.status_code == 404
        assert response.json() == expected
    missing = zoom_api.patch(path, json={"topic": "x"})
    assert missing.status_code == 404 and missing.json()["code"] == 3001


def test_delete_one_occurrence(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    occurrence = created["occurrences"][1]["occurrence_id"]
    path = f"/meetings/{created['id']}"
    assert zoom_api.delete(path, params={"occurrence_id": occurrence}).status_code == 204
    statuses = [o["status"] for o in zoom_api.get(path).json()["occurrences"]]
    assert statuses == ["available", "deleted", "available", "available"]
    again = zoom_api.delete(path, params={"occurrence_id": occurrence})
    assert again.status_code == 400 and again.json()["code"] == 300


def test_list_paginates_with_agenda(zoom_api: ZoomApiClient) -> None:
    ids = [_create(zoom_api, agenda=f"key-{i}")["id"] for i in range(5)]
    _create(zoom_api, host=OTHER_HOST, agenda="other host")
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"type": "scheduled", "page_size": 2}
    pages = 0
    while True:
        page = zoom_api.get(f"/users/{HOST}/meetings", params=params).json()
        pages += 1
        assert page["page_size"] == 2 and page["total_records"] == 5
        seen += page["meetings"]
        if not page["next_page_token"]:
            break
        params["next_page_token"] = page["next_page_token"]
    assert pages == 3
    assert [m["id"] for m in seen] == ids
    assert [m["agenda"] for m in seen] == [f"key-{i}" for i in range(5)]
    assert all(m["start_time"].endswith("Z") and m["join_url"] for m in seen)


def test_list_page_size_capped_and_errors(zoom_api: ZoomApiClient) -> None:
    big = zoom_api.get(f"/users/{HOST}/meetings", params={"page_size": 300}).json()
    assert big["page_size"] == 300 and big["meetings"] == [] and big["next_page_token"] == ""
    bad_token = zoom_api.get(f"/users/{HOST}/meetings", params={"next_page_token": "forged"})
    assert bad_token.status_code == 400 and bad_token.json()["code"] == 300
    unknown = zoom_api.get("/users/ghost@example.com/meetings")
    assert unknown.status_code == 404 and unknown.json()["code"] == 1001


def test_non_numeric_meeting_id_is_3001(zoom_api: ZoomApiClient) -> None:
    response = zoom_api.get("/meetings/abc")
    assert response.status_code == 404 and response.json()["code"] == 3001


def test_logged_request_bodies_match_spec(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    zoom_api.patch(f"/meetings/{created['id']}", json={"topic": "x"})
    zoom_api.get(f"/users/{HOST}/meetings")
    entries = [e for e in zoom_sandbox.requests_log() if e["path"].startswith("/v2/")]
    assert [e["operation"] for e in entries] == ["create", "update", "list"]
    assert all(e["host"] == HOST for e in entries)
    assert entries[0]["json"]["agenda"] == "provisioning-key: test"
    for entry in entries:
        validate_logged_request(entry)
    since = zoom_sandbox.requests_log(since=entries[1]["seq"])
    assert [e["operation"] for e in since] == ["list"]
    zoom_sandbox.clear_requests_log()
    assert zoom_sandbox.requests_log() == []
