"""Server-to-Server OAuth and bearer-token checks of the sandbox."""

from __future__ import annotations

import time

import requests

from tests.sandbox.sandbox_helpers import HOST
from tests.sandbox_fixture import ZoomApiClient
from zoomsim.control import SandboxControl

pytest_plugins = ["tests.sandbox_fixture"]


def _token_request(sb: SandboxControl, **kwargs: object) -> requests.Response:
    return requests.post(sb.oauth_url, timeout=5, **kwargs)  # type: ignore[arg-type]


def test_token_with_form_body(zoom_sandbox: SandboxControl) -> None:
    response = _token_request(
        zoom_sandbox,
        data={"grant_type": "account_credentials", "account_id": zoom_sandbox.account_id},
        auth=(zoom_sandbox.client_id, zoom_sandbox.client_secret),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32
    assert "meeting:write:admin" in body["scope"].split()
    assert response.headers["x-zm-trackingid"]
    assert zoom_sandbox.stats()["token_requests"] == 1


def test_token_with_query_string(zoom_sandbox: SandboxControl) -> None:
    response = _token_request(
        zoom_sandbox,
        params={"grant_type": "account_credentials", "account_id": zoom_sandbox.account_id},
        auth=(zoom_sandbox.client_id, zoom_sandbox.client_secret),
    )
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_bad_credentials(zoom_sandbox: SandboxControl) -> None:
    good = {"grant_type": "account_credentials", "account_id": zoom_sandbox.account_id}
    wrong_secret = _token_request(zoom_sandbox, data=good, auth=(zoom_sandbox.client_id, "nope"))
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    assert wrong_secret.json()["reason"]
    assert _token_request(zoom_sandbox, data=good).json()["error"] == "invalid_client"
    wrong_account = _token_request(
        zoom_sandbox,
        data={**good, "account_id": "other"},
        auth=(zoom_sandbox.client_id, zoom_sandbox.client_secret),
    )
    assert wrong_account.status_code == 400
    assert wrong_account.json()["error"] == "invalid_request"
    wrong_grant = _token_request(
        zoom_sandbox,
        data={**good, "grant_type": "client_credentials"},
        auth=(zoom_sandbox.client_id, zoom_sandbox.client_secret),
    )
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    stats = zoom_sandbox.stats()
    assert stats["token_requests"] == 4
    assert stats["tokens_issued"] == 0


def test_missing_or_unknown_bearer_is_124(zoom_api: ZoomApiClient) -> None:
    path = f"/users/{HOST}/meetings"
    for token in ("", "not-a-token"):
        response = zoom_api.get(path, token=token)
        assert response.status_code == 401
        assert response.json() == {"code": 124, "message": "Invalid access token."}


def test_revoked_token_is_124(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    path = f"/users/{HOST}/meetings"
    assert zoom_api.get(path).status_code == 200
    assert zoom_sandbox.revoke_tokens() == 1
    response = zoom_api.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == 124
    assert zoom_api.get(path, token=zoom_api.token(refresh=True)).status_code == 200


def test_expired_token_is_124(zoom_sandbox: SandboxControl, zoom_api: ZoomApiClient) -> None:
    zoom_sandbox.config(token_ttl=1)
    token = zoom_api.token()
    path = f"/users/{HOST}/meetings"
    assert zoom_api.get(path, token=token).status_code == 200
    time.sleep(1.1)
    response = zoom_api.get(path, token=token)
    assert response.status_code == 401
    assert response.json()["code"] == 124


def test_secrets_never_logged(own_zoom_sandbox: SandboxControl) -> None:
    zoom_api = ZoomApiClient(own_zoom_sandbox)
    token = zoom_api.token()
    zak = zoom_api.get(f"/users/{HOST}/token", params={"type": "zak"}).json()["token"]
    log_text = own_zoom_sandbox.process.log_path.read_text()
    assert "/users/teacher@example.com/token" in log_text
    for secret in (token, zak, own_zoom_sandbox.client_secret):
        assert secret not in log_text
