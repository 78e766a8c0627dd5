"""Flask app factory for the sandbox."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from zoomsim import api, control_api, gateway
from zoomsim.config import ServerSettings
from zoomsim.errors import ZoomError
from zoomsim.state import SandboxState


def create_app(settings: ServerSettings | None = None) -> Flask:
    app = Flask("zoomsim")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask's default provider has it; its base does not
    app.extensions["zoomsim"] = SandboxState(settings or ServerSettings())
    gateway.install(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(control_api.bp)

    @app.errorhandler(ZoomError)
    def zoom_error(exc: ZoomError) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if request.path.startswith("/_sandbox"):
            return gateway.json_ok({"error": exc.description}, status)
        return gateway.error_response(status, exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return gateway.error_response(500, "Internal server error")

    return app
