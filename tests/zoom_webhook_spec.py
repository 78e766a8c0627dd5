"""Validate webhook event bodies against Zoom's own webhook spec (``meetings-webhooks-openapi.json``,
OpenAPI 3.1: each event's request body schema is JSON Schema 2020-12).

Found by :mod:`tests.zoom_spec_files` (``$ZOOM_WEBHOOKS_SPEC``, the sibling checkout, the checked
cache), never copied into the project. Adjustments, each deliberate:

- Its three ``$ref`` point at ``#/paths/…`` although the events live under ``#/webhooks/…``; they are
  rewritten to the place they mean.
- ``participant.email`` is ``format: email``, yet its description says Zoom sends an empty string for
  participants who are not signed in; the empty string is accepted, anything else must be an e-mail.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.zoom_spec_files import locate

SPEC_URI = "urn:zoom:meetings-webhooks-openapi"


def _fix_refs(node: Any) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/paths/"):
            node["$ref"] = "#/webhooks/" + ref[len("#/paths/") :]
        for value in node.values():
            _fix_refs(value)
    elif isinstance(node, list):
        for value in node:
            _fix_refs(value)
    return node


@functools.cache
def load_webhook_spec() -> dict[str, Any]:
    """The adjusted spec, read once (found by :func:`tests.zoom_spec_files.locate`)."""
    with locate("webhooks").open(encoding="utf-8") as handle:
        return _fix_refs(json.load(handle))


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("email")
    def _email(value: object) -> bool:
        return not isinstance(value, str) or value == "" or "@" in value

    return checker


@functools.cache
def _validator(event: str) -> Draft202012Validator:
    spec = load_webhook_spec()
    if event not in spec["webhooks"]:
        raise AssertionError(f"{event} is not an event of Zoom's webhook spec")
    registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT202012))
    pointer = f"{SPEC_URI}#/webhooks/{event}/post/requestBody/content/application~1json/schema"
    return Draft202012Validator({"$ref": pointer}, registry=registry, format_checker=_format_checker())


def validate_event(body: dict[str, Any]) -> None:
    """AssertionError naming every place where ``body`` departs from its event's schema."""
    event = body.get("event")
    errors = sorted(_validator(event).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
        raise AssertionError(f"{event} does not match Zoom's webhook spec:\n  " + "\n  ".join(lines))
