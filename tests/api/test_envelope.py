"""Every response is the JSON envelope, for any path and method (docs/api.md)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/nowhere", {}, 404),
        ("get", "/api/v1/auth/nope", {}, 404),
        ("delete", "/api/v1/auth/login", {}, 405),
        ("put", "/api/v1/auth/register", {"json": {}}, 405),
        ("post", "/api/v1/auth/register", {"data": "{not json", "content_type": "application/json"}, 400),
        ("post", "/api/v1/auth/register", {"data": "name=x", "content_type": "text/plain"}, 415),
        (
            "post",
            "/api/v1/auth/login",
            {"data": "a=b", "content_type": "application/x-www-form-urlencoded"},
            415,
        ),
        ("post", "/api/v1/auth/register", {"json": [1, 2]}, 400),
        ("post", "/api/v1/auth/register", {"json": "text"}, 400),
        ("post", "/api/v1/auth/register", {}, 400),
        ("get", "/api/v1/users/abc", {}, 404),
    ],
    ids=[
        "unknown",
        "unknown-api",
        "405-delete",
        "405-put",
        "malformed",
        "text-plain",
        "form",
        "array",
        "string",
        "no-body",
        "non-int-id",
    ],
)
def test_errors_are_enveloped(client, method, path, kwargs, status):
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status
    assert r.is_json, r.data[:200]
    assert r.json["status"] == "error" and isinstance(r.json["message"], str)


def test_oversize_body_is_413(client):
    r = client.post(
        "/api/v1/auth/register", data=b"{" + b" " * (2 * 1024 * 1024) + b"}", content_type="application/json"
    )
    assert r.status_code == 413
    assert r.json == {"status": "error", "message": "Request body too large"}


def test_unhandled_exception_is_enveloped_500_without_trace(caplog):
    from api import create_app

    app = create_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    r = app.test_client().get("/boom", headers={"X-Request-ID": "req-123"})
    assert r.status_code == 500
    assert r.json == {"status": "error", "message": "Internal server error"}
    assert r.headers["X-Request-ID"] == "req-123"
    assert "secret internals" not in r.get_data(as_text=True)
    assert any("unhandled error" in rec.getMessage() for rec in caplog.records)


def test_request_id_generated_and_echoed(client):
    r = client.get("/healthz")
    assert len(r.headers["X-Request-ID"]) == 32
    r = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["X-Request-ID"] != "bad id with spaces"


def test_health_and_ready(client):
    assert client.get("/healthz").json["status"] == "success"
    r = client.get("/readyz")
    assert r.status_code == 200, r.json
    assert r.json["data"] == {"database": "ok", "redis": "ok", "broker": "ok"}


def test_ready_reports_failed_dependency(client, monkeypatch):
    from shared.settings import get_settings

    monkeypatch.setattr(get_settings(), "celery_broker_url", "redis://127.0.0.1:1/0")
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json["message"] == "Not ready: broker unreachable"


def test_redis_down_is_503_not_500(client, make_user, monkeypatch):
    import redis

    account = make_user("student")

    def down(*_args, **_kwargs):
        raise redis.ConnectionError("connection refused")

    monkeypatch.setattr(redis.Redis, "execute_command", down)
    r = client.post("/api/v1/auth/login", json={"email": account.email, "password": "x"})
    assert r.status_code == 503
    assert r.json == {"status": "error", "message": "Service temporarily unavailable, please retry"}
