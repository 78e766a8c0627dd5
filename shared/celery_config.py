"""Celery configuration shared by the workers and by the API, which only enqueues tasks by name."""

from __future__ import annotations

from celery import Celery

from shared.settings import Settings

ZOOM_QUEUE = "zoom"
SYNC_TASK = "halaka.sync"
DELETE_TASK = "halaka.delete"
SESSION_TASK = "halaka.session"  # one session change (shared.sessions) to Zoom
RECONCILE_TASK = "halaka.reconcile"
PURGE_REVOKED_TASK = "auth.purge_revoked_logins"
PURGE_REVOKED_INTERVAL = 3600.0
DRIFT_CHECK_TASK = "halaka.drift_check"
WEBHOOK_QUEUE = "webhooks"
WEBHOOK_TASK = "webhooks.process"
WEBHOOK_SWEEP_TASK = "webhooks.sweep"

# A message a dead worker had taken comes back only after this long (Redis transport). Countdowns stay
# far below it; longer waits are stored in Postgres and picked up by the reconciler (docs/architecture.md).
VISIBILITY_TIMEOUT = 3600


def configure(app: Celery, settings: Settings) -> Celery:
    app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        task_default_queue=ZOOM_QUEUE,
        # Publish through the default exchange straight to the queue: routing then needs no binding
        # table in Redis, so a flushed broker loses only messages, never the ability to send new ones.
        task_routes={
            "halaka.*": {"queue": ZOOM_QUEUE, "exchange": ""},
            "auth.*": {"queue": ZOOM_QUEUE, "exchange": ""},
            "webhooks.*": {"queue": WEBHOOK_QUEUE, "exchange": ""},
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,  # the project's JSON handler stays (shared.logging)
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        beat_schedule={
            "reconcile": {"task": RECONCILE_TASK, "schedule": settings.reconcile_interval_seconds},
            "purge-revoked-logins": {"task": PURGE_REVOKED_TASK, "schedule": PURGE_REVOKED_INTERVAL},
            "webhook-sweep": {"task": WEBHOOK_SWEEP_TASK, "schedule": settings.reconcile_interval_seconds},
            "drift-check": {"task": DRIFT_CHECK_TASK, "schedule": settings.drift_check_interval_seconds},
        },
    )
    return app
