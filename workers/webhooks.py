"""Process one stored webhook event: dispatch by type, once, inside one transaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.metrics import record_webhook_event
from shared.models import WebhookEvent
from workers import drift, meeting_events
from workers.meeting_events import InvalidEvent

log = logging.getLogger(__name__)
Handler = Callable[[Session, dict[str, Any], list], str]


def _object_handler(handle: Callable[[Session, dict[str, Any]], str]) -> Handler:
    def run(s: Session, payload: dict[str, Any], _after: list) -> str:
        obj = payload.get("object")
        if not isinstance(obj, dict):
            raise InvalidEvent("payload.object is missing")
        return handle(s, obj)

    return run


HANDLERS: dict[str, Handler] = {
    "meeting.started": _object_handler(meeting_events.on_started),
    "meeting.ended": _object_handler(meeting_events.on_ended),
    "meeting.participant_joined": _object_handler(meeting_events.on_joined),
    "meeting.participant_left": _object_handler(meeting_events.on_left),
    "meeting.deleted": drift.on_deleted,
    "meeting.updated": drift.on_updated,
}


def process(event_id: int) -> str:
    """Apply the event (idempotent: a processed event is skipped, a replayed one changes nothing
    twice); follow-up work (a sync to heal drift) is enqueued after the commit."""
    after: list[Callable[[], object]] = []
    with session_scope() as s:
        row = s.get(WebhookEvent, event_id, with_for_update=True)
        if row is None:
            return "missing"
        if row.processed_at is not None:
            return "already processed"
        row.tries += 1
        name = row.event
        try:
            event = json.loads(row.body)
            payload = event.get("payload") if isinstance(event, dict) else None
            handler = HANDLERS.get(name)
            if handler is None:
                outcome = "ignored (not an event the platform uses)"
            elif not isinstance(payload, dict):
                outcome = "invalid: payload is missing"
            else:
                with s.begin_nested():
                    outcome = handler(s, payload, after)
        except InvalidEvent as exc:
            outcome = f"invalid: {exc}"
            after.clear()
        except (ValueError, TypeError, AttributeError) as exc:
            outcome = f"invalid: {type(exc).__name__}"
            after.clear()
        except OperationalError:
            raise  # the database: the task retries
        except Exception as exc:
            log.exception("webhook handler failed", extra={"event": name, "event_id": event_id})
            outcome = f"failed: {type(exc).__name__} (replay it once fixed)"
            after.clear()
        row.processed_at = datetime.now(UTC)
        row.outcome = outcome[:500]
    for action in after:
        action()
    record_webhook_event(name, "processed")
    log.info("webhook processed", extra={"event": name, "event_id": event_id, "outcome": outcome})
    return outcome
