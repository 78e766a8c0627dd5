"""The Celery app of the workers and beat (`celery -A workers.celery_app …`).

Wiring after Apache Superset's `superset/tasks/celery_app.py`: each forked worker process drops the
database pool and the Redis client it inherited (the Zoom client and its HTTP session notice the new
pid and rebuild themselves), and every task closes its session when done.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import task_postrun, worker_process_init

from shared.celery_config import configure
from shared.db import dispose_engine
from shared.logging import configure_logging
from shared.metrics import record_task_outcome
from shared.redis_client import reset_redis
from shared.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
app = configure(Celery("halaka", include=["workers.tasks.provisioning"]), settings)


@worker_process_init.connect
def _reset_inherited_connections(**_kwargs: object) -> None:
    dispose_engine()
    reset_redis()


@task_postrun.connect
def _count_outcome(task=None, retval=None, state=None, **_kwargs: object) -> None:
    """Task outcomes by name for the ops metrics (Flower shows each task; this shows the totals)."""
    outcome = retval if state == "SUCCESS" and isinstance(retval, str) else state
    record_task_outcome(task.name if task else "?", str(outcome))
