"""The session task: one session change (`shared.sessions`) to Zoom. It carries the change's id only.

Retry policy (data, below): transient Zoom failures and per-second 429s retry with exponential backoff
and full jitter (Celery countdowns); a host's daily limit waits until after 00:00 UTC (stored, picked up
by the reconciler); a permanent failure, or `MAX_ATTEMPTS` spent, stops with the reason on the change
(`error`), until the session is changed again. The reconciler re-enqueues changes whose lease ran out
(a lost enqueue, a killed worker): acks are late, and every run is idempotent (`workers/sessions.py`).
"""

from __future__ import annotations

import logging
import random

from celery import Task
from sqlalchemy.exc import OperationalError

from shared.celery_config import SESSION_TASK
from shared.settings import get_settings
from shared.zoom.backoff import retry_delay, seconds_until_utc_midnight
from shared.zoom.client import get_zoom_client
from shared.zoom.errors import ZoomError, ZoomRateLimited
from workers import sessions
from workers.celery_app import app
from workers.tasks.provisioning import BUSY_COUNTDOWN, TASK_OPTIONS, describe

log = logging.getLogger(__name__)

#: The retry policy of the session task.
POLICY = {
    "max_attempts": 12,  # counted failures before the change is left with its error
    "countdown_limit": 600.0,  # longer waits are stored for the reconciler, not a Celery countdown
    "busy_countdown": BUSY_COUNTDOWN,  # the halaka's lock is held by a sync or a drift check
}


def _wait(exc: BaseException, attempt: int) -> float | None:
    """Seconds until the next try, or None: give up (a permanent failure)."""
    settings = get_settings()
    if isinstance(exc, ZoomRateLimited) and exc.daily:
        return seconds_until_utc_midnight() + random.uniform(1, 60)
    if isinstance(exc, ZoomError) and exc.permanent:
        return None
    if attempt >= POLICY["max_attempts"]:
        return None
    retry_after = exc.retry_after if isinstance(exc, ZoomRateLimited) else None
    return retry_delay(attempt, settings.provision_backoff_base, settings.provision_backoff_cap, retry_after)


@app.task(name=SESSION_TASK, **TASK_OPTIONS)
def apply_session_change(self: Task, change_id: int) -> str:
    """Bring Zoom in line with one session change."""
    try:
        outcome = sessions.apply(change_id, get_zoom_client())
    except OperationalError as exc:
        raise self.retry(countdown=POLICY["busy_countdown"] * 2, exc=exc) from None
    except sessions.SessionFailed as failed:
        cause = failed.__cause__ or failed
        if isinstance(cause, OperationalError):
            raise self.retry(countdown=POLICY["busy_countdown"] * 2, exc=cause) from None
        if not isinstance(cause, ZoomError):
            log.error("unexpected error in a session run", exc_info=cause, extra={"change_id": change_id})
        wait = sessions.failed(change_id, describe(cause, None), wait=lambda attempts: _wait(cause, attempts))
        log.info("session run failed", extra={"change_id": change_id, "error": type(cause).__name__})
        if wait is not None and wait <= POLICY["countdown_limit"]:
            raise self.retry(countdown=wait) from None
        return "failed" if wait is None else "deferred"
    if outcome == sessions.Result.BUSY:
        raise self.retry(countdown=POLICY["busy_countdown"])
    if outcome == sessions.Result.CHANGED:
        raise self.retry(countdown=0)
    return outcome
