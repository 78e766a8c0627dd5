"""Every error is the JSON envelope `{status: "error", message, errors?}` — for any path and method."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from api.schemas.common import model_named

log = logging.getLogger(__name__)
# Views that read their raw body themselves: the Zoom webhook is verified over the exact bytes before
# anything parses them (an unverified caller gets no JSON parsing for free).
UNPARSED_ENDPOINTS = frozenset({"zoom_webhook.webhook"})

_MESSAGES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Resource not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Content-Type must be application/json",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def error_response(status: int, message: str, errors: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"status": "error", "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def _field_name(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def validation_error_response(exc: ValidationError) -> Response:
    """400 naming each offending field; a model may define the message used when fields are missing."""
    errors = [{"field": _field_name(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    missing = [e for e in exc.errors() if e["type"] == "missing"]
    if any(e["loc"] == () for e in exc.errors()):
        message = "Request body must be a JSON object"
    elif missing:
        model = model_named(exc.title)
        custom = model.required_message if model else None
        names = [_field_name(e["loc"]) for e in missing]
        message = custom or f"{_join(names)} {'is' if len(names) == 1 else 'are'} required"
    else:
        message = "Invalid request: " + ", ".join(e["field"] for e in errors)
    return error_response(400, message, errors)


def _has_body() -> bool:
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return bool(request.content_length) or chunked


def _check_json_body() -> Response | None:
    """415 for a body that is not JSON, 400 for malformed JSON, before any view runs.

    Also 400 for JSON nested deeper than the parser's recursion limit (`[[[[…` 10 000 levels): the
    standard library raises RecursionError there, not ValueError, so `get_json(silent=True)` lets it out.
    """
    if request.method not in ("POST", "PUT", "PATCH") or not _has_body():
        return None
    if request.endpoint in UNPARSED_ENDPOINTS:
        return None
    if not request.is_json:
        return error_response(415, _MESSAGES[415])
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return error_response(400, "JSON body is nested too deeply")
    if body is None:
        return error_response(400, "Malformed JSON body")
    return None


def _route() -> str:
    """The route template, not the path: a path may carry a secret (a calendar feed's token)."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def register_error_handlers(app: Flask) -> None:
    app.before_request(_check_json_body)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.errors)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError) -> Response:
        return validation_error_response(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if isinstance(exc.response, Response) and exc.response.is_json:
            return exc.response
        code = exc.code or 500
        message = _MESSAGES.get(code, exc.name)
        response = error_response(code, message)
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(RedisError)
    def _redis_down(exc: RedisError) -> Response:
        """Token revocation and rate limits live in Redis: without it, refuse (503) rather than guess."""
        log.warning("redis unavailable on %s %s: %s", request.method, _route(), type(exc).__name__)
        return error_response(503, "Service temporarily unavailable, please retry")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, _route())
        return error_response(500, _MESSAGES[500])
