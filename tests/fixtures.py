"""Fixtures for API tests: the Flask app on the real database/Redis, and users with tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from tests.factories import PASSWORD, insert_user


@dataclass
class Account:
    id: int
    email: str
    role: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def app(database_url: str, redis_url: str):
    from api import create_app

    return create_app()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(client: FlaskClient) -> Callable[..., Account]:
    """Create a user directly in the database (any role, incl. admin) and log in through the API."""
    counter = {"n": 0}

    def _make(role: str = "student", zoom_user_id: str | None = None, email: str | None = None) -> Account:
        counter["n"] += 1
        email = email or f"{role}{counter['n']}@example.com"
        user_id = insert_user(f"{role.title()} {counter['n']}", email, role, zoom_user_id)
        response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.json
        data = response.json["data"]
        return Account(user_id, email, role, data["accessToken"], data["refreshToken"])

    return _make
