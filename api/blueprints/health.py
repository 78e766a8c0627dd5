"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text

from api.db_session import db
from api.errors import error_response
from api.extensions import app_settings
from api.responses import ok
from shared.redis_client import get_redis

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return ok("alive")


def _broker_reachable() -> None:
    import kombu

    with kombu.Connection(app_settings().broker_url, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1)


@bp.get("/readyz")
def readyz():
    checks = {
        "database": lambda: db().execute(text("SELECT 1")),
        "redis": lambda: get_redis().ping(),
        "broker": _broker_reachable,
    }
    failed = []
    for name, check in checks.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means not ready
            failed.append(name)
    if failed:
        return error_response(
            503,
            "Not ready: " + ", ".join(failed) + " unreachable",
            [{"field": name, "message": "unreachable"} for name in failed],
        )
    return ok("ready", {"database": "ok", "redis": "ok", "broker": "ok"})
