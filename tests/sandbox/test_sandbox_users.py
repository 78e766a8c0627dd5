"""ZAK tokens and the sandbox's user directory."""

from __future__ import annotations

from tests.sandbox.sandbox_helpers import HOST, meeting_body
from tests.sandbox_fixture import ZoomApiClient
from zoomsim.control import SandboxControl

pytest_plugins = ["tests.sandbox_fixture"]


def test_zak_for_known_user(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    response = zoom_api.get(f"/users/{HOST}/token", params={"type": "zak"})
    assert response.status_code == 200
    first = response.json()["token"]
    second = zoom_api.get(f"/users/{HOST}/token", params={"type": "zak"}).json()["token"]
    assert first and second and first != second
    assert zoom_sandbox.stats()["zak_wrong_type"] == 0


def test_zak_unknown_user_is_1001(zoom_api: ZoomApiClient) -> None:
    response = zoom_api.get("/users/ghost@example.com/token", params={"type": "zak"})
    assert response.status_code == 404
    assert response.json() == {"code": 1001, "message": "User does not exist: ghost@example.com."}


def test_zak_without_type_is_answered_but_recorded(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    assert zoom_api.get(f"/users/{HOST}/token").status_code == 200
    assert zoom_api.get(f"/users/{HOST}/token", params={"type": "token"}).status_code == 200
    assert zoom_sandbox.stats()["zak_wrong_type"] == 2
    faults = [e["fault"] for e in zoom_sandbox.requests_log() if e["operation"] == "zak"]
    assert faults == ["zak_type:None", "zak_type:token"]


def test_users_by_id_or_case_insensitive_email(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    user = next(u for u in zoom_sandbox.users() if u["email"] == HOST)
    by_id = zoom_api.post(f"/users/{user['id']}/meetings", json=meeting_body())
    by_email = zoom_api.post("/users/Teacher@Example.COM/meetings", json=meeting_body())
    assert by_id.status_code == by_email.status_code == 201
    assert by_id.json()["host_id"] == by_email.json()["host_id"] == user["id"]
    assert by_email.json()["host_email"] == HOST


def test_added_user_can_host_and_removed_user_is_gone(
    zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient
) -> None:
    added = zoom_sandbox.add_user("new.teacher@example.org", id="NewTeacherId01")
    assert added["id"] == "NewTeacherId01"
    assert zoom_api.post("/users/new.teacher@example.org/meetings", json=meeting_body()).status_code == 201
    zoom_sandbox.remove_user("NewTeacherId01")
    gone = zoom_api.post("/users/new.teacher@example.org/meetings", json=meeting_body())
    assert gone.status_code == 404
    assert gone.json()["code"] == 1001


def test_user_who_may_not_host_gets_3161(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.add_user("student@example.com", can_host=False)
    response = zoom_api.post("/users/student@example.com/meetings", json=meeting_body())
    assert response.status_code == 400
    assert response.json()["code"] == 3161
    assert zoom_sandbox.meetings() == []


def test_reset_restores_users(zoom_sandbox: SandboxControl) -> None:
    zoom_sandbox.add_user("temp@example.com")
    zoom_sandbox.remove_user(HOST)
    zoom_sandbox.reset()
    assert sorted(u["email"] for u in zoom_sandbox.users()) == ["host@example.com", HOST]
