"""The project's own writes to Zoom, remembered for a while so that their webhook echoes are not
mistaken for changes someone made in Zoom's web portal (drift).

Zoom sends `meeting.updated` / `meeting.deleted` for API writes too. The client records each PATCH and
DELETE here just before sending it; the webhook worker asks before treating an event as drift. Kept in
Redis for longer than Zoom's retries of a delivery (about 85 minutes). Best effort: if Redis cannot be
reached the drift rules fall back on comparing Zoom's occurrences with the plan.
"""

from __future__ import annotations

import logging

import redis

REMEMBER_SECONDS = 2 * 3600
log = logging.getLogger(__name__)


def _key(kind: str, meeting_id: int | str, occurrence_id: str | None) -> str:
    return f"zoom:own-write:{kind}:{meeting_id}:{occurrence_id or '-'}"


def remember(client: redis.Redis, kind: str, meeting_id: int | str, occurrence_id: str | None = None) -> None:
    try:
        client.set(_key(kind, meeting_id, occurrence_id), 1, ex=REMEMBER_SECONDS)
    except redis.RedisError:
        log.warning("own Zoom write not remembered", extra={"meeting_id": str(meeting_id), "kind": kind})


def was_ours(client: redis.Redis, kind: str, meeting_id: int | str, occurrence_id: str | None = None) -> bool:
    try:
        return bool(client.exists(_key(kind, meeting_id, occurrence_id)))
    except redis.RedisError:
        return False
