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


def enqueue(task_name: str, halaka_id: int) -> bool:
    """Send a task carrying only the halaka id; False (logged) when the broker is unreachable.

    The halaka row is already committed, so a lost enqueue only delays the work: the reconciler
    finds rows left pending and enqueues them.
    """
    try:
        producer().send_task(task_name, args=[halaka_id], retry=False)
    except Exception:  # noqa: BLE001 - any broker failure is recoverable by the reconciler
        log.warning("enqueue failed; the reconciler will pick it up", extra={"halaka_id": halaka_id})
        return False
    return True


def queue_depth(queue: str) -> int | None:
    """Messages waiting in the broker queue (None when the broker cannot be reached)."""
    try:
        with producer().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            try:
                return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError:
                return 0  # the broker has no such queue yet: nothing is waiting
    except Exception:  # noqa: BLE001 - a metric, not a failure
        return None
