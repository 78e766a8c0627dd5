"""pytest plugin: what webhook tests need on top of the worker fixtures.

- ``webhook_secret``: this process's settings (the API under test) get ``ZOOM_WEBHOOK_SECRET_TOKEN``.
- ``signed``: build the headers Zoom would send for a body.
- ``api_server`` (session): the API app served over real HTTP from this process (a thread), so the
  sandbox can deliver webhooks to it; its settings are this process's.
- ``webhook_worker``: a real Celery worker on the ``webhooks`` queue (session, started on first use).
- ``sandbox_webhooks``: the sandbox configured to send its webhooks to ``api_server``, fast retries.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from werkzeug.serving import make_server

from shared.zoom.webhook_signature import signature
from stack.embedded import free_port
from stack.process import RoleProcess
from zoomsim.control import SandboxControl

WEBHOOK_SECRET = "test-webhook-secret-token"
WEBHOOK_PATH = "/api/v1/zoom/webhook"
LAST_API_URL = ""


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "x-zm-request-timestamp": ts,
        "x-zm-signature": signature(secret, ts, body),
        "Content-Type": "application/json",
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


@pytest.fixture
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    from shared.settings import get_settings

    monkeypatch.setattr(get_settings(), "zoom_webhook_secret_token", SecretStr(WEBHOOK_SECRET))
    return WEBHOOK_SECRET


@pytest.fixture
def signed() -> Callable[..., dict[str, str]]:
    return sign


@pytest.fixture(scope="session")
def api_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="api-under-test", daemon=True)
    thread.start()
    global LAST_API_URL
    LAST_API_URL = f"http://127.0.0.1:{server.server_port}"
    yield LAST_API_URL
    server.shutdown()


@pytest.fixture(scope="session")
def _webhook_worker_process(stack_env: dict[str, str], _role_logs: Path) -> Iterator[RoleProcess]:
    process = RoleProcess("webhook-worker", stack_env, _role_logs / "webhook-worker.log")
    yield process
    process.stop()


@pytest.fixture
def webhook_worker(_webhook_worker_process: RoleProcess, worker: RoleProcess) -> RoleProcess:
    return _webhook_worker_process.ensure()


@pytest.fixture
def sandbox_webhooks(zoom_configured: SandboxControl, api_server: str, webhook_secret: str) -> SandboxControl:
    zoom_configured.config(
        webhook_url=api_server + WEBHOOK_PATH, webhook_secret=webhook_secret, webhook_delay_scale=0.001
    )
    return zoom_configured
