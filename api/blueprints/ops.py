"""Operator view (admin): queue depth, halakat by Zoom status, Zoom calls and task outcomes."""

from __future__ import annotations

from amqp.exceptions import ChannelError
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import func, select

from api.auth_context import auth_required
from api.db_session import db
from api.responses import ok
from api.schemas.common import ApiModel, Envelope, responses
from shared.celery_config import ZOOM_QUEUE
from shared.metrics import TASK_OUTCOMES, ZOOM_CALLS, read
from shared.models import Halaka, Role
from shared.task_queue import producer

bp = APIBlueprint(
    "ops", __name__, url_prefix="/api/v1/ops", abp_tags=[Tag(name="ops")], abp_security=[{"jwt": []}]
)


class Metrics(ApiModel):
    queue_depth: dict[str, int | None]
    halakat_by_status: dict[str, int]
    zoom_calls: dict[str, int]
    task_outcomes: dict[str, int]


class MetricsEnvelope(Envelope[Metrics]):
    pass


def queue_depth(queue: str = ZOOM_QUEUE) -> int | None:
    """Messages waiting in the broker queue (None when the broker cannot be reached)."""
    try:
        with producer().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
            try:
                return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError:
                return 0  # the broker has no such queue yet: nothing is waiting
    except Exception:  # noqa: BLE001 - a metric, not a failure
        return None


@bp.get("/metrics", responses=responses({200: MetricsEnvelope}, 401, 403))
@auth_required(Role.admin)
def metrics():
    """Queue depth, halakat by Zoom status, Zoom calls by endpoint and status, task outcomes."""
    rows = db().execute(select(Halaka.zoom_status, func.count()).group_by(Halaka.zoom_status)).all()
    body = Metrics(
        queue_depth={ZOOM_QUEUE: queue_depth()},
        halakat_by_status={status: count for status, count in rows},
        zoom_calls=read(ZOOM_CALLS),
        task_outcomes=read(TASK_OUTCOMES),
    )
    return ok("Metrics fetched successfully", body)
