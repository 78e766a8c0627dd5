"""Admin-only user management and role checks."""

from __future__ import annotations

import pytest


def test_admin_lists_users_paginated(client, make_user):
    admin = make_user("admin")
    for _ in range(3):
        make_user("student")
    r = client.get("/api/v1/users/?perPage=2&page=2", headers=admin.headers)
    assert r.status_code == 200
    data = r.json["data"]
    assert data["total"] == 4 and data["page"] == 2 and len(data["items"]) == 2
    r = client.get("/api/v1/users/?role=admin", headers=admin.headers)
    assert [u["role"] for u in r.json["data"]["items"]] == ["admin"]


@pytest.mark.parametrize("role", ["student", "teacher"])
def test_non_admin_forbidden(client, make_user, role):
    account = make_user(role)
    other = make_user("student")
    assert client.get("/api/v1/users/", headers=account.headers).status_code == 403
    r = client.patch(f"/api/v1/users/{other.id}", json={"role": "admin"}, headers=account.headers)
    assert r.status_code == 403 and r.json["status"] == "error"


def test_teacher_cannot_link_own_zoom_user(client, make_user):
    teacher = make_user("teacher")
    r = client.patch(
        f"/api/v1/users/{teacher.id}", json={"zoomUserId": "ceo@example.com"}, headers=teacher.headers
    )
    assert r.status_code == 403


def test_admin_links_zoom_user_and_changes_role(client, make_user):
    admin = make_user("admin")
    teacher = make_user("teacher")
    r = client.patch(
        f"/api/v1/users/{teacher.id}", json={"zoomUserId": "t@zoom.example.com"}, headers=admin.headers
    )
    assert r.status_code == 200 and r.json["data"]["zoomUserId"] == "t@zoom.example.com"
    r = client.patch(f"/api/v1/users/{teacher.id}", json={"role": "superuser"}, headers=admin.headers)
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "role"


def test_patch_unknown_user_404(client, make_user):
    admin = make_user("admin")
    r = client.patch("/api/v1/users/424242", json={"active": True}, headers=admin.headers)
    assert r.status_code == 404 and r.json["status"] == "error"


def test_role_change_takes_effect_without_new_login(client, make_user):
    admin = make_user("admin")
    other = make_user("admin")
    client.patch(f"/api/v1/users/{other.id}", json={"role": "student"}, headers=admin.headers)
    assert client.get("/api/v1/users/", headers=other.headers).status_code == 403
