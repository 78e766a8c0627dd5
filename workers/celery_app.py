"""The Celery app of the workers and beat (`celery -A workers.celery_app …`).

Wiring after Apache Superset's `superset/tasks/celery_app.py`: each forked worker process drops the
database pool and the Redis/HTTP clients it inherited, and every task closes its session when done.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init

from shared.celery_config import configure
from shared.db import dispose_engine
from shared.logging import configure_logging
from shared.redis_client import reset_redis
from shared.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
app = configure(Celery("halaka", include=["workers.tasks.provisioning"]), settings)


@worker_process_init.connect
def _reset_inherited_connections(**_kwargs: object) -> None:
    dispose_engine()
    reset_redis()
