"""Durable intake of verified Zoom webhook deliveries: the raw body in PostgreSQL, once.

Zoom redelivers an event (identical body, fresh timestamp and signature) when it got no 2xx within
3 s, so the SHA-256 of the body is the deduplication key. The API stores, enqueues the event id on the
`webhooks` queue and answers; the sweep enqueues again whatever was stored but not processed (a lost
enqueue, a flushed broker, a stopped webhook worker).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert

from shared.db import get_engine, session_scope
from shared.models import WebhookEvent

SWEEP_STALE = timedelta(minutes=5)
SWEEP_BATCH = 1000


def dedup_key(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def store(body: bytes, event: str) -> int | None:
    """Insert the delivery; its id, or None when the same body was stored before (a redelivery)."""
    statement = (
        insert(WebhookEvent)
        .values(dedup_key=dedup_key(body), event=event[:100], body=body)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(WebhookEvent.id)
    )
    with get_engine().begin() as conn:
        return conn.execute(statement).scalar()


def due_for_processing(stale: timedelta = SWEEP_STALE, limit: int = SWEEP_BATCH) -> list[int]:
    """Unprocessed events enqueued longer than `stale` ago, re-leased (oldest first)."""
    now = datetime.now(UTC)
    with session_scope() as s:
        ids = list(
            s.scalars(
                select(WebhookEvent.id)
                .where(WebhookEvent.processed_at.is_(None), WebhookEvent.enqueued_at <= now - stale)
                .order_by(WebhookEvent.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            s.execute(update(WebhookEvent).where(WebhookEvent.id.in_(ids)).values(enqueued_at=now))
        return ids


def mark_for_replay(
    *, event_id: int | None = None, event: str | None = None, since: datetime | None = None
) -> list[int]:
    """Mark stored events unprocessed again (the admin replay); their ids, oldest first."""
    conditions = ["TRUE"]
    params: dict[str, object] = {}
    if event_id is not None:
        conditions.append("id = :id")
        params["id"] = event_id
    if event is not None:
        conditions.append("event = :event")
        params["event"] = event
    if since is not None:
        conditions.append("received_at >= :since")
        params["since"] = since
    sql = text(
        "UPDATE webhook_events SET processed_at = NULL, outcome = NULL, enqueued_at = now() "
        f"WHERE {' AND '.join(conditions)} RETURNING id"
    )
    with get_engine().begin() as conn:
        return sorted(conn.execute(sql, params).scalars())
