"""Password guessing is throttled per client IP (`login_rate_limit`, every attempt) and per account
(`login_account_rate_limit`, failures from addresses that never signed in to it), so others guessing an
account's password cannot lock its owner out (docs/api.md).

The suite runs with LOGIN_RATE_LIMIT=1000 per minute, so each test lowers the limit on the live settings
object the limiter reads on every request (as tests/api/test_auth.py does).
"""

from __future__ import annotations

import pytest

from shared.settings import Settings, get_settings
from tests.factories import PASSWORD, insert_user
from tests.security.world import build_world

LIMIT = 5
LOGIN = "/api/v1/auth/login"


@pytest.fixture
def limited(monkeypatch):
    monkeypatch.setattr(get_settings(), "login_rate_limit", f"{LIMIT} per minute")
    monkeypatch.setattr(get_settings(), "login_account_rate_limit", f"{LIMIT} per minute")


def attempt(client, email: str, password: str = "wrong-password", ip: str = "10.1.0.1", **headers):
    return client.post(
        LOGIN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}, headers=headers
    )


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.json
    assert response.is_json and response.json["status"] == "error"
    assert "Retry-After" in response.headers
    assert "password" not in response.get_data(as_text=True).lower()


def test_default_limit_is_ten_per_minute():
    assert Settings.model_fields["login_rate_limit"].default == "10 per minute"


def test_guessing_one_account_from_many_ips_is_throttled_per_email(client, app, limited):
    victim = build_world(app).student
    assert attempt(client, victim.email, PASSWORD, ip="10.2.1.1").status_code == 200  # the owner's address
    codes = [attempt(client, victim.email, ip=f"10.2.0.{i}").status_code for i in range(LIMIT)]
    assert codes == [401] * LIMIT
    assert_throttled(attempt(client, victim.email, ip="10.2.0.200"))
    # from an address that never signed in, the right password does not get through either
    assert_throttled(attempt(client, victim.email, PASSWORD, ip="10.2.0.201"))
    # but the attackers cannot lock the owner out: their usual address still gets in, and keeps doing so
    for _ in range(2):
        assert attempt(client, victim.email, PASSWORD, ip="10.2.1.1").status_code == 200
    # case and surrounding spaces do not make a fresh bucket
    assert_throttled(attempt(client, "  " + victim.email.upper() + " ", ip="10.2.0.202"))
    # another account from a fresh address is unaffected
    other = "another-student@example.com"
    insert_user("Another", other, "student")
    assert attempt(client, other, PASSWORD, ip="10.2.0.203").status_code == 200


def test_guessing_many_accounts_from_one_ip_is_throttled_per_ip(client, limited):
    codes = [attempt(client, f"user{i}@example.com", ip="10.3.0.1").status_code for i in range(LIMIT)]
    assert codes == [401] * LIMIT
    assert_throttled(attempt(client, "fresh@example.com", ip="10.3.0.1"))
    assert attempt(client, "fresh2@example.com", ip="10.3.0.2").status_code == 401


def test_forwarded_headers_do_not_reset_the_ip_bucket(client, limited):
    """Without a trusted proxy configured, X-Forwarded-For / X-Real-IP are the attacker's to choose."""
    for i in range(LIMIT):
        r = attempt(client, f"u{i}@example.com", ip="10.4.0.1", **{"X-Forwarded-For": f"203.0.113.{i}"})
        assert r.status_code == 401
    r = attempt(
        client,
        "next@example.com",
        ip="10.4.0.1",
        **{"X-Forwarded-For": "198.51.100.7", "X-Real-IP": "198.51.100.8"},
    )
    assert_throttled(r)


def test_successful_logins_count_too(client, app, limited):
    """The per-address limit is on attempts, so a stolen password cannot be confirmed at will either."""
    student = build_world(app).student
    for _ in range(LIMIT):
        assert attempt(client, student.email, PASSWORD, ip="10.5.0.1").status_code == 200
    assert_throttled(attempt(client, student.email, PASSWORD, ip="10.5.0.1"))


def test_default_account_limit():
    assert Settings.model_fields["login_account_rate_limit"].default == "5 per minute"


def test_the_limits_hold_with_no_app_wide_limiter_check(app, client, limited):
    """`init_limiter` drops flask-limiter's check before every request (this API has no app-wide
    limits); the login's own decorated limits still throttle, with their headers."""
    from api.extensions import limiter

    assert limiter._check_request_limit not in app.before_request_funcs[None]
    for _ in range(LIMIT):
        response = attempt(client, "nobody@example.com", ip="10.9.0.9")
        assert response.status_code == 401
        assert "X-RateLimit-Limit" in response.headers
    assert_throttled(attempt(client, "nobody@example.com", ip="10.9.0.9"))
