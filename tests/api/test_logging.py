"""Logs written while logging in carry no password, token or Authorization header."""

from __future__ import annotations

import io
import json
import logging

from shared.logging import json_handler, scrub


def test_login_logs_contain_no_secrets(client, make_user):
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        account = make_user("teacher")
        client.get("/api/v1/auth/me", headers=account.headers)
        client.post("/api/v1/auth/login", json={"email": account.email, "password": "wrong-password-123"})
        client.post("/api/v1/auth/logout", headers=account.headers)
        logging.getLogger("test").warning("Authorization: Bearer %s", account.token)
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(line["message"] == "login succeeded" and line["request_id"] for line in lines)
    captured = stream.getvalue()
    for secret in (account.token, account.refresh_token, "wrong-password-123", "correct horse battery"):
        assert secret not in captured


def test_scrub_masks_secret_shapes():
    text = "zak=abc123 password: hunter2 Bearer eyJhbGciOi.eyJzdWIiOiIx.sig token=xyz"
    cleaned = scrub(text)
    for secret in ("abc123", "hunter2", "eyJhbGciOi", "xyz"):
        assert secret not in cleaned
