"""One Redis connection pool per process (re-created after fork by `reset_redis`)."""

from __future__ import annotations

from functools import lru_cache

import redis

from shared.settings import get_settings


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=30
    )


def reset_redis() -> None:
    get_redis.cache_clear()
