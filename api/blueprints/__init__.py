"""The API's blueprints, one module per noun; a request to `/api/v1/<noun>/…` is served in `<noun>.py`.

Every blueprint of the versioned API is made by :func:`api_blueprint`, the one place that spells the
`/api/v1` prefix, the document's tag and the bearer-token security; `api.create_app` registers them.
A new blueprint::

    bp = api_blueprint("sessions", __name__, "/halaka", tag="halaka")

then add it to `BLUEPRINTS` in `api/__init__.py`. Pass `secured=False` for an operation set that
documents its own security per route (`auth`) or needs none (the Zoom webhook).
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

API_PREFIX = "/api/v1"
#: The OpenAPI security requirement of a route that needs an access token.
BEARER: list[dict[str, list[str]]] = [{"jwt": []}]


def api_blueprint(
    name: str, import_name: str, path: str, *, tag: str | None = None, secured: bool = True
) -> APIBlueprint:
    """A blueprint serving `/api/v1<path>`, grouped under `tag` (default: `name`) in the OpenAPI document;
    `secured`: every operation is documented as needing a bearer access token."""
    return APIBlueprint(
        name,
        import_name,
        url_prefix=f"{API_PREFIX}{path}",
        abp_tags=[Tag(name=tag or name)],
        abp_security=BEARER if secured else None,
    )
