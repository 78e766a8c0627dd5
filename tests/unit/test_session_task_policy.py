"""The session task's retry policy (workers/tasks/sessions.py `POLICY` and `_wait`), table-driven."""

from __future__ import annotations

import pytest

from shared.settings import get_settings
from shared.zoom.backoff import seconds_until_utc_midnight
from shared.zoom.errors import ZoomInvalidRequest, ZoomNotFound, ZoomRateLimited, ZoomTransientError
from workers.tasks.sessions import POLICY, _wait

CAP = get_settings().provision_backoff_cap

CASES = {
    "transient: backoff within the cap": (ZoomTransientError("timeout"), 1, (0.0, CAP)),
    "per-second 429: backoff within the cap": (ZoomRateLimited("slow down", retry_after=1.0), 1, (0.0, CAP)),
    "the attempt budget spent: given up": (ZoomTransientError("timeout"), POLICY["max_attempts"], None),
    "permanent (bad request): given up": (ZoomInvalidRequest("bad", 400, 300), 1, None),
    "meeting gone: given up": (ZoomNotFound("gone", 404, 3001), 1, None),
    "an unexpected error counts like a transient one": (ValueError("bug"), 2, (0.0, CAP)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_wait(case):
    exc, attempt, expected = CASES[case]
    wait = _wait(exc, attempt)
    if expected is None:
        assert wait is None
    else:
        assert wait is not None and expected[0] <= wait <= expected[1]


def test_the_daily_limit_waits_past_midnight_whatever_the_attempt():
    wait = _wait(ZoomRateLimited("daily", daily=True), POLICY["max_attempts"] + 5)
    assert wait is not None and wait > seconds_until_utc_midnight() > 0
    assert wait > POLICY["countdown_limit"] or seconds_until_utc_midnight() < POLICY["countdown_limit"]
