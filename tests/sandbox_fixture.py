"""pytest plugin: the Zoom sandbox as a subprocess for the session, reset before each test.

List it in ``pytest_plugins``. Fixtures:

- ``zoom_sandbox_server`` (session): a running ``python -m zoomsim`` on a free port, or the
  sandbox at ``$ZOOM_SANDBOX_URL`` if set (then ``stop()``/``start()`` are unavailable).
- ``zoom_sandbox``: the same :class:`~zoomsim.control.SandboxControl`, reset (and restarted if a
  test stopped it).
- ``own_zoom_sandbox``: a sandbox whose process this session runs (for tests that read its log or stop
  it): ``zoom_sandbox``, or a private one when ``$ZOOM_SANDBOX_URL`` points at a sandbox run elsewhere.
- ``zoom_api``: a :class:`ZoomApiClient` on it that checks every request and response body
  against Zoom's OpenAPI spec.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.zoom_spec import (
    operation_for,
    validate_logged_request,
    validate_request,
    validate_response,
)
from zoomsim.control import SandboxControl

URL_ENV = "ZOOM_SANDBOX_URL"


class ZoomApiClient:
    """Raw HTTP calls to the sandbox's ``/v2`` API, checked against Zoom's spec both ways."""

    def __init__(self, sandbox: SandboxControl, timeout: float = 5.0) -> None:
        self.sandbox = sandbox
        self.timeout = timeout
        self._token: str | None = None

    def token(self, *, refresh: bool = False) -> str:
        if self._token is None or refresh:
            self._token = self.sandbox.access_token()
        return self._token

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        token: str | None = None,
        timeout: float | None = None,
        check_request: bool = True,
        check_response: bool = True,
    ) -> requests.Response:
        """``path`` is relative to ``/v2``, e.g. ``/users/teacher@example.com/meetings``."""
        template = operation_for(method, path)
        if template is None:
            raise AssertionError(f"{method} {path} is not an operation of Zoom's spec")
        if check_request and json is not None:
            validate_request(method, template, json)
        response = requests.request(
            method,
            self.sandbox.api_url + path,
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {token if token is not None else self.token()}"},
            timeout=timeout or self.timeout,
        )
        assert response.headers.get("x-zm-trackingid"), "every Zoom response carries x-zm-trackingid"
        if check_response:
            validate_response(method, template, response.status_code, _json_or_none(response))
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def _json_or_none(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} response is not JSON: {response.text[:200]!r}") from exc


@pytest.fixture(scope="session")
def zoom_sandbox_server() -> Iterator[SandboxControl]:
    url = os.environ.get(URL_ENV)
    if url:
        yield SandboxControl(url)
        return
    control = SandboxControl.launch()
    try:
        yield control
    finally:
        if control.process is not None:
            control.process.stop()


@pytest.fixture
def zoom_sandbox(zoom_sandbox_server: SandboxControl) -> Iterator[SandboxControl]:
    """The sandbox, reset; afterwards every request body it received is checked against Zoom's spec."""
    process = zoom_sandbox_server.process
    if process is not None and not process.running:
        process.start()
    zoom_sandbox_server.reset()
    yield zoom_sandbox_server
    if process is None or process.running:
        for entry in zoom_sandbox_server.requests_log():
            accepted = entry["status"] is None or entry["status"] != 400
            if accepted and entry.get("json") is not None and operation_for(entry["method"], entry["path"]):
                validate_logged_request(entry)


@pytest.fixture
def own_zoom_sandbox(zoom_sandbox: SandboxControl) -> Iterator[SandboxControl]:
    if zoom_sandbox.process is not None:
        yield zoom_sandbox
        return
    control = SandboxControl.launch()
    try:
        yield control
    finally:
        control.process.stop()


@pytest.fixture
def zoom_api(zoom_sandbox: SandboxControl) -> ZoomApiClient:
    return ZoomApiClient(zoom_sandbox)
