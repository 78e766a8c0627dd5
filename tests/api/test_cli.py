"""`flask --app api create-admin` (what `make admin` runs)."""

from __future__ import annotations


def test_create_admin_then_login(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "--email", "Boss@Example.com", "--password", "very-secret-1", "--name", "Boss"]
    )
    assert result.exit_code == 0, result.output
    assert "admin boss@example.com created" in result.output
    r = client.post("/api/v1/auth/login", json={"email": "boss@example.com", "password": "very-secret-1"})
    assert r.status_code == 200 and r.json["data"]["user"]["role"] == "admin"


def test_create_admin_promotes_existing_user(app, client, make_user):
    student = make_user("student")
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", student.email, "--password", "new-password-1", "--name", "Promoted"]
    )
    assert result.exit_code == 0 and "promoted" in result.output
    r = client.post("/api/v1/auth/login", json={"email": student.email, "password": "new-password-1"})
    assert r.json["data"]["user"]["role"] == "admin"


def test_create_admin_rejects_short_password(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "a@example.com", "--password", "short", "--name", "A"]
    )
    assert result.exit_code != 0 and "at least 8 characters" in result.output
