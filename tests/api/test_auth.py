"""Auth endpoints: success and error paths, and every way a token can be bad (docs/api.md)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from shared.settings import get_settings
from tests.factories import PASSWORD

REGISTER = {"name": "Amina", "email": "Amina@Example.com", "password": "s3cret-pass", "role": "teacher"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_register_creates_user_without_password_in_response(client):
    r = client.post("/api/v1/auth/register", json=REGISTER)
    assert r.status_code == 201
    assert r.json["status"] == "created"
    user = r.json["data"]
    assert user["email"] == "amina@example.com" and user["role"] == "teacher"
    assert "password" not in json.dumps(r.json).lower().replace("passwordhash", "")


def test_register_duplicate_email_is_409_case_insensitive(client):
    assert client.post("/api/v1/auth/register", json=REGISTER).status_code == 201
    r = client.post("/api/v1/auth/register", json={**REGISTER, "email": "AMINA@example.com"})
    assert r.status_code == 409
    assert r.json["status"] == "error" and r.json["errors"][0]["field"] == "email"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
    ],
    ids=["admin-role", "bad-email", "short-password", "blank-name", "null-name"],
)
def test_register_validation_names_the_field(client, change, field):
    r = client.post("/api/v1/auth/register", json={**REGISTER, **change})
    assert r.status_code == 400
    assert field in [e["field"] for e in r.json["errors"]]


def test_register_missing_fields_listed(client):
    r = client.post("/api/v1/auth/register", json={"email": "x@example.com"})
    assert r.status_code == 400
    assert r.json["message"] == "name, password and role are required"


def test_login_success_and_me(client, make_user):
    account = make_user("teacher")
    r = client.get("/api/v1/auth/me", headers=account.headers)
    assert r.status_code == 200
    assert r.json["data"]["id"] == account.id


@pytest.mark.parametrize(
    ("email", "password"),
    [("student1@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_login_bad_credentials_401(client, make_user, email, password):
    make_user("student")
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 401
    assert r.json == {"status": "error", "message": "Invalid email or password"}


def test_inactive_user_cannot_login_or_use_token(client, make_user):
    admin = make_user("admin")
    student = make_user("student")
    r = client.patch(f"/api/v1/users/{student.id}", json={"active": False}, headers=admin.headers)
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=student.headers).status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": student.email, "password": PASSWORD})
    assert r.status_code == 401


def test_refresh_gives_new_access_token(client, make_user):
    account = make_user("student")
    r = client.post("/api/v1/auth/refresh", headers=bearer(account.refresh_token))
    assert r.status_code == 200
    new = r.json["data"]["accessToken"]
    assert client.get("/api/v1/auth/me", headers=bearer(new)).status_code == 200


def test_access_token_cannot_refresh(client, make_user):
    account = make_user("student")
    assert client.post("/api/v1/auth/refresh", headers=account.headers).status_code == 401


def test_refresh_token_cannot_be_used_as_access(client, make_user):
    account = make_user("student")
    r = client.get("/api/v1/auth/me", headers=bearer(account.refresh_token))
    assert r.status_code == 401
    assert r.json["status"] == "error"


def test_logout_revokes_access_and_refresh(client, make_user):
    account = make_user("student")
    r = client.post(
        "/api/v1/auth/logout", headers=account.headers, json={"refreshToken": account.refresh_token}
    )
    assert r.status_code == 200
    r = client.get("/api/v1/auth/me", headers=account.headers)
    assert r.status_code == 401 and r.json["message"] == "Token has been revoked"
    assert client.post("/api/v1/auth/refresh", headers=bearer(account.refresh_token)).status_code == 401


def _forge(payload: dict, key: str, alg: str = "HS256") -> str:
    return pyjwt.encode(payload, key, algorithm=alg)


def _claims(app, account) -> dict:
    with app.app_context():
        return pyjwt.decode(account.token, options={"verify_signature": False})


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _bad_tokens(app, account) -> dict[str, str]:
    claims = _claims(app, account)
    secret = get_settings().jwt_secret_key.get_secret_value()
    with app.app_context():
        expired = create_access_token(identity=str(account.id), expires_delta=timedelta(seconds=-5))
    header, _payload, signature = account.token.split(".")
    tampered_payload = _b64({**claims, "sub": "999999", "role": "admin"})
    return {
        "expired": expired,
        "tampered": f"{header}.{tampered_payload}.{signature}",
        "wrong-signature": _forge(claims, "another-secret-of-sufficient-length-0000"),
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "hs512": _forge(claims, secret, "HS512"),
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize("kind", ["expired", "tampered", "wrong-signature", "alg-none", "hs512", "garbage"])
def test_bad_tokens_get_401(app, client, make_user, kind):
    account = make_user("admin")
    token = _bad_tokens(app, account)[kind]
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401
    assert r.json["status"] == "error" and r.json["message"]


def test_missing_authorization_is_401(client):
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.json["status"] == "error"


def test_login_is_rate_limited_per_email(client, make_user, monkeypatch):
    """Failures against one account from addresses that never signed in to it are limited together;
    the owner's own address (make_user logged in from the test client's) still gets in."""
    account = make_user("student")
    monkeypatch.setattr(get_settings(), "login_account_rate_limit", "3 per minute")
    codes = [
        client.post(
            "/api/v1/auth/login",
            json={"email": account.email, "password": "wrong-one"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        ).status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    r = client.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    assert r.status_code == 429 and r.json["status"] == "error"
    r = client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
    assert r.status_code == 200


def test_login_is_rate_limited_per_ip(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "login_rate_limit", "3 per minute")
    codes = [
        client.post("/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x"}).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_logout_without_body(client, make_user):
    account = make_user("student")
    assert client.post("/api/v1/auth/logout", headers=account.headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=account.headers).status_code == 401
