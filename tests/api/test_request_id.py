"""The client's X-Request-ID comes back on every answer, including those the body check gives before any
view runs (the request-id hook is registered first)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "text/plain"}, b"hello", 415),
        ({"Content-Type": "application/json"}, b"{not json", 400),
        ({"Content-Type": "application/json"}, b"[" * 20_000, 400),
    ],
)
def test_body_check_answers_keep_the_request_id(client, headers, data, status):
    r = client.post("/api/v1/auth/login", data=data, headers={**headers, "X-Request-ID": "client-id-7"})
    assert r.status_code == status
    assert r.json["status"] == "error"
    assert r.headers["X-Request-ID"] == "client-id-7"
