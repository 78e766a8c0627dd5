"""Success envelopes."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel


def _dump(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(by_alias=True, mode="json")
    return data


def ok(message: str, data: Any = None, status: int = 200, **extra: Any) -> Response:
    body: dict[str, Any] = {"status": "success", "message": message}
    if data is not None:
        body["data"] = _dump(data)
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    return response


def no_store(response: Response) -> Response:
    """Mark a response that carries a credential or a secret URL as never to be cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


def created(message: str, data: Any) -> Response:
    response = jsonify({"status": "created", "message": message, "data": _dump(data)})
    response.status_code = 201
    return response
