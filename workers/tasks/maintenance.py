"""Housekeeping tasks run by beat (schedule in shared.celery_config)."""

from __future__ import annotations

from shared.celery_config import PURGE_REVOKED_TASK
from shared.revocation import purge_expired
from workers.celery_app import app


@app.task(name=PURGE_REVOKED_TASK)
def purge_revoked_logins() -> int:
    """Drop revoked logins whose tokens have expired (the table stays as small as the live revocations)."""
    return purge_expired()
