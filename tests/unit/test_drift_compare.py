"""Zoom's occurrences against the plan: what is drift and what is not (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workers.drift import Findings, compare

NOW = datetime(2027, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return NOW + timedelta(days=n)


def occ(n: int, status: str = "available", hours: int = 0) -> dict:
    return {
        "occurrence_id": str(n),
        "start_time": (day(n) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": status,
    }


PLAN = [day(-2), day(1), day(3), day(5)]


@pytest.mark.parametrize(
    ("occurrences", "expected"),
    [
        ([occ(-2), occ(1), occ(3), occ(5)], Findings()),
        ([occ(1), occ(3), occ(5)], Findings()),  # Zoom stops listing past occurrences
        ([occ(1), occ(3, "deleted"), occ(5)], Findings(cancelled=(day(3),))),
        ([occ(1), occ(3, hours=2), occ(5)], Findings(times_changed=True)),
        ([occ(1), occ(3)], Findings(times_changed=True)),  # one missing without being deleted
        ([occ(1), occ(3), occ(5), occ(7)], Findings(times_changed=True)),
        ([occ(-2, "deleted"), occ(1), occ(3), occ(5)], Findings(cancelled=(day(-2),))),
    ],
)
def test_compare(occurrences, expected):
    assert compare(PLAN, occurrences, NOW) == expected
