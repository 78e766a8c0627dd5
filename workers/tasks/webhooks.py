"""Celery tasks of the `webhooks` queue (event processing, the sweep) and the slow drift check, which
calls Zoom and so runs on the `zoom` queue. They carry ids only."""

from __future__ import annotations

import logging

from celery import Task
from sqlalchemy.exc import OperationalError

from shared import webhook_store
from shared.celery_config import DRIFT_CHECK_TASK, WEBHOOK_SWEEP_TASK, WEBHOOK_TASK
from shared.task_queue import enqueue
from shared.zoom.client import get_zoom_client
from shared.zoom.errors import ZoomError
from workers import drift, webhooks
from workers.celery_app import app

log = logging.getLogger(__name__)
MAX_PROCESS_RETRIES = 8


@app.task(name=WEBHOOK_TASK, bind=True, max_retries=MAX_PROCESS_RETRIES)
def process_event(self: Task, event_id: int) -> str:
    """Apply one stored event. Database trouble retries with backoff; the sweep catches the rest."""
    try:
        return webhooks.process(event_id)
    except OperationalError as exc:
        raise self.retry(countdown=min(2**self.request.retries, 60), exc=exc) from None


@app.task(name=WEBHOOK_SWEEP_TASK)
def sweep() -> int:
    """Enqueue stored events nobody processed (a lost enqueue, a flushed broker, a stopped worker)."""
    due = webhook_store.due_for_processing()
    for event_id in due:
        enqueue(WEBHOOK_TASK, event_id)
    if due:
        log.info("webhook sweep enqueued events", extra={"count": len(due)})
    return len(due)


@app.task(name=DRIFT_CHECK_TASK)
def drift_check() -> str:
    """The slow safety net: every ready halaka's meetings read back from Zoom, one call at a time
    (within the shared rate budget), and drift the events missed healed or flagged."""
    outcomes: dict[str, int] = {}
    client = get_zoom_client()
    for halaka_id in drift.active_halakat():
        try:
            outcome = drift.check_halaka(halaka_id, client)
        except ZoomError as exc:
            log.warning("drift check stopped: Zoom failed", extra={"error": type(exc).__name__})
            outcomes["zoom error"] = outcomes.get("zoom error", 0) + 1
            break
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    log.info("drift check done", extra={"outcomes": outcomes})
    return ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())) or "nothing to check"
