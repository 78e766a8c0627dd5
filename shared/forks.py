"""The one place a forked child drops what it inherited from its parent.

Celery's prefork pool and gunicorn fork their workers from a parent that may already hold the database
pool, the Redis pool, the Zoom HTTP session and client, and the signature path's read connections.
Sockets must never be shared by two processes, so each of those modules registers here how to forget its
process-wide object, and `os.register_at_fork` runs every registered reset in each child (whatever
forked it: billiard, gunicorn, multiprocessing, a test). A reset only drops references (or, for the
SQLAlchemy engine, swaps in a fresh pool without closing the parent's connections); the next use in
the child builds its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

log = logging.getLogger(__name__)

_resets: list[Callable[[], None]] = []


def after_fork_in_child(reset: Callable[[], None]) -> Callable[[], None]:
    """Register `reset` to run in every forked child (usable as a decorator)."""
    _resets.append(reset)
    return reset


def _run_resets() -> None:
    for reset in _resets:
        try:
            reset()
        except Exception:  # one failing reset must not leave the others undone
            log.exception("reset after fork failed: %s", getattr(reset, "__qualname__", reset))


os.register_at_fork(after_in_child=_run_resets)
