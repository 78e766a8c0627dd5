"""One Redis connection pool per process (a forked child builds its own: `shared.forks`)."""

from __future__ import annotations

from functools import lru_cache

import redis

from shared.forks import after_fork_in_child
from shared.settings import get_settings


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=30
    )


after_fork_in_child(get_redis.cache_clear)
