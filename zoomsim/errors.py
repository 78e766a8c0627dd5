"""Zoom-style error bodies: ``{"code": int, "message": str}`` with an HTTP status."""

from __future__ import annotations

from flask import Response, jsonify


class ZoomError(Exception):
    """Raised anywhere in request handling; rendered as Zoom renders errors."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.field = field

    def response(self) -> Response:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["errors"] = [{"field": self.field, "message": self.message}]
        resp = jsonify(body)
        resp.status_code = self.status
        resp.headers.update(self.headers)
        return resp


def validation_error(message: str, field: str | None = None) -> ZoomError:
    return ZoomError(400, 300, message, field=field)


def invalid_token() -> ZoomError:
    return ZoomError(401, 124, "Invalid access token.")


def user_not_found(user_id: str) -> ZoomError:
    return ZoomError(404, 1001, f"User does not exist: {user_id}.")


def meeting_not_found(meeting_id: object) -> ZoomError:
    return ZoomError(404, 3001, f"Meeting does not exist: {meeting_id}.")


def may_not_host() -> ZoomError:
    return ZoomError(
        400,
        3161,
        "Your user account is not allowed meeting hosting and scheduling capabilities.",
    )
