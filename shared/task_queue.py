"""Enqueue provisioning work by task name, so the API never imports the workers."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import lru_cache

from amqp.exceptions import ChannelError
from celery import Celery

from shared.celery_config import configure
from shared.settings import get_settings

log = logging.getLogger(__name__)


def lease() -> timedelta:
    """How long enqueued or running work owns a halaka before the reconciler may enqueue it again
    (its `next_attempt_at` is set this far ahead)."""
    return timedelta(seconds=get_settings().reconcile_stale_seconds)


@lru_cache(maxsize=1)
def producer() -> Celery:
    return configure(Celery("halaka-producer"), get_settings())


def enqueue(task_name: str, row_id: int) -> bool:
    """Send a task carrying only a row id (a halaka's, a webhook event's); False (logged) when the broker
    is unreachable.

    The row is already committed, so a lost enqueue only delays the work: the reconcilers find rows
    left pending (halakat, unprocessed webhook events) and enqueue them.
    """
    try:
        producer().send_task(task_name, args=[row_id], retry=False)
    except Exception:  # noqa: BLE001 - any broker failure is recoverable by the reconciler
        log.warning("enqueue failed; the reconciler will pick it up", extra={"task": task_name, "id": row_id})
        return False
    return True


def queue_depth(queue: str) -> int | None:
    """Messages waiting in the broker queue (None when the broker cannot be reached)."""
    try:
        with producer().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            try:
                channel = conn.default_channel
                return channel.queue_declare(queue=queue, passive=True).message_count  # type: ignore[attr-defined]  # StdChannel omits it
            except ChannelError:
                return 0  # the broker has no such queue yet: nothing is waiting
    except Exception:  # noqa: BLE001 - a metric, not a failure
        return None
