"""Celery tasks: sync (provision or update), delete and reconcile. They carry halaka ids only.

Failure policy (docs/architecture.md) written to the halaka by `shared.lifecycle`: transient Zoom failures and
per-second 429s retry with exponential backoff and full jitter, honouring Retry-After up to the cap;
short waits are Celery countdowns (far below the Redis visibility timeout), longer ones — a host's daily
limit until 00:00 UTC, a long outage — are stored in `next_attempt_at` and enqueued by the reconciler
when due. Permanent failures end in `failed` with a readable `zoomError`, retryable through the API.
Any other exception (a malformed Zoom body, a bug) counts as an attempt like a transient failure, so it
too ends `failed` once the attempt budget is spent.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import Task
from sqlalchemy.exc import OperationalError

from shared import lifecycle
from shared.celery_config import DELETE_TASK, RECONCILE_TASK, SESSION_TASK, SYNC_TASK
from shared.lifecycle import Outcome, Run
from shared.models import ZoomStatus
from shared.settings import get_settings
from shared.task_queue import enqueue
from shared.zoom.backoff import retry_delay, seconds_until_utc_midnight
from shared.zoom.client import get_zoom_client
from shared.zoom.errors import CODE_USER_NOT_FOUND, ZoomError, ZoomRateLimited
from shared.zoom.recurrence import ScheduleError
from workers import provisioner
from workers.celery_app import app
from workers.sessions import due as session_changes_due

log = logging.getLogger(__name__)
BUSY_COUNTDOWN = 5.0
# acks late, rejected on worker loss: celery_config
TASK_OPTIONS: dict[str, Any] = {"bind": True, "max_retries": None}


def describe(exc: BaseException, host: str | None) -> str:
    """A message an operator or teacher can act on (never the exception's text: it may hold secrets)."""
    if isinstance(exc, ScheduleError):
        return f"the schedule cannot be provisioned: {exc.message}"
    if not isinstance(exc, ZoomError):
        return f"unexpected error while talking to Zoom ({type(exc).__name__})"
    if exc.code == CODE_USER_NOT_FOUND:
        return f"Zoom user {host} does not exist"
    if exc.code == 3161:
        return f"Zoom user {host} is not allowed to host meetings"
    return f"Zoom error: {exc.message}" + (f" (code {exc.code})" if exc.code else "")


def _after_failure(
    halaka_id: int, run: Run, exc: BaseException, version: int | None
) -> tuple[Outcome, float]:
    """Record the failure through the lifecycle; the outcome and the wait in seconds."""
    settings = get_settings()
    base, cap = settings.provision_backoff_base, settings.provision_backoff_cap

    def reason(host: str | None) -> str:
        return describe(exc, host)

    if isinstance(exc, ScheduleError) or (isinstance(exc, ZoomError) and exc.permanent):
        code = getattr(exc, "code", None)
        log.warning("provisioning failed permanently", extra={"halaka_id": halaka_id, "code": code})
        return lifecycle.fail(halaka_id, run, reason=reason, version=version), 0.0
    if not isinstance(exc, ZoomError):
        log.error("unexpected error in a provisioning run", exc_info=exc, extra={"halaka_id": halaka_id})
    if isinstance(exc, ZoomRateLimited) and exc.daily:
        return lifecycle.defer(
            halaka_id,
            run,
            wait=lambda _attempt: seconds_until_utc_midnight() + random.uniform(1, 60),
            reason=lambda host: (
                f"Zoom's daily meeting limit for host {host} is reached; retrying after 00:00 UTC"
            ),
            version=version,
            counted=False,
        )
    if isinstance(exc, ZoomRateLimited):  # the shared budget's job, not a failure of this halaka
        return lifecycle.defer(
            halaka_id,
            run,
            wait=lambda _attempt: retry_delay(1, base, cap, exc.retry_after),
            reason=reason,
            version=version,
            counted=False,
        )
    return lifecycle.defer(
        halaka_id, run, wait=lambda attempt: retry_delay(attempt, base, cap), reason=reason, version=version
    )


def run(task: Task, halaka_id: int, kind: Run) -> Outcome:
    work = provisioner.sync if kind is Run.SYNC else provisioner.delete
    try:
        outcome = work(halaka_id, get_zoom_client())
    except OperationalError as exc:  # the database, not Zoom: try again shortly, no attempt counted
        raise task.retry(countdown=BUSY_COUNTDOWN * 2, exc=exc) from None
    except provisioner.RunFailed as failed:
        cause = failed.__cause__ or failed
        if isinstance(cause, OperationalError):
            raise task.retry(countdown=BUSY_COUNTDOWN * 2, exc=cause) from None
        outcome, wait = _after_failure(halaka_id, kind, cause, failed.version)
        log.info(
            "provisioning run failed",
            extra={"halaka_id": halaka_id, "outcome": outcome.value, "error": type(cause).__name__},
        )
        if outcome is Outcome.RETRYING:
            raise task.retry(countdown=wait) from None
    if outcome is Outcome.BUSY:
        raise task.retry(countdown=BUSY_COUNTDOWN)
    if outcome is Outcome.CHANGED:
        raise task.retry(countdown=0)
    return outcome


@app.task(name=SYNC_TASK, **TASK_OPTIONS)
def sync_halaka(self: Task, halaka_id: int) -> str:
    """Provision or update a halaka's Zoom meetings."""
    return run(self, halaka_id, Run.SYNC)


@app.task(name=DELETE_TASK, **TASK_OPTIONS)
def delete_halaka(self: Task, halaka_id: int) -> str:
    """Delete a halaka's Zoom meetings, then the halaka."""
    return run(self, halaka_id, Run.DELETE)


@app.task(name=RECONCILE_TASK)
def reconcile() -> int:
    """Enqueue every halaka whose work is due: never enqueued, lost with a worker or broker, or deferred."""
    due = lifecycle.lease_due()
    for halaka_id, status in due:
        enqueue(DELETE_TASK if status == ZoomStatus.deleting else SYNC_TASK, halaka_id)
    changes = session_changes_due()
    for change_id in changes:
        enqueue(SESSION_TASK, change_id)
    if due or changes:
        log.info("reconciler enqueued work", extra={"count": len(due), "session_changes": len(changes)})
    return len(due) + len(changes)
