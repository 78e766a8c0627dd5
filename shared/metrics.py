"""Operational counters in Redis: Zoom calls by outcome and task outcomes, readable by the API.

Best effort: a counter that cannot be written is dropped, never an error for the caller.
"""

from __future__ import annotations

import logging

import redis

from shared.redis_client import get_redis

ZOOM_CALLS = "metrics:zoom_calls"
TASK_OUTCOMES = "metrics:task_outcomes"
log = logging.getLogger(__name__)


def incr(key: str, field: str) -> None:
    try:
        get_redis().hincrby(key, field, 1)
    except redis.RedisError:
        log.debug("metric not recorded", extra={"metric": key})


def record_zoom_call(method: str, template: str, outcome: object) -> None:
    incr(ZOOM_CALLS, f"{method} {template} {outcome}")


def record_task_outcome(task: str, outcome: str) -> None:
    incr(TASK_OUTCOMES, f"{task} {outcome}")


def read(key: str) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in get_redis().hgetall(key).items()}
