"""`zoomMeeting` is the segment holding the next upcoming session, else the last one."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from api.halaka_view import current_meeting

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def segment(index: int, last: datetime, first: datetime | None = None) -> SimpleNamespace:
    first = first or datetime(2027, 1, 1, tzinfo=UTC)
    return SimpleNamespace(segment_index=index, first_start=first, last_start=last, standalone=False)


def own_meeting(index: int, at: datetime) -> SimpleNamespace:
    """The standalone meeting of a restored or extra session."""
    return SimpleNamespace(segment_index=index, first_start=at, last_start=at, standalone=True)


TWO = [segment(0, datetime(2027, 2, 1, tzinfo=UTC)), segment(1, datetime(2027, 4, 1, tzinfo=UTC))]


@pytest.mark.parametrize(
    ("meetings", "expected"),
    [
        pytest.param([], None, id="none"),
        pytest.param(TWO[:1], 0, id="all-past-gives-the-last"),
        pytest.param(TWO, 1, id="first-segment-over"),
        pytest.param([segment(0, datetime(2027, 3, 5, tzinfo=UTC)), TWO[1]], 0, id="first-still-running"),
        pytest.param([segment(0, NOW), TWO[1]], 0, id="last-session-right-now"),
        pytest.param([segment(0, NOW), segment(1, datetime(2026, 1, 1, tzinfo=UTC))], 0, id="order-kept"),
        pytest.param(
            [
                segment(0, datetime(2027, 5, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)),
                own_meeting(-7, datetime(2027, 3, 10, tzinfo=UTC)),
            ],
            -7,
            id="an-extra-session-before-the-next-segment",
        ),
        pytest.param(
            [TWO[1], own_meeting(-7, datetime(2027, 3, 10, tzinfo=UTC))], 1, id="running-segment-first"
        ),
        pytest.param(
            [TWO[0], own_meeting(-7, datetime(2027, 1, 10, tzinfo=UTC))],
            0,
            id="all-past-gives-the-last-segment",
        ),
    ],
)
def test_current_meeting(meetings, expected):
    found = current_meeting(meetings, now=NOW)
    assert (found.segment_index if found else None) == expected
