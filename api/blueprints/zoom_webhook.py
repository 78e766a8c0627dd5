"""`POST /api/v1/zoom/webhook`: Zoom's event notifications (docs/api.md).

No JWT: Zoom signs each delivery with the app's secret token, and the signature is checked over the raw
bytes before anything parses them. `endpoint.url_validation` is answered only for a verified request:
an unverified one would be an HMAC oracle (plainToken = `v0:{ts}:{forged body}` returns a valid
signature for any forged event). A verified event is stored once (redeliveries are recognised) and
acknowledged at once; a worker on the `webhooks` queue processes it. 5xx only when the event could not
be stored, so that Zoom delivers it again.
"""

from __future__ import annotations

import json
import logging
import time

from flask import request
from sqlalchemy.exc import SQLAlchemyError

from api.blueprints import api_blueprint
from api.errors import ApiError
from api.extensions import app_settings
from api.responses import ok
from api.schemas.common import responses
from api.schemas.zoom import WebhookAck
from shared import webhook_store
from shared.celery_config import WEBHOOK_TASK
from shared.metrics import record_webhook_event, record_webhook_signature_failure
from shared.task_queue import enqueue
from shared.zoom.webhook_signature import encrypted_token, verify

log = logging.getLogger(__name__)
bp = api_blueprint("zoom_webhook", __name__, "/zoom", tag="zoom", secured=False)  # Zoom signs, no token


URL_VALIDATION = "endpoint.url_validation"
MAX_PLAIN_TOKEN = 256
_SIGNATURE_MESSAGES = {
    "missing": "x-zm-signature and x-zm-request-timestamp headers are required",
    "malformed timestamp": "x-zm-request-timestamp must be epoch seconds",
    "stale": "x-zm-request-timestamp is outside the accepted window",
    "mismatch": "Invalid Zoom webhook signature",
}


def _webhook_secret() -> str:
    secret = app_settings().zoom_webhook_secret_token
    if secret is None or not secret.get_secret_value():
        record_webhook_signature_failure("not configured")
        raise ApiError(503, "Zoom webhooks are not configured: set ZOOM_WEBHOOK_SECRET_TOKEN")
    return secret.get_secret_value()


def _verified_body(secret: str) -> bytes:
    """The raw body, once its size and Zoom's signature over it check out (413 / 401 otherwise)."""
    settings = app_settings()
    limit = settings.zoom_webhook_max_body_bytes
    if (request.content_length or 0) > limit:
        raise ApiError(413, f"Webhook body larger than {limit} bytes")
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise ApiError(413, f"Webhook body larger than {limit} bytes")
    reason = verify(
        secret,
        request.headers.get("x-zm-request-timestamp"),
        request.headers.get("x-zm-signature"),
        body,
        time.time(),
        settings.zoom_webhook_tolerance_seconds,
    )
    if reason is not None:
        record_webhook_signature_failure(reason)
        log.warning("webhook refused", extra={"reason": reason})
        raise ApiError(401, _SIGNATURE_MESSAGES[reason])
    return body


def _event_of(body: bytes) -> tuple[str, dict]:
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, "Malformed JSON body") from None
    name = event.get("event") if isinstance(event, dict) else None
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise ApiError(400, "event is required", [{"field": "event", "message": "a Zoom event name"}])
    payload = event.get("payload")
    return name, payload if isinstance(payload, dict) else {}


def _url_validation(secret: str, payload: dict):
    plain = payload.get("plainToken")
    if not isinstance(plain, str) or not 0 < len(plain) <= MAX_PLAIN_TOKEN:
        raise ApiError(
            400,
            "payload.plainToken is required",
            [{"field": "payload.plainToken", "message": f"a string of 1 to {MAX_PLAIN_TOKEN} characters"}],
        )
    record_webhook_event(URL_VALIDATION, "answered")
    return ok("URL validated", plainToken=plain, encryptedToken=encrypted_token(secret, plain))


@bp.post("/webhook", responses=responses({200: WebhookAck}, 401, 413, 503))
def webhook():
    """Zoom's event notifications: verified by Zoom's signature (no JWT), stored once, acknowledged,
    then processed by a worker on the `webhooks` queue."""
    secret = _webhook_secret()
    body = _verified_body(secret)
    name, payload = _event_of(body)
    if name == URL_VALIDATION:
        return _url_validation(secret, payload)
    try:
        event_id = webhook_store.store(body, name)
    except SQLAlchemyError:
        log.exception("webhook event could not be stored", extra={"event": name})
        record_webhook_event(name, "store failed")
        raise ApiError(503, "The event could not be stored; Zoom will deliver it again") from None
    if event_id is None:
        record_webhook_event(name, "duplicate")
        return ok("Event already received")
    record_webhook_event(name, "stored")
    enqueue(WEBHOOK_TASK, event_id)  # a lost enqueue is picked up by the sweep
    return ok("Event received")
