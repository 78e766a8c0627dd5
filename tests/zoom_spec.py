"""Validate request and response bodies against Zoom's own OpenAPI spec of the Meetings API.

The spec is found by :mod:`tests.zoom_spec_files` (``$ZOOM_MEETINGS_SPEC``, the sibling
``../shared/reference/zoom/``, or the ``make zoom-specs`` cache; never copied into the project); the
suite does not start without it.

Adjustments to the spec, each deliberate:

- Its ``recurrence.weekly_days`` enum lists single digits although its own description allows a
  comma list (``"2,4"``); the enum is removed and the value checked with ``^[1-7](,[1-7])*$``.
- Request ``start_time`` may be local ``yyyy-MM-ddTHH:mm:ss`` (the spec's description allows it
  with ``timezone``) although ``format: date-time`` (RFC 3339) requires an offset; requests accept
  both, responses must be RFC 3339. ``recurrence.end_date_time`` must be UTC (``Z``).
- ``GET /users/{userId}/token`` (the ZAK) belongs to Zoom's Users API, not this spec; a minimal
  description of it is supplied in :data:`SUPPLEMENT`.
- Error responses mostly have no schema, and 401/429/5xx are often undocumented per operation:
  any status >= 400 without a schema must carry Zoom's ``{"code": int, "message": str}``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

from tests.zoom_spec_files import locate

SPEC_URI = "urn:zoom:meetings-openapi"
WEEKLY_DAYS_RE = re.compile(r"^[1-7](,[1-7])*$")
LOCAL_DATE_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")
API_PREFIX = "/v2"

SUPPLEMENT: dict[str, dict[str, Any]] = {
    "/users/{userId}/token": {
        "get": {
            "operationId": "userToken",
            "summary": "Get a user's ZAK (Zoom Users API; not part of the Meetings spec)",
            "parameters": [
                {"name": "userId", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "type", "in": "query", "schema": {"type": "string", "enum": ["token", "zak"]}},
            ],
            "responses": {
                "200": {
                    "description": "ZAK returned.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["token"],
                                "properties": {"token": {"type": "string", "minLength": 1}},
                            }
                        }
                    },
                },
                "404": {"description": "**Error Code:** `1001` User does not exist: {userId}."},
            },
        }
    }
}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _patch(spec: dict[str, Any]) -> dict[str, Any]:
    for node in _walk(spec):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get("weekly_days"), dict):
            props["weekly_days"].pop("enum", None)
    for path, operations in SUPPLEMENT.items():
        spec["paths"].setdefault(path, {}).update(copy.deepcopy(operations))
    return spec


@functools.cache
def load_spec() -> dict[str, Any]:
    """The patched spec, read once; `SpecNotFound` names where it was looked for when it is nowhere."""
    with locate("meetings").open(encoding="utf-8") as handle:
        return _patch(json.load(handle))


def _is_date_time_or_local(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if LOCAL_DATE_TIME_RE.match(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    return oas30_format_checker.conforms(value, "date-time")


def _request_format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers = dict(oas30_format_checker.checkers)
    checker.checks("date-time")(_is_date_time_or_local)
    return checker


REQUEST_FORMATS = _request_format_checker()
RESPONSE_FORMATS = oas30_format_checker


def has_operation(method: str, path_template: str) -> bool:
    return method.lower() in load_spec()["paths"].get(path_template, {})


def operation(method: str, path_template: str) -> dict[str, Any]:
    op = load_spec()["paths"].get(path_template, {}).get(method.lower())
    if op is None:
        raise AssertionError(f"{method.upper()} {path_template} is not an operation of Zoom's spec")
    return op


@functools.cache
def _template_patterns(paths: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    def literal_segments(template: str) -> int:
        return sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))

    ordered = sorted(paths, key=lambda t: (-literal_segments(t), t))
    patterns = []
    for template in ordered:
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(f"^{regex}$"), template))
    return patterns


def operation_for(method: str, concrete_path: str) -> str | None:
    """The spec's path template for a concrete request path, or ``None`` if the spec lacks it.

    ``/v2/users/x@y.com/meetings?page_size=30`` (or a full URL) maps to ``/users/{userId}/meetings``.
    """
    path = unquote(urlsplit(concrete_path).path)
    if path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :]
    paths = load_spec()["paths"]
    for pattern, template in _template_patterns(tuple(paths)):
        if pattern.match(path) and method.lower() in paths[template]:
            return template
    return None


def _pointer(*segments: str) -> str:
    escaped = (quote(s.replace("~", "~0").replace("/", "~1"), safe="{}") for s in segments)
    return "#/" + "/".join(escaped)


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, DRAFT4.create_resource(load_spec()))


@functools.cache
def _validator(pointer: str, for_request: bool) -> OAS30Validator:
    return OAS30Validator(
        {"$ref": SPEC_URI + pointer},
        registry=_registry(),
        format_checker=REQUEST_FORMATS if for_request else RESPONSE_FORMATS,
    )


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "<body>"
    message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
    return f"at {where}: {message}"


def _check(pointer: str, body: Any, for_request: bool, what: str) -> None:
    errors = sorted(_validator(pointer, for_request).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        details = "\n  ".join(_describe(e) for e in errors[:10])
        raise AssertionError(f"{what} does not match Zoom's spec:\n  {details}")


def _recurrences(body: Any) -> Iterator[dict[str, Any]]:
    for node in _walk(body):
        recurrence = node.get("recurrence")
        if isinstance(recurrence, dict):
            yield recurrence


def _check_recurrence_forms(body: Any, what: str, for_request: bool) -> None:
    for recurrence in _recurrences(body):
        days = recurrence.get("weekly_days")
        if days is not None and not (isinstance(days, str) and WEEKLY_DAYS_RE.match(days)):
            raise AssertionError(f"{what}: recurrence.weekly_days {days!r} is not a comma list of 1..7")
        end = recurrence.get("end_date_time")
        if for_request and end is not None and not (isinstance(end, str) and end.endswith("Z")):
            raise AssertionError(f"{what}: recurrence.end_date_time {end!r} must be UTC (ending in Z)")


def validate_request(method: str, path_template: str, body: dict[str, Any] | None) -> None:
    """Assert that ``body`` is a valid request body for the operation."""
    op = operation(method, path_template)
    what = f"request body of {method.upper()} {path_template}"
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        if body is not None:
            raise AssertionError(f"{what}: the operation takes no JSON body")
        return
    if body is None:
        if op["requestBody"].get("required"):
            raise AssertionError(f"{what}: a body is required")
        return
    _check(
        _pointer(
            "paths", path_template, method.lower(), "requestBody", "content", "application/json", "schema"
        ),
        body,
        True,
        what,
    )
    _check_recurrence_forms(body, what, True)


def _check_error_shape(body: Any, what: str) -> None:
    if not (
        isinstance(body, dict)
        and isinstance(body.get("code"), int)
        and not isinstance(body.get("code"), bool)
        and isinstance(body.get("message"), str)
    ):
        raise AssertionError(f"{what}: expected Zoom's error body {{code: int, message: str}}, got {body!r}")


def validate_response(method: str, path_template: str, status: int, body: dict[str, Any] | None) -> None:
    """Assert that ``body`` is what the spec allows for this operation and HTTP status."""
    op = operation(method, path_template)
    what = f"{status} response of {method.upper()} {path_template}"
    documented = op.get("responses", {}).get(str(status))
    if documented is None and status < 400:
        raise AssertionError(f"{what}: status {status} is not documented for this operation")
    content = (documented or {}).get("content", {})
    if "application/json" in content and "schema" in content["application/json"]:
        pointer = _pointer(
            "paths",
            path_template,
            method.lower(),
            "responses",
            str(status),
            "content",
            "application/json",
            "schema",
        )
        _check(pointer, body, False, what)
        _check_recurrence_forms(body, what, False)
    elif status >= 400:
        _check_error_shape(body, what)
    elif body not in (None, b"", ""):
        raise AssertionError(f"{what}: the spec documents no body, got {body!r}")


def validate_logged_request(entry: dict[str, Any]) -> None:
    """Validate the body of one sandbox request-log entry (``/v2`` requests the spec knows)."""
    template = operation_for(entry["method"], entry["path"])
    if template is None:
        raise AssertionError(f"{entry['method']} {entry['path']} is not an operation of Zoom's spec")
    validate_request(entry["method"], template, entry.get("json"))
