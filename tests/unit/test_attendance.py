"""The pure attendance rules: nearest session, merged rejoins, present/late/absent, the report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.attendance import (
    ABSENT,
    LATE,
    PRESENT,
    Instance,
    Interval,
    Rules,
    Span,
    merge,
    minutes,
    nearest_start,
    report,
    status,
)
from shared.session_status import session_status

T0 = datetime(2027, 1, 4, 15, 0, tzinfo=UTC)


def at(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


@pytest.mark.parametrize(
    ("starts", "actual", "expected"),
    [
        ([0, 60 * 24, 60 * 48], 3, 0),
        ([0, 60 * 24, 60 * 48], 60 * 24 - 20, 60 * 24),
        ([0, 60 * 24], 60 * 12, 0),  # a tie goes to the earlier session
        ([0, 60 * 24], -600, 0),
        ([0, 60 * 24], 10**5, 60 * 24),
    ],
)
def test_nearest_start(starts, actual, expected):
    assert nearest_start([at(s) for s in starts], at(actual)) == at(expected)


def test_nearest_start_of_nothing_is_none():
    assert nearest_start([], T0) is None


@pytest.mark.parametrize(
    ("spans", "merged", "total"),
    [
        ([(0, 20), (25, 60)], [(0, 20), (25, 60)], 55),
        ([(0, 30), (10, 40)], [(0, 40)], 40),  # two devices at once count once
        ([(25, 60), (0, 20)], [(0, 20), (25, 60)], 55),
        ([(0, 20), (20, 30)], [(0, 30)], 30),
        ([(0, 60), (10, 20)], [(0, 60)], 60),
        ([(5, 4)], [], 0),
        ([], [], 0),
        ([(0, 0.4)], [(0, 0.4)], 0),
        ([(0, 0.5)], [(0, 0.5)], 1),
    ],
)
def test_merge_and_minutes(spans, merged, total):
    spans = [Span(at(a), at(b)) for a, b in spans]
    assert merge(spans) == [Span(at(a), at(b)) for a, b in merged]
    assert minutes(spans) == total


RULES = Rules(late_minutes=10, min_presence_percent=50)


@pytest.mark.parametrize(
    ("join", "attended", "ended", "expected"),
    [
        (0, 60, True, PRESENT),
        (10, 50, True, PRESENT),  # exactly at the lateness limit: on time
        (11, 49, True, LATE),
        (40, 20, True, ABSENT),  # below half of the session
        (0, 29, True, ABSENT),
        (0, 30, True, PRESENT),  # exactly half
        (40, 5, False, LATE),  # still running: nobody who joined is absent yet
        (-15, 60, True, PRESENT),  # joined before the start
    ],
)
def test_status(join, attended, ended, expected):
    got = status(
        first_join=at(join),
        attended_minutes=attended,
        reference_start=T0,
        session_minutes=60,
        ended=ended,
        rules=RULES,
    )
    assert got == expected


@pytest.mark.parametrize(
    ("cancelled", "instances", "expected"),
    [
        (False, [], "scheduled"),
        (True, [], "cancelled"),
        (False, ["cancelled"], "cancelled"),
        (False, ["live"], "live"),
        (False, ["ended"], "ended"),
        (False, ["ended", "live"], "live"),  # restarted: a second instance runs
        (True, ["ended"], "ended"),  # cancelled yet it took place: what happened wins
        (False, ["cancelled", "live"], "live"),
    ],
)
def test_session_status(cancelled, instances, expected):
    assert session_status(cancelled=cancelled, instance_statuses=instances) == expected


def test_report_merges_instances_of_one_session_and_lists_absentees_once_ended():
    instances = [
        Instance(1, T0, "ended", at(2), at(30)),  # the host dropped and restarted: two instances
        Instance(2, T0, "ended", at(31), at(62)),
        Instance(3, at(60 * 24), "cancelled", None, None),
    ]
    intervals = [
        Interval(1, "user:7", 7, "Amina", at(2), None),  # no leave: until the instance ended
        Interval(2, "user:7", 7, "Amina", at(31), at(62)),
        Interval(2, "guest:bob", None, "Bob", None, at(40)),  # no join: from the instance's start
    ]
    (session,) = report(
        instances, intervals, enrolled={7: "Amina K", 8: "Omar"}, duration=60, rules=RULES, now=at(100)
    )
    assert (session.status, session.started_at, session.ended_at) == ("ended", at(2), at(62))
    rows = {(a.user_id, a.name): (a.minutes, a.status, a.joined_at, a.left_at) for a in session.attendees}
    assert rows == {
        (7, "Amina K"): (59, PRESENT, at(2), at(62)),
        (None, "Bob"): (9, ABSENT, at(31), at(40)),
        (8, "Omar"): (0, ABSENT, None, None),
    }


def test_report_of_a_live_session_has_no_absentees_and_open_rows_run_until_now():
    instances = [Instance(1, T0, "live", at(0), None)]
    intervals = [Interval(1, "user:7", 7, "Amina", at(15), None)]
    (session,) = report(
        instances, intervals, enrolled={7: "Amina", 8: "Omar"}, duration=60, rules=RULES, now=at(25)
    )
    assert session.status == "live" and session.ended_at is None
    (amina,) = session.attendees
    assert (amina.minutes, amina.status, amina.left_at) == (10, LATE, None)


def test_report_for_one_student_keeps_only_their_rows():
    instances = [Instance(1, T0, "ended", at(0), at(60))]
    intervals = [
        Interval(1, "user:7", 7, "A", at(0), at(60)),
        Interval(1, "guest:x", None, "X", at(0), at(60)),
    ]
    (session,) = report(
        instances, intervals, enrolled={7: "A", 8: "B"}, duration=60, rules=RULES, now=at(90), only_user=8
    )
    assert [(a.user_id, a.status) for a in session.attendees] == [(8, ABSENT)]


def test_lateness_counts_from_the_later_of_the_scheduled_and_the_actual_start():
    instances = [Instance(1, T0, "ended", at(15), at(60))]  # the teacher started 15 minutes late
    intervals = [Interval(1, "user:7", 7, "A", at(16), at(60))]
    (session,) = report(instances, intervals, enrolled={7: "A"}, duration=60, rules=RULES, now=at(90))
    assert session.attendees[0].status == PRESENT
