"""A wake-up for whoever waits on a halaka's provisioning outcome (`Prefer: wait`), over Redis pub/sub.

`shared.lifecycle`'s outcome functions (`finish`, `defer`, `fail`) announce once their transaction has
committed, whatever the outcome (ready, retrying, deferred, failed); a waiting API request is
subscribed before it re-reads the row, so it either sees the new state or gets the message. The
message carries only the halaka id. Losing one (Redis down) only makes the waiter answer at its
deadline with the state it then reads.
"""

from __future__ import annotations

import logging

import redis

from shared.redis_client import get_redis

log = logging.getLogger(__name__)
CHANNEL_PREFIX = "halaka-outcome:"


def channel(halaka_id: int) -> str:
    return f"{CHANNEL_PREFIX}{halaka_id}"


def announce(halaka_id: int) -> None:
    """Tell waiters the halaka's provisioning outcome was recorded (best effort)."""
    try:
        get_redis().publish(channel(halaka_id), str(halaka_id))
    except redis.RedisError:
        log.warning("outcome announcement failed", extra={"halaka_id": halaka_id})
