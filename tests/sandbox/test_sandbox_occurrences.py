"""One occurrence of a recurring meeting: `GET`, `PATCH` and `DELETE /meetings/{id}?occurrence_id=` as
Zoom's spec documents them (every request and response checked against the spec by `zoom_api`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.sandbox.sandbox_helpers import HOST, YEAR, local, meeting_body, next_weekday
from tests.sandbox_fixture import ZoomApiClient
from zoomsim.control import SandboxControl

pytest_plugins = ["tests.sandbox_fixture"]

INVALID_OCCURRENCE = {
    "code": 300,
    "message": "Invalid parameter: occurrence_id.",
    "errors": [{"field": "occurrence_id", "message": "Invalid parameter: occurrence_id."}],
}


def _create(api: ZoomApiClient, **overrides: Any) -> dict[str, Any]:
    response = api.post(f"/users/{HOST}/meetings", json=meeting_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def _get(api: ZoomApiClient, meeting: dict[str, Any], occurrence_id: str | None = None) -> dict[str, Any]:
    params = {"occurrence_id": occurrence_id} if occurrence_id else None
    response = api.get(f"/meetings/{meeting['id']}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _patch(api: ZoomApiClient, meeting: dict[str, Any], occurrence_id: str, **body: Any) -> Any:
    return api.patch(f"/meetings/{meeting['id']}", params={"occurrence_id": occurrence_id}, json=body)


def _by_id(meeting: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["occurrence_id"]: o for o in meeting["occurrences"]}


def test_get_one_occurrence_gives_its_time_and_duration(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    third = created["occurrences"][2]
    view = _get(zoom_api, created, third["occurrence_id"])
    assert (view["start_time"], view["duration"]) == (third["start_time"], third["duration"])
    assert view["occurrences"] == created["occurrences"]
    assert view["id"] == created["id"] and view["join_url"] == created["join_url"]
    assert _get(zoom_api, created)["start_time"] == created["occurrences"][0]["start_time"]


def test_unknown_occurrence_id_is_400_code_300_on_every_method(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    path = f"/meetings/{created['id']}"
    params = {"occurrence_id": "1234"}
    for response in (
        zoom_api.get(path, params=params),
        zoom_api.patch(path, params=params, json={"duration": 30}),
        zoom_api.delete(path, params=params),
    ):
        assert response.status_code == 400 and response.json() == INVALID_OCCURRENCE
    single = meeting_body(type=2, start_time=f"{YEAR}-07-01T09:30:00Z")
    del single["recurrence"]
    scheduled = zoom_api.post(f"/users/{HOST}/meetings", json=single).json()
    response = zoom_api.get(f"/meetings/{scheduled['id']}", params={"occurrence_id": "1234"})
    assert response.status_code == 400 and response.json()["code"] == 300
    assert _get(zoom_api, created) == {**created, "start_url": _get(zoom_api, created)["start_url"]}


def test_patch_one_occurrence_moves_only_it_and_keeps_its_id(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    second = created["occurrences"][1]
    new_day = next_weekday(date(YEAR, 6, 1), 2) + timedelta(weeks=1)  # Wednesday, not the series' Tuesday
    response = _patch(
        zoom_api, created, second["occurrence_id"], start_time=local(new_day, "18:30"), duration=90
    )
    assert response.status_code == 204 and response.content == b""
    after = _get(zoom_api, created)
    moved = _by_id(after)[second["occurrence_id"]]
    expected_start = datetime.fromisoformat(f"{new_day}T18:30:00").replace(tzinfo=ZoneInfo(after["timezone"]))
    assert moved == {
        "occurrence_id": second["occurrence_id"],
        "start_time": expected_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": 90,
        "status": "available",
    }
    others = {k: v for k, v in _by_id(after).items() if k != second["occurrence_id"]}
    assert others == {k: v for k, v in _by_id(created).items() if k != second["occurrence_id"]}
    assert [o["start_time"] for o in after["occurrences"]] == sorted(
        o["start_time"] for o in after["occurrences"]
    )
    assert (after["duration"], after["recurrence"], after["start_time"]) == (
        created["duration"],
        created["recurrence"],
        created["start_time"],
    )
    view = _get(zoom_api, created, second["occurrence_id"])
    assert (view["start_time"], view["duration"]) == (moved["start_time"], 90)


def test_patch_accepts_a_utc_start_and_moves_the_first_occurrence_after_the_second(
    zoom_api: ZoomApiClient,
) -> None:
    created = _create(zoom_api)
    first, second = created["occurrences"][0], created["occurrences"][1]
    later = (datetime.fromisoformat(second["start_time"]) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _patch(zoom_api, created, first["occurrence_id"], start_time=later).status_code == 204
    after = _get(zoom_api, created)
    assert [o["occurrence_id"] for o in after["occurrences"][:2]] == [
        second["occurrence_id"],
        first["occurrence_id"],
    ]
    assert after["start_time"] == second["start_time"]
    assert after["occurrences"][1]["start_time"] == later


def test_agenda_and_documented_settings_change_for_that_occurrence_only(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    occurrence_id = created["occurrences"][3]["occurrence_id"]
    settings = {"waiting_room": False, "auto_recording": "cloud", "mute_upon_entry": True}
    response = _patch(zoom_api, created, occurrence_id, agenda="make-up class", settings=settings)
    assert response.status_code == 204
    view = _get(zoom_api, created, occurrence_id)
    assert view["agenda"] == "make-up class"
    assert {k: view["settings"][k] for k in settings} == settings
    series = _get(zoom_api, created)
    assert series["agenda"] == created["agenda"] and series["settings"] == created["settings"]
    assert _by_id(series)[occurrence_id] == _by_id(created)[occurrence_id]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topic": "Renamed"}, "topic"),
        ({"timezone": "Asia/Riyadh"}, "timezone"),
        ({"recurrence": {"type": 1, "end_times": 2}}, "recurrence"),
        ({"password": "abc123"}, "password"),
        ({"settings": {"audio": "both"}}, "settings.audio"),
        ({"settings": {"auto_recording": "tape"}}, "settings.auto_recording"),
        ({"settings": {"host_video": "yes"}}, "settings.host_video"),
        ({"duration": 0}, "duration"),
        ({"start_time": "next week"}, "start_time"),
    ],
)
def test_what_a_single_occurrence_may_not_change_is_a_400_naming_the_field(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient, body: dict[str, Any], field: str
) -> None:
    created = _create(zoom_api)
    response = zoom_api.patch(
        f"/meetings/{created['id']}",
        params={"occurrence_id": created["occurrences"][0]["occurrence_id"]},
        json=body,
        check_request=False,  # some of these bodies are valid series updates, others invalid anyway
    )
    assert response.status_code == 400
    assert response.json()["code"] == 300 and response.json()["errors"][0]["field"] == field
    assert _get(zoom_api, created)["occurrences"] == created["occurrences"]
    zoom_sandbox.clear_requests_log()  # the refused bodies are not Zoom requests the fixture should check


def test_a_past_start_time_is_ignored_and_the_rest_applied(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    occurrence = created["occurrences"][1]
    past = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        _patch(zoom_api, created, occurrence["occurrence_id"], start_time=past, duration=20).status_code
        == 204
    )
    moved = _by_id(_get(zoom_api, created))[occurrence["occurrence_id"]]
    assert moved == {**occurrence, "duration": 20}


def test_a_deleted_occurrence_cannot_be_moved_but_can_be_read(zoom_api: ZoomApiClient) -> None:
    created = _create(zoom_api)
    occurrence = created["occurrences"][2]
    path = f"/meetings/{created['id']}"
    params = {"occurrence_id": occurrence["occurrence_id"]}
    assert zoom_api.delete(path, params=params).status_code == 204
    response = _patch(zoom_api, created, occurrence["occurrence_id"], duration=30)
    assert response.status_code == 400 and response.json() == INVALID_OCCURRENCE
    view = _get(zoom_api, created, occurrence["occurrence_id"])
    assert view["start_time"] == occurrence["start_time"]
    assert _by_id(view)[occurrence["occurrence_id"]]["status"] == "deleted"


def _created_and_moved(api: ZoomApiClient, index: int) -> tuple[dict[str, Any], str, str]:
    """A new meeting whose occurrence ``index`` was moved: the meeting as created, its id, the new start."""
    created = _create(api)
    occurrence_id = created["occurrences"][index]["occurrence_id"]
    new_start = f"{YEAR}-12-01T10:00:00Z"
    assert _patch(api, created, occurrence_id, start_time=new_start).status_code == 204
    return created, occurrence_id, new_start


def test_deleting_a_moved_occurrence_keeps_it_deleted_at_its_new_time(zoom_api: ZoomApiClient) -> None:
    created, occurrence_id, new_start = _created_and_moved(zoom_api, 0)
    path = f"/meetings/{created['id']}"
    assert zoom_api.delete(path, params={"occurrence_id": occurrence_id}).status_code == 204
    again = zoom_api.delete(path, params={"occurrence_id": occurrence_id})
    assert again.status_code == 400 and again.json() == INVALID_OCCURRENCE
    assert _by_id(_get(zoom_api, created))[occurrence_id] == {
        "occurrence_id": occurrence_id,
        "start_time": new_start,
        "duration": created["duration"],
        "status": "deleted",
    }


def test_series_changes_keep_or_drop_single_occurrence_changes(zoom_api: ZoomApiClient) -> None:
    created, occurrence_id, new_start = _created_and_moved(zoom_api, 1)
    path = f"/meetings/{created['id']}"
    assert zoom_api.patch(path, json={"duration": 30, "topic": "Renamed"}).status_code == 204
    kept = _by_id(_get(zoom_api, created))[occurrence_id]
    assert (kept["start_time"], kept["duration"]) == (new_start, 30)
    recurrence = {"type": 2, "repeat_interval": 1, "weekly_days": "2", "end_times": 4}
    assert (
        zoom_api.patch(path, json={"start_time": created["start_time"], "recurrence": recurrence}).status_code
        == 204
    )
    replaced = _get(zoom_api, created)
    assert _by_id(replaced)[occurrence_id]["start_time"] == created["occurrences"][1]["start_time"]


def test_delete_reminders_are_counted_and_checked(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    created = _create(zoom_api)
    path = f"/meetings/{created['id']}"
    ids = [o["occurrence_id"] for o in created["occurrences"]]
    quiet = {"schedule_for_reminder": "false", "cancel_meeting_reminder": "false"}
    assert zoom_api.delete(path, params={"occurrence_id": ids[0], **quiet}).status_code == 204
    assert zoom_sandbox.stats()["cancellation_emails"] == {"host": 0, "registrants": 0}
    assert zoom_api.delete(path, params={"occurrence_id": ids[1]}).status_code == 204
    assert zoom_sandbox.stats()["cancellation_emails"] == {"host": 1, "registrants": 0}
    loud = {"schedule_for_reminder": "true", "cancel_meeting_reminder": "true"}
    assert zoom_api.delete(path, params={"occurrence_id": ids[2], **loud}).status_code == 204
    assert zoom_sandbox.stats()["cancellation_emails"] == {"host": 2, "registrants": 1}
    bad = zoom_api.delete(path, params={"occurrence_id": ids[3], "schedule_for_reminder": "no"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "schedule_for_reminder"
    assert _by_id(_get(zoom_api, created))[ids[3]]["status"] == "available"


def test_a_single_occurrence_update_counts_against_the_daily_limit(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    created = _create(zoom_api)
    zoom_sandbox.config(daily_limit=2)  # the create used one
    occurrence_id = created["occurrences"][0]["occurrence_id"]
    assert _patch(zoom_api, created, occurrence_id, duration=50).status_code == 204
    refused = _patch(zoom_api, created, occurrence_id, duration=55)
    assert refused.status_code == 429 and refused.headers["X-RateLimit-Type"] == "Daily-limit"
    assert _by_id(_get(zoom_api, created))[occurrence_id]["duration"] == 50
