"""Flask app factory (`flask --app api …` finds `create_app`).

A request enters here (request id, body checks, the error envelope), then goes to the blueprint of its
noun: `/api/v1/<noun>/…` is `api/blueprints/<noun>.py`, every one listed in `BLUEPRINTS`. The settings
given to `create_app` are the app's (`api.extensions.app_settings()`); nothing under `api/` reads the
environment behind them.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import timedelta

from flask import Response, g, redirect, request
from flask_openapi3 import Info, OpenAPI
from werkzeug.middleware.proxy_fix import ProxyFix

from api.auth_context import register_jwt_callbacks
from api.blueprints import (
    API_PREFIX,
    attendance,
    auth,
    calendar,
    halaka,
    health,
    ops,
    sessions,
    users,
    zoom,
    zoom_webhook,
)
from api.cli import register_cli
from api.db_session import init_db_session
from api.errors import register_error_handlers, validation_error_response
from api.extensions import init_limiter, init_settings, jwt
from api.schemas.common import ErrorResponse
from shared.logging import configure_logging, halaka_id_var, request_id_var
from shared.metrics import observe_request
from shared.settings import Settings, get_settings

# Every blueprint of the versioned API (each made by `api.blueprints.api_blueprint`), in document order.
BLUEPRINTS = (
    auth.bp,
    users.bp,
    halaka.bp,
    sessions.bp,
    attendance.bp,
    calendar.bp,
    calendar.halaka_bp,
    zoom.bp,
    zoom_webhook.bp,
    ops.bp,
)
HALAKA_PREFIX = f"{API_PREFIX}/halaka/"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> OpenAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = OpenAPI(
        __name__,
        info=Info(title="Halaka Zoom API", version="1.0.0"),
        security_schemes={"jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        validation_error_status=400,
        validation_error_model=ErrorResponse,
        validation_error_callback=validation_error_response,
        doc_prefix=API_PREFIX,
        doc_url="/openapi.json",
    )
    init_settings(app, settings)
    app.config.update(
        JWT_SECRET_KEY=settings.jwt_secret_key.get_secret_value(),
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.jwt_access_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.jwt_refresh_days),
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_TOKEN_LOCATION=["headers"],
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_KEY_PREFIX="halaka-limiter",
    )
    if settings.trusted_proxy_hops:
        # client addresses (rate limits) from X-Forwarded-For, only as many hops as the operator trusts
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_hops)  # type: ignore[method-assign]  # Flask's documented way
    _register_request_context(app)  # first: before any hook that may answer early (limits, body checks)
    jwt.init_app(app)
    init_limiter(app)
    register_jwt_callbacks(app)
    init_db_session(app)
    register_error_handlers(app)
    register_cli(app)

    for blueprint in BLUEPRINTS:
        app.register_api(blueprint)
    app.register_blueprint(health.bp)  # /healthz, /readyz: outside the versioned API
    app.register_blueprint(ops.exposition)  # /metrics (Prometheus)
    app.add_url_rule(f"{API_PREFIX}/docs", "docs", lambda: redirect(f"{API_PREFIX}/swagger"))
    return app


def _register_request_context(app: OpenAPI) -> None:
    """Request id and halaka id for the logs; the request's route, method, status and time for metrics."""

    @app.before_request
    def _assign() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request_id_var.set(g.request_id)
        halaka = (request.view_args or {}).get("id") if request.path.startswith(HALAKA_PREFIX) else None
        halaka_id_var.set(halaka if isinstance(halaka, int) else None)

    @app.after_request
    def _echo(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        started = g.get("started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            observe_request(route, request.method, response.status_code, time.perf_counter() - started)
        return response

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        """A server thread's next lines, outside any request, carry no stale ids."""
        request_id_var.set(None)
        halaka_id_var.set(None)
