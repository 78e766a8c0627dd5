"""The schedule-edit rule for single-session changes (`shared.sessions.survives`), table-driven (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from shared.sessions import Change, expected_occurrences, occurrence_id_of, overlaps, survives
from shared.zoom.recurrence import Schedule

NOW = datetime(2027, 1, 1, tzinfo=UTC)  # a Friday
# new plan: Mondays and Wednesdays 17:00 UTC, 60 minutes, through January
NEW = Schedule("weekly", ("monday", "wednesday"), time(17), 60, date(2027, 1, 1), date(2027, 1, 31), "UTC")
MON = datetime(2027, 1, 4, 17, tzinfo=UTC)
TUE = datetime(2027, 1, 5, 17, tzinfo=UTC)  # a slot the new plan no longer has
WED = datetime(2027, 1, 6, 17, tzinfo=UTC)


def planned(start: datetime, **kw) -> Change:
    return Change(occurrence_id_of(start), start, kw.pop("to", start), kw.pop("duration", 60), **kw)


def extra(start: datetime, duration: int = 60, **kw) -> Change:
    return Change(None, None, start, duration, **kw)


RULE = {
    "cancel of a slot still planned": (planned(MON, cancelled=True, occurrence_deleted=True), True),
    "cancel of a slot gone": (planned(TUE, cancelled=True, occurrence_deleted=True), False),
    "move of a planned slot to a free time": (planned(MON, to=MON + timedelta(hours=3)), True),
    "move of a slot gone": (planned(TUE, to=TUE + timedelta(hours=3)), False),
    "move onto another planned session": (planned(MON, to=WED + timedelta(minutes=30)), False),
    "move within its own slot": (planned(MON, to=MON + timedelta(minutes=15)), True),
    "restored session, slot still planned": (planned(MON, occurrence_deleted=True), True),
    "restored session, slot gone": (planned(TUE, occurrence_deleted=True), False),
    "extra at a free time": (extra(TUE), True),
    "extra overlapping a planned session": (extra(WED - timedelta(minutes=30)), False),
    "extra ending as a planned one starts": (extra(WED - timedelta(minutes=60)), True),
    "a cancelled extra overlaps nothing": (extra(WED, cancelled=True), True),
    "a past change stays as history": (planned(NOW - timedelta(days=3), cancelled=True), True),
    "a past extra stays as history": (extra(NOW - timedelta(hours=1)), True),
}


@pytest.mark.parametrize("case", list(RULE))
def test_survives(case):
    change, kept = RULE[case]
    assert survives(change, NEW, NOW) is kept


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 60), (60, 60), False),
        ((0, 61), (60, 60), True),
        ((30, 10), (0, 60), True),
        ((0, 60), (-60, 60), False),
    ],
)
def test_overlaps(a, b, expected):
    def at(minutes: int) -> datetime:
        return NOW + timedelta(minutes=minutes)

    assert overlaps(at(a[0]), a[1], at(b[0]), b[1]) is expected


def test_expected_occurrences_carry_the_changes():
    moved = planned(MON, to=MON + timedelta(hours=2), duration=45, applied=False)
    cancelled = planned(WED, cancelled=True, occurrence_deleted=True)
    out = expected_occurrences(
        [(MON, 60), (WED, 60)], {moved.occurrence_id: moved, cancelled.occurrence_id: cancelled}
    )
    assert [(e.start, e.duration, e.deleted, e.settled) for e in out] == [
        (MON + timedelta(hours=2), 45, False, False),
        (WED, 60, True, True),
    ]
