"""The Celery app of the workers and beat (`celery -A workers.celery_app …`).

Wiring after Apache Superset's `superset/tasks/celery_app.py`: a forked worker process drops the database
pool, the Redis client and the Zoom client it inherited through the one registry in `shared/forks.py`
(`os.register_at_fork`, so no Celery signal is needed), and every task closes its session when done.

Logging: the project's JSON handler on the root logger (`setup_logging` has a receiver, so Celery
configures no handler of its own, and `worker_hijack_root_logger` is off); each task's lines carry its
`task_id` and `halaka_id`. Metrics: task outcomes and durations; the worker's main process and beat serve
their role's metrics on `METRICS_PORT`.
"""

from __future__ import annotations

import time

import celery.apps.worker
from celery import Celery
from celery.signals import (
    after_task_publish,
    beat_init,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
)

from shared.celery_config import configure
from shared.logging import configure_logging, halaka_id_var, task_id_var, write_signal_safe
from shared.metrics import BEAT_SENT, record_task, start_metrics_server
from shared.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
app = configure(
    Celery(
        "halaka",
        include=[
            "workers.tasks.provisioning",
            "workers.tasks.maintenance",
            "workers.tasks.webhooks",
            "workers.tasks.sessions",
        ],
    ),
    settings,
)
_started: dict[str, float] = {}
# Celery writes its shutdown notices ("worker: Warm shutdown") from the signal handler with a bare
# os.write of plain text; this keeps them signal-safe and makes them JSON lines like every other.
celery.apps.worker.safe_say = write_signal_safe  # type: ignore[attr-defined]  # celery-types omits it


@setup_logging.connect
def _json_logging(**_kwargs: object) -> None:
    configure_logging(settings.log_level)


@worker_init.connect
def _worker_metrics(**_kwargs: object) -> None:
    if settings.metrics_port:
        start_metrics_server(settings.metrics_port, settings.metrics_host)


@beat_init.connect
def _beat_metrics(**_kwargs: object) -> None:
    after_task_publish.connect(_count_sent)
    if settings.metrics_port:
        start_metrics_server(settings.metrics_port, settings.metrics_host)


def _count_sent(sender: str | None = None, **_kwargs: object) -> None:
    BEAT_SENT.labels(sender or "?").inc()


@task_prerun.connect
def _task_context(task_id: str | None = None, args: tuple | None = None, **_kwargs: object) -> None:
    """Lines logged while a task runs name it and its halaka (tasks take the halaka id first)."""
    task_id_var.set(task_id)
    halaka_id_var.set(args[0] if args and isinstance(args[0], int) else None)
    if task_id:
        _started[task_id] = time.perf_counter()


@task_postrun.connect
def _count_outcome(task=None, task_id=None, retval=None, state=None, **_kwargs: object) -> None:
    """Task outcomes by name (Flower shows each task; this shows the totals) and their durations."""
    outcome = retval if state == "SUCCESS" and isinstance(retval, str) else state
    started = _started.pop(task_id, None) if task_id else None
    seconds = None if started is None else time.perf_counter() - started
    record_task(task.name if task else "?", str(outcome), seconds)
    task_id_var.set(None)
    halaka_id_var.set(None)
