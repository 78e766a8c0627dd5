"""Zoom's occurrences against what Zoom must hold (the plan with single-session changes): what is drift
and what is not (pure). The same rule (`shared.sessions.judge`) decides for the provisioner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.sessions import Change, expected_occurrences, judge, occurrence_id_of
from workers.drift import Findings, compare

NOW = datetime(2027, 1, 1, tzinfo=UTC)


def day(n: int, hours: int = 0) -> datetime:
    return NOW + timedelta(days=n, hours=hours)


def occ(n: int, status: str = "available", hours: int = 0, *, zoom_id: bool = False, duration=None) -> dict:
    out = {
        "occurrence_id": occurrence_id_of(day(n)) if zoom_id else str(n),
        "start_time": day(n, hours).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": status,
    }
    if duration is not None:
        out["duration"] = duration
    return out


PLAN = [day(-2), day(1), day(3), day(5)]


def expected(changes: dict | None = None):
    return expected_occurrences([(d, 60) for d in PLAN], changes or {})


def moved(n: int, hours: int, applied: bool = True) -> dict:
    return {
        occurrence_id_of(day(n)): Change(occurrence_id_of(day(n)), day(n), day(n, hours), 60, applied=applied)
    }


def cancelled(n: int, applied: bool = True) -> dict:
    oid = occurrence_id_of(day(n))
    return {oid: Change(oid, day(n), day(n), 60, cancelled=True, occurrence_deleted=True, applied=applied)}


@pytest.mark.parametrize(
    ("changes", "occurrences", "findings"),
    [
        ({}, [occ(-2), occ(1), occ(3), occ(5)], Findings()),
        ({}, [occ(1), occ(3), occ(5)], Findings()),  # Zoom stops listing past occurrences
        ({}, [occ(1), occ(3, "deleted"), occ(5)], Findings(cancelled=(day(3),))),
        ({}, [occ(1), occ(3, hours=2), occ(5)], Findings(times_changed=True)),
        ({}, [occ(1), occ(3)], Findings(times_changed=True)),  # one missing without being deleted
        ({}, [occ(1), occ(3), occ(5), occ(7)], Findings(times_changed=True)),
        ({}, [occ(-2, "deleted"), occ(1), occ(3), occ(5)], Findings(cancelled=(day(-2),))),
        # a platform cancel: deleted on Zoom as it must be; before the task ran: not drift either
        (cancelled(3), [occ(1), occ(3, "deleted"), occ(5)], Findings()),
        (cancelled(3, applied=False), [occ(1), occ(3), occ(5)], Findings()),
        # an applied cancel Zoom shows available again: applied again, not a re-plan
        (
            cancelled(3),
            [occ(1), occ(3, zoom_id=True), occ(5)],
            Findings(unapplied=(occurrence_id_of(day(3)),)),
        ),
        # a platform move: at its new time (id kept) it matches; back at the plan it is applied again
        (moved(3, 26), [occ(1), occ(3, hours=26, zoom_id=True), occ(5)], Findings()),
        (
            moved(3, 26),
            [occ(1), occ(3, zoom_id=True), occ(5)],
            Findings(unapplied=(occurrence_id_of(day(3)),)),
        ),
        (moved(3, 26, applied=False), [occ(1), occ(3, zoom_id=True), occ(5)], Findings()),
        (moved(3, 26), [occ(1), occ(3, hours=5, zoom_id=True), occ(5)], Findings(times_changed=True)),
        # a moved session deleted in the portal: cancelled, named by its planned start
        (
            moved(3, 26),
            [occ(1), occ(3, "deleted", hours=26, zoom_id=True), occ(5)],
            Findings(cancelled=(day(3),)),
        ),
        ({}, [occ(1), occ(3, duration=30), occ(5)], Findings(times_changed=True)),
    ],
)
def test_compare(changes, occurrences, findings):
    assert compare(expected(changes), occurrences, NOW) == findings


def test_the_provisioner_without_now_compares_every_occurrence():
    """Right after a write every occurrence is listed: a missing past one is a mismatch there."""
    assert not judge(expected(), [occ(-2), occ(1), occ(3), occ(5)]).differs
    assert judge(expected(), [occ(1), occ(3), occ(5)]).differs
    verdict = judge(expected(moved(3, 26)), [occ(-2), occ(1), occ(3, zoom_id=True), occ(5)])
    assert not verdict.differs and verdict.unapplied == (occurrence_id_of(day(3)),)
