"""pytest plugin: a real Celery worker (and beat) as subprocesses, on the test database, Redis and sandbox.

Fixtures:
- ``stack_env`` (session): the environment a worker gets: the test services, the sandbox as Zoom,
  and short backoff/lease settings so fault scenarios finish in seconds.
- ``zoom_configured``: points this process's settings (the API under the Flask test client) at the
  sandbox too.
- ``worker`` / ``beat`` (session, started on first use): :class:`RoleProcess` handles; a test that kills
  the worker gets a fresh one (``worker.ensure()``).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from stack.embedded import free_port
from stack.process import RoleProcess
from zoomsim.control import SandboxControl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOST = "host@example.com"
FAST = {
    "PROVISION_BACKOFF_BASE": "0.2",
    "PROVISION_BACKOFF_CAP": "2",
    "PROVISION_MAX_ATTEMPTS": "40",
    "RECONCILE_STALE_SECONDS": "4",
    "RECONCILE_INTERVAL_SECONDS": "1",
    "ZOOM_TIMEOUT_READ": "3",
}


def zoom_env(sandbox: SandboxControl) -> dict[str, str]:
    return {
        "ZOOM_ACCOUNT_ID": sandbox.account_id,
        "ZOOM_CLIENT_ID": sandbox.client_id,
        "ZOOM_CLIENT_SECRET": sandbox.client_secret,
        "ZOOM_API_BASE_URL": sandbox.api_url,
        "ZOOM_OAUTH_URL": sandbox.oauth_url,
        "ZOOM_DEFAULT_HOST_USER": DEFAULT_HOST,
    }


@pytest.fixture(scope="session")
def stack_env(zoom_sandbox_server: SandboxControl, database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of the roles a test starts (worker, beat, webhook worker, API server): the
    session's database, Redis and sandbox."""
    env = dict(os.environ)
    env.update(FAST)
    env.update(zoom_env(zoom_sandbox_server))
    env.update(
        PYTHONPATH=str(ROOT),
        WORKER_CONCURRENCY="2",
        LOG_LEVEL="INFO",
        BEAT_SCHEDULE_FILE=str(Path(tempfile.mkdtemp()) / "beat-schedule"),
    )
    return env


@pytest.fixture
def zoom_configured(
    zoom_sandbox: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SandboxControl]:
    """This process's settings (the API under test) point at the sandbox, with the fast timings; the
    process's Zoom client is rebuilt from them, and forgotten again afterwards."""
    import shared.zoom.client as client_module
    from shared.settings import get_settings

    settings = get_settings()
    for name, value in {**zoom_env(zoom_sandbox), **FAST}.items():
        field = name.lower()
        current = getattr(settings, field)
        if isinstance(current, SecretStr) or field == "zoom_client_secret":
            value = SecretStr(value)
        elif isinstance(current, float):
            value = float(value)
        elif isinstance(current, int):
            value = int(value)
        monkeypatch.setattr(settings, field, value)
    client_module.get_zoom_client.cache_clear()
    yield zoom_sandbox
    client_module.get_zoom_client.cache_clear()


@pytest.fixture(scope="session")
def _role_logs() -> Path:
    return Path(tempfile.mkdtemp(prefix="halaka-roles-"))


@pytest.fixture(scope="session")
def _worker_process(stack_env: dict[str, str], _role_logs: Path) -> Iterator[RoleProcess]:
    env = {**stack_env, "METRICS_PORT": str(free_port())}
    process = RoleProcess("worker", env, _role_logs / "worker.log")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def _beat_process(stack_env: dict[str, str], _role_logs: Path) -> Iterator[RoleProcess]:
    env = {**stack_env, "METRICS_PORT": str(free_port())}
    process = RoleProcess("beat", env, _role_logs / "beat.log")
    yield process
    process.stop()


@pytest.fixture
def worker(_worker_process: RoleProcess, zoom_configured: SandboxControl) -> RoleProcess:
    return _worker_process.ensure()


@pytest.fixture
def beat(_beat_process: RoleProcess, worker: RoleProcess) -> RoleProcess:
    return _beat_process.ensure()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
