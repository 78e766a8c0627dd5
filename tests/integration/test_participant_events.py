"""Participant events on PostgreSQL: each one is idempotent and order-tolerant (a leave may arrive
before its join), as `workers/meeting_events.py` promises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.db import session_scope
from shared.models import AttendanceInterval, InstanceStatus, MeetingInstance
from tests.factories import insert_user, make_halaka
from workers.meeting_events import on_joined, on_left

MEETING = 88_000_001
UUID = "instance-uuid-1"
START = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)


@pytest.fixture
def instance() -> int:
    teacher = insert_user("T", "events@example.com", "teacher")
    halaka_id = make_halaka(teacher, meeting_ids=(MEETING,))
    with session_scope() as s:
        row = MeetingInstance(
            halaka_id=halaka_id,
            meeting_id=MEETING,
            scheduled_start=START,
            uuid=UUID,
            status=InstanceStatus.live,
            started_at=START,
        )
        s.add(row)
        s.flush()
        return row.id


def _event(edge: str, minutes: int, name: str = "Guest Amina") -> dict:
    at = (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return {"id": str(MEETING), "uuid": UUID, "participant": {"user_name": name, edge: at}}


def _handle(handler, obj: dict) -> str:
    with session_scope() as s:
        return handler(s, obj)


def _intervals(instance_id: int) -> list[tuple[datetime | None, datetime | None]]:
    with session_scope() as s:
        rows = s.query(AttendanceInterval).filter_by(instance_id=instance_id).order_by(AttendanceInterval.id)
        return [(r.joined_at, r.left_at) for r in rows]


def minute(n: int) -> datetime:
    return START + timedelta(minutes=n)


def test_join_then_leave_is_one_interval_and_replays_change_nothing(instance):
    assert _handle(on_joined, _event("join_time", 1)) == "joined"
    assert _handle(on_joined, _event("join_time", 1)) == "already recorded"
    assert _handle(on_left, _event("leave_time", 30)) == "left"
    assert _handle(on_left, _event("leave_time", 30)) == "already recorded"
    assert _intervals(instance) == [(minute(1), minute(30))]


def test_a_leave_before_its_join_is_completed_by_the_join(instance):
    assert _handle(on_left, _event("leave_time", 30)) == "left before its join arrived"
    assert _handle(on_joined, _event("join_time", 1)) == "joined"
    assert _handle(on_joined, _event("join_time", 1)) == "already recorded"
    assert _intervals(instance) == [(minute(1), minute(30))]


def test_rejoins_pair_each_edge_with_its_nearest_other_edge(instance):
    """Leaves at 20 and 50 arrive first: the join at 1 belongs to the earliest leave after it (20),
    the join at 25 to the one at 50. Joins at 55 and 60 are open: the leave at 70 closes the latest
    one before it (60), the leave at 58 the one at 55."""
    assert _handle(on_left, _event("leave_time", 20)) == "left before its join arrived"
    assert _handle(on_left, _event("leave_time", 50)) == "left before its join arrived"
    assert _handle(on_joined, _event("join_time", 1)) == "joined"
    assert _handle(on_joined, _event("join_time", 25)) == "joined"
    assert _handle(on_joined, _event("join_time", 55)) == "joined"
    assert _handle(on_joined, _event("join_time", 60)) == "joined"
    assert _handle(on_left, _event("leave_time", 70)) == "left"
    assert _handle(on_left, _event("leave_time", 58)) == "left"
    assert sorted(_intervals(instance)) == [
        (minute(1), minute(20)),
        (minute(25), minute(50)),
        (minute(55), minute(58)),
        (minute(60), minute(70)),
    ]


def test_an_event_of_no_platform_meeting_is_not_recorded(instance):
    obj = {
        "id": "99000000001",
        "uuid": "other-uuid",
        "participant": {"user_name": "X", "join_time": "2030-01-07T15:00:00Z"},
    }
    assert _handle(on_joined, obj) == "not a platform meeting"
