"""Operator views: Prometheus exposition at `/metrics` (bearer `METRICS_TOKEN`) and the admin JSON
summary at `/api/v1/ops/metrics`, both read from `shared.metrics`."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from api.auth_context import auth_required
from api.blueprints import api_blueprint
from api.errors import error_response
from api.extensions import app_settings
from api.responses import ok
from api.schemas.common import ApiModel, Envelope, responses
from shared.host_budget import writes_today
from shared.metrics import (
    TASK_OUTCOMES,
    ZOOM_CALLS,
    StateCollector,
    process_registry,
    read_mirror,
    read_state,
)
from shared.models import Role

bp = api_blueprint("ops", __name__, "/ops")
exposition = Blueprint("exposition", __name__)
_state = CollectorRegistry()
_state.register(StateCollector(lambda: app_settings().zoom_default_host_user))


class Metrics(ApiModel):
    queue_depth: dict[str, int | None]
    halakat_by_status: dict[str, int]
    oldest_pending_seconds: float
    host_daily_writes_max: int
    zoom_calls: dict[str, int]
    task_outcomes: dict[str, int]
    zoom_writes_today: dict[str, int]  # per shared host: meeting writes teachers were charged today (UTC)


class MetricsEnvelope(Envelope[Metrics]):
    pass


@bp.get("/metrics", responses=responses({200: MetricsEnvelope}, 401, 403))
@auth_required(Role.admin)
def metrics():
    """Queue depth, halakat by Zoom status, oldest pending halaka, the busiest host's Zoom writes today,
    Zoom calls by endpoint and status, task outcomes (the numbers `/metrics` exports)."""
    state = read_state(app_settings().zoom_default_host_user)
    body = Metrics(
        queue_depth=state.queue_depth,
        halakat_by_status=state.halakat_by_status,
        oldest_pending_seconds=round(state.oldest_pending_seconds, 3),
        host_daily_writes_max=max(state.host_writes.values(), default=0),
        zoom_calls=read_mirror(ZOOM_CALLS),
        task_outcomes=read_mirror(TASK_OUTCOMES),
        zoom_writes_today=writes_today(),
    )
    return ok("Metrics fetched successfully", body)


@exposition.get("/metrics")
def prometheus():
    """Prometheus text format: every API worker's counters plus the state gauges."""
    token = app_settings().metrics_token
    if token is None:
        return error_response(404, "Metrics are disabled: set METRICS_TOKEN")
    expected = f"Bearer {token.get_secret_value()}".encode()
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
        response = error_response(401, "A valid METRICS_TOKEN bearer token is required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(process_registry()) + generate_latest(_state)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
