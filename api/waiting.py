"""`Prefer: wait=N` on halaka creation: wait for the provisioning outcome without holding a database
transaction or polling, and never with more than PREFER_WAIT_MAX_CONCURRENT requests per process.

The request subscribes to the halaka's outcome channel (shared.outcomes) before it re-reads the row in
a short autocommit read, then blocks on the subscription until the worker's announcement or the
deadline. Beyond the cap it answers at once with the current state, so slow provisioning cannot tie
up every API thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from shared.outcomes import channel
from shared.redis_client import get_redis

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _semaphore(limit: int) -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(limit)
        return _slots


@contextmanager
def wait_slot(limit: int) -> Iterator[bool]:
    """True when this request may wait (one of `limit` slots per process was free); False: answer now."""
    if limit <= 0:
        yield False
        return
    slots = _semaphore(limit)
    got = slots.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            slots.release()


def wait_for_outcome(halaka_id: int, seconds: float, settled: Callable[[], bool]) -> bool:
    """Block until `settled()` (a fresh read of the row) is true or `seconds` pass; True if settled."""
    pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel(halaka_id))
        deadline = time.monotonic() + seconds
        while True:
            if settled():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            pubsub.get_message(timeout=remaining)  # blocks on the socket until a message or the deadline
    finally:
        pubsub.close()


def reset() -> None:
    """Forget the semaphore (tests that change PREFER_WAIT_MAX_CONCURRENT)."""
    global _slots
    with _slots_lock:
        _slots = None
