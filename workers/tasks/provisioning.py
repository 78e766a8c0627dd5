"""Provisioning tasks (filled in by the halaka pipeline)."""

from shared.celery_config import RECONCILE_TASK
from workers.celery_app import app


@app.task(name=RECONCILE_TASK)
def reconcile() -> int:
    return 0
