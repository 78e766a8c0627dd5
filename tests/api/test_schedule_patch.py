"""PATCH merges the fields it sends into the stored schedule (`SchedulePatch.applied_to`): the others
are kept, an unchanged schedule is no schedule change, and a field sent as null is a 400 naming it."""

from __future__ import annotations

import pytest

from shared.db import session_scope
from shared.models import Halaka
from tests.integration.helpers import schedule

FIELDS = ["frequency", "days", "startTime", "duration", "startDate", "endDate", "timezone"]


@pytest.fixture
def owned(client, make_user):
    teacher = make_user("teacher", zoom_user_id="patcher@example.com")
    r = client.post("/api/v1/halaka/", json={"title": "T", "schedule": schedule()}, headers=teacher.headers)
    assert r.status_code == 201, r.json
    return teacher, r.json["data"]


def _version(halaka_id: int) -> int:
    with session_scope() as s:
        return s.get_one(Halaka, halaka_id).schedule_version


@pytest.mark.parametrize("field", FIELDS)
def test_a_field_sent_as_null_is_400_naming_it(client, owned, field):
    teacher, created = owned
    r = client.patch(
        f"/api/v1/halaka/{created['id']}", json={"schedule": {field: None}}, headers=teacher.headers
    )
    assert r.status_code == 400, r.json
    assert [e["field"] for e in r.json["errors"]] == [f"schedule.{field}"]
    assert _version(created["id"]) == 1


def test_one_field_changes_and_the_others_are_kept(client, owned):
    teacher, created = owned
    r = client.patch(
        f"/api/v1/halaka/{created['id']}", json={"schedule": {"duration": 45}}, headers=teacher.headers
    )
    assert r.status_code == 200, r.json
    assert r.json["data"]["schedule"] == {**created["schedule"], "duration": 45}
    assert _version(created["id"]) == 2


def test_the_same_schedule_again_is_no_schedule_change(client, owned):
    teacher, created = owned
    same = {**created["schedule"], "days": ["wednesday", "monday", "monday"]}  # sorted, deduplicated
    r = client.patch(f"/api/v1/halaka/{created['id']}", json={"schedule": same}, headers=teacher.headers)
    assert r.status_code == 200, r.json
    assert _version(created["id"]) == 1


def test_days_of_a_daily_schedule_are_not_kept(client, make_user):
    teacher = make_user("teacher", zoom_user_id="daily@example.com")
    body = {"title": "T", "schedule": schedule("daily", days=["monday"])}
    r = client.post("/api/v1/halaka/", json=body, headers=teacher.headers)
    assert r.status_code == 201 and r.json["data"]["schedule"]["days"] == []
    halaka_id = r.json["data"]["id"]
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}", json={"schedule": {"days": ["friday"]}}, headers=teacher.headers
    )
    assert r.status_code == 200 and r.json["data"]["schedule"]["days"] == []
    assert _version(halaka_id) == 1
