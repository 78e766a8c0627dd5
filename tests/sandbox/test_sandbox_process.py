"""The sandbox as a process: flags from the environment, ready line, clean exit, restart."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.sandbox_fixture import ZoomApiClient
from zoomsim.control import READY_PREFIX, SandboxControl

pytest_plugins = ["tests.sandbox_fixture"]

ROOT = Path(__file__).resolve().parents[2]


def test_env_flags_ready_line_and_sigterm() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ZOOM_SANDBOX_ACCOUNT_ID": "acct-env",
        "ZOOM_SANDBOX_CLIENT_ID": "cid-env",
        "ZOOM_SANDBOX_CLIENT_SECRET": "secret-env",
        "ZOOM_SANDBOX_USERS": "a@x.com,b@y.com",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "zoomsim", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert select.select([proc.stdout], [], [], 15)[0], "no ready line"
        line = proc.stdout.readline().strip()
        assert line.startswith(READY_PREFIX + "http://127.0.0.1:")
        control = SandboxControl(
            line.removeprefix(READY_PREFIX),
            account_id="acct-env",
            client_id="cid-env",
            client_secret="secret-env",
        )
        assert control.health()
        assert sorted(u["email"] for u in control.users()) == ["a@x.com", "b@y.com"]
        assert control.access_token()
        default = requests.post(
            control.oauth_url,
            data={"grant_type": "account_credentials", "account_id": "sandbox-account"},
            auth=("sandbox-client-id", "sandbox-client-secret"),
            timeout=5,
        )
        assert default.status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_stop_and_start_loses_state_keeps_url(own_zoom_sandbox: SandboxControl) -> None:
    zoom_api = ZoomApiClient(own_zoom_sandbox)
    zoom_api.token()
    base_url = own_zoom_sandbox.base_url
    own_zoom_sandbox.stop()
    assert not own_zoom_sandbox.health()
    own_zoom_sandbox.start()
    assert own_zoom_sandbox.base_url == base_url and own_zoom_sandbox.health()
    assert zoom_api.get("/users/teacher@example.com/meetings").status_code == 401
    assert own_zoom_sandbox.stats()["tokens_issued"] == 0
