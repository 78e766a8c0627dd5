"""Retry delays for callers of the Zoom client (the client itself only retries an expired token)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_MAX_EXPONENT = 60


def retry_delay(
    attempt: int,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: Callable[[], float] = random.random,
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempt-1))].

    `attempt` counts from 1 (the first retry). Zoom's `Retry-After` is a floor up to `cap`: never retry
    earlier than Zoom asked, but a value beyond the cap (`1e12`, a date in year 9999) waits the cap.
    """
    exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
    ceiling = min(cap, base * 2**exponent)
    delay = rng() * ceiling
    if retry_after is not None and math.isfinite(retry_after):
        delay = min(max(delay, retry_after), cap)
    return delay


def seconds_until_utc_midnight(now: datetime | None = None) -> float:
    """When Zoom's per-host daily create/update limit resets."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return (midnight - now).total_seconds()
