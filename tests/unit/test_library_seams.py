"""The few places that lean on a library beyond its documented API, each checked here so that an upgrade
that changes them fails this file instead of a request at run time."""

from __future__ import annotations

import inspect

from pydantic import BaseModel


def test_flask_openapi3s_request_validation_takes_the_parts_validated_passes():
    """`api.schemas.common.validated` calls flask-openapi3's private `_validate_request` by keyword."""
    from flask_openapi3.request import _validate_request

    assert list(inspect.signature(_validate_request).parameters) == [
        "header",
        "cookie",
        "path",
        "query",
        "form",
        "body",
        "raw",
        "path_kwargs",
    ]


class Body(BaseModel):
    n: int


class Query(BaseModel):
    q: str


def test_parse_parameters_returns_the_seven_parts_in_order():
    from flask_openapi3.utils import parse_parameters

    def view(query: Query, body: Body) -> None: ...

    header, cookie, path, query, form, body, raw = parse_parameters(view, doc_ui=False)
    assert (query, body) == (Query, Body)
    assert header is cookie is path is form is raw is None


def test_celery_still_writes_its_shutdown_notices_through_safe_say():
    """`workers.celery_app` replaces `celery.apps.worker.safe_say` (signal-safe JSON lines); were Celery
    to stop calling it, the notices would bypass the replacement."""
    import celery.apps.worker

    source = inspect.getsource(celery.apps.worker)
    assert "def safe_say(" in source and source.count("safe_say(") > 1


def test_flask_limiter_registers_the_app_wide_check_that_init_limiter_removes():
    """`api.extensions.init_limiter` removes flask-limiter's app-wide `before_request` check by its
    private name; were the library to rename it or register something else, this fails."""
    from flask import Flask
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    app = Flask(__name__)
    limiter = Limiter(key_func=get_remote_address, storage_uri="memory://")
    limiter.init_app(app)
    assert limiter._check_request_limit in app.before_request_funcs[None]
