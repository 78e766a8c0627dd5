"""Celery tasks: sync (provision or update), delete and reconcile. They carry halaka ids only.

Failure policy (DESIGN.md 6): transient Zoom failures and per-second 429s retry with exponential
backoff and full jitter, honouring Retry-After; short waits are Celery countdowns (far below the Redis
visibility timeout), longer ones — a host's daily limit until 00:00 UTC, a long outage — are stored in
`next_attempt_at` and enqueued by the reconciler when due. Permanent failures end in `failed` with a
readable `zoomError`, retryable through the API.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from celery import Task
from sqlalchemy.exc import OperationalError

from shared.celery_config import DELETE_TASK, RECONCILE_TASK, SYNC_TASK
from shared.db import session_scope
from shared.models import Halaka, ZoomStatus
from shared.settings import get_settings
from shared.task_queue import enqueue, lease
from shared.zoom.backoff import retry_delay, seconds_until_utc_midnight
from shared.zoom.client import ZoomClient, get_zoom_client
from shared.zoom.errors import (
    CODE_USER_NOT_FOUND,
    ZoomError,
    ZoomRateLimited,
)
from workers import provisioner
from workers.celery_app import app

log = logging.getLogger(__name__)
MAX_COUNTDOWN = 600.0
BUSY_COUNTDOWN = 5.0
TASK_OPTIONS = {"bind": True, "max_retries": None}  # acks late, rejected on worker loss: celery_config


def describe(exc: ZoomError, host: str | None) -> str:
    """A message an operator or teacher can act on."""
    if exc.code == CODE_USER_NOT_FOUND:
        return f"Zoom user {host} does not exist"
    if exc.code == 3161:
        return f"Zoom user {host} is not allowed to host meetings"
    return f"Zoom error: {exc.message}" + (f" (code {exc.code})" if exc.code else "")


def _fail(halaka_id: int, exc: ZoomError) -> None:
    with session_scope() as s:
        h = s.get(Halaka, halaka_id)
        if h is None:
            return
        h.zoom_error = describe(exc, h.zoom_host)
        h.next_attempt_at = None
        if h.zoom_status == ZoomStatus.deleting:
            h.next_attempt_at = datetime.now(UTC) + timedelta(hours=1)  # keep trying to delete, slowly
        else:
            h.zoom_status, h.status_changed_at = ZoomStatus.failed, datetime.now(UTC)


def _reschedule(halaka_id: int, exc: ZoomError) -> float | None:
    """Store the next attempt; the countdown for Celery when it is short, None when deferred/failed."""
    settings = get_settings()
    with session_scope() as s:
        h = s.get(Halaka, halaka_id)
        if h is None:
            return None
        host = h.zoom_host
        if isinstance(exc, ZoomRateLimited) and exc.daily:
            delay = seconds_until_utc_midnight() + random.uniform(1, 60)
            h.zoom_error = f"Zoom's daily meeting limit for host {host} is reached; retrying after 00:00 UTC"
        elif isinstance(exc, ZoomRateLimited):
            h.attempts = max(0, h.attempts - 1)  # the shared budget's job, not a failure of this halaka
            delay = retry_delay(
                1, settings.provision_backoff_base, settings.provision_backoff_cap, exc.retry_after
            )
        elif h.attempts >= settings.provision_max_attempts:
            h.zoom_error = f"gave up after {h.attempts} attempts: {describe(exc, host)}"
            if h.zoom_status != ZoomStatus.deleting:
                h.zoom_status, h.status_changed_at = ZoomStatus.failed, datetime.now(UTC)
            h.next_attempt_at = None
            return None
        else:
            delay = retry_delay(h.attempts, settings.provision_backoff_base, settings.provision_backoff_cap)
            h.zoom_error = f"{describe(exc, host)} (attempt {h.attempts}, retrying)"
        due = datetime.now(UTC) + timedelta(seconds=delay)
        if delay > MAX_COUNTDOWN:
            h.next_attempt_at = due  # the reconciler enqueues it then
            return None
        h.next_attempt_at = due + lease()  # Celery retries it then; the lease covers that
        return delay


def run(task: Task, halaka_id: int, work: Callable[[int, ZoomClient], str]) -> str:
    try:
        outcome = work(halaka_id, get_zoom_client())
    except ZoomError as exc:
        if exc.permanent:
            log.warning("provisioning failed permanently", extra={"halaka_id": halaka_id, "code": exc.code})
            _fail(halaka_id, exc)
            return "failed"
        countdown = _reschedule(halaka_id, exc)
        log.info(
            "provisioning will retry",
            extra={"halaka_id": halaka_id, "countdown": countdown, "error": type(exc).__name__},
        )
        if countdown is None:
            return "deferred"
        raise task.retry(countdown=countdown, exc=exc) from None
    except OperationalError as exc:
        raise task.retry(countdown=BUSY_COUNTDOWN * 2, exc=exc) from None
    if outcome == "busy":
        raise task.retry(countdown=BUSY_COUNTDOWN)
    return outcome


@app.task(name=SYNC_TASK, **TASK_OPTIONS)
def sync_halaka(self: Task, halaka_id: int) -> str:
    """Provision or update a halaka's Zoom meetings."""
    return run(self, halaka_id, provisioner.sync)


@app.task(name=DELETE_TASK, **TASK_OPTIONS)
def delete_halaka(self: Task, halaka_id: int) -> str:
    """Delete a halaka's Zoom meetings, then the halaka."""
    return run(self, halaka_id, provisioner.delete)


@app.task(name=RECONCILE_TASK)
def reconcile() -> int:
    """Enqueue every halaka whose work is due: never enqueued, lost with a worker or broker, or deferred."""
    due = provisioner.due_for_work()
    for halaka_id, status in due:
        enqueue(DELETE_TASK if status == ZoomStatus.deleting else SYNC_TASK, halaka_id)
    if due:
        log.info("reconciler enqueued work", extra={"count": len(due)})
    return len(due)
