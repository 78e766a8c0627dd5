"""A meeting whose occurrences differ from the plan is repaired once or the run fails with a reason;
never recorded as if it matched. The Zoom side is a fake (the sandbox always expands correctly); the
halaka, its rows and the lifecycle are the real ones on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from shared import lifecycle
from shared.db import session_scope
from shared.lifecycle import Outcome, Run
from shared.models import Halaka
from shared.zoom.recurrence import Frequency
from tests.factories import insert_user, make_halaka
from workers import provisioner

_ids = count(89_000_000_000)


class FakeZoom:
    """Expands like Zoom, except that `skew` shifts every occurrence by a day on the first `bad` reads."""

    def __init__(self, bad: int) -> None:
        self.bad = bad
        self.meetings: dict[int, dict] = {}
        self.calls: list[str] = []

    def _occurrences(self, payload: dict, timezone: str) -> list[dict]:
        from zoneinfo import ZoneInfo

        start = datetime.fromisoformat(payload["start_time"]).replace(tzinfo=ZoneInfo(timezone))
        step = timedelta(days=1)  # the halakat here are daily
        shift = timedelta(days=1) if self.bad > 0 else timedelta(0)
        self.bad -= 1
        return [
            {"occurrence_id": str(i), "start_time": (start + i * step + shift).astimezone(UTC).isoformat()}
            for i in range(payload["recurrence"]["end_times"])
        ]

    def create_meeting(self, host: str, payload: dict) -> dict:
        self.calls.append("create")
        meeting = {"id": next(_ids), "payload": payload}
        meeting["occurrences"] = self._occurrences(payload, payload["timezone"])
        self.meetings[meeting["id"]] = meeting
        return dict(meeting)

    def update_meeting(self, meeting_id: int, payload: dict, host: str | None = None) -> None:
        self.calls.append("update")
        self.meetings[meeting_id]["payload"] = payload
        self.meetings[meeting_id]["occurrences"] = self._occurrences(payload, payload["timezone"])

    def get_meeting(self, meeting_id: int) -> dict:
        self.calls.append("get")
        return dict(self.meetings[meeting_id])

    def delete_meeting(self, meeting_id: int) -> bool:
        self.calls.append("delete")
        return self.meetings.pop(int(meeting_id), None) is not None

    def list_meetings(self, host: str):
        self.calls.append("list")
        return iter([])


@pytest.fixture
def halaka_id() -> int:
    teacher = insert_user("T", "differ@example.com", "teacher")
    halaka_id = make_halaka(teacher, status="pending")
    with session_scope() as s:
        h = s.get(Halaka, halaka_id)
        lifecycle.created(h)
        nine_days = h.schedule.start_date + timedelta(days=8)  # daily: 9 sessions
        h.schedule = replace(h.schedule, frequency=Frequency.daily, end_date=nine_days)
    return halaka_id


def test_differing_occurrences_are_repaired_with_one_patch(halaka_id):
    zoom = FakeZoom(bad=1)
    assert provisioner.sync(halaka_id, zoom) is Outcome.READY
    assert zoom.calls == ["create", "update", "get"]
    [meeting] = zoom.meetings.values()
    with session_scope() as s:
        [row] = s.get(Halaka, halaka_id).meetings
        assert row.meeting_id == meeting["id"] and row.fingerprint


def test_occurrences_that_stay_different_fail_the_run_and_leave_no_orphan(halaka_id):
    zoom = FakeZoom(bad=10)
    with pytest.raises(provisioner.RunFailed) as info:
        provisioner.sync(halaka_id, zoom)
    cause = info.value.__cause__
    assert isinstance(cause, provisioner.OccurrencesDiffer) and cause.permanent
    assert "differ from the schedule: 9 planned, 9 on Zoom, first difference at session 1" in cause.message
    assert zoom.meetings == {} and zoom.calls[-1] == "delete"
    outcome = lifecycle.fail(halaka_id, Run.SYNC, reason=lambda _host: cause.message, version=1)
    with session_scope() as s:
        h = s.get(Halaka, halaka_id)
        assert outcome is Outcome.FAILED and h.zoom_status == "failed" and h.meetings == []
        assert "differ from the schedule" in h.zoom_error
