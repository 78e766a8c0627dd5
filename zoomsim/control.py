"""Drive a sandbox from Python: start it as a subprocess, and call its control API.

Used by the pytest fixtures and the benchmarks; needs only ``requests`` (not Flask).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import requests

from zoomsim.config import DEFAULT_ACCOUNT_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USERS

READY_PREFIX = "zoomsim listening on "
T = TypeVar("T")


class SandboxError(RuntimeError):
    pass


class SandboxProcess:
    """``python -m zoomsim`` as a child process; ``port=0`` picks a free port on first start.

    A restart reuses the port chosen first, so URLs handed out before stay valid (state is lost).
    The child's stderr (one line per request) goes to ``log_path``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_id: str = DEFAULT_ACCOUNT_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        users: tuple[str, ...] = DEFAULT_USERS,
        quiet: bool = False,
        python: str = sys.executable,
        log_path: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.users = users
        self.quiet = quiet
        self.python = python
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="zoomsim-", suffix=".log")
            os.close(handle)
            log_path = Path(name)
        self.log_path = log_path
        self._proc: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _command(self) -> list[str]:
        command = [
            self.python,
            "-m",
            "zoomsim",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--account-id",
            self.account_id,
            "--client-id",
            self.client_id,
            "--client-secret",
            self.client_secret,
            "--users",
            ",".join(self.users),
        ]
        return command + (["--quiet"] if self.quiet else [])

    def start(self, timeout: float = 20.0) -> None:
        """Start the child and wait for its ready line."""
        if self.running:
            return
        root = Path(__file__).resolve().parent.parent
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        }
        with open(self.log_path, "a") as log:
            self._proc = subprocess.Popen(
                self._command(),
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
                env=env,
            )
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._proc.stdout], [], [], 0.1)
            if ready:
                line = self._proc.stdout.readline()
                if line.startswith(READY_PREFIX):
                    self.port = int(line.strip().rsplit(":", 1)[1])
                    return
                if not line:
                    break
            if self._proc.poll() is not None:
                break
        self.stop()
        raise SandboxError(f"zoomsim did not start; see {self.log_path}:\n{self._log_tail()}")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit within ``timeout``."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stdout is not None:
            proc.stdout.close()

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ""


class SandboxControl:
    """Client of one sandbox's control API (``/_sandbox``), plus its URLs and credentials."""

    def __init__(
        self,
        base_url: str,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        process: SandboxProcess | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.process = process
        self.timeout = timeout
        self._http = requests.Session()

    @classmethod
    def launch(cls, **process_options: Any) -> SandboxControl:
        """Start a sandbox subprocess and return its control (``stop()`` it when done)."""
        process = SandboxProcess(**process_options)
        process.start()
        return cls(
            process.base_url,
            account_id=process.account_id,
            client_id=process.client_id,
            client_secret=process.client_secret,
            process=process,
        )

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def oauth_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(
            method, f"{self.base_url}/_sandbox{path}", timeout=self.timeout, **kwargs
        )
        if response.status_code >= 400:
            raise SandboxError(f"{method} /_sandbox{path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def health(self) -> bool:
        try:
            return self._call("GET", "/health") == {"status": "ok"}
        except (requests.RequestException, SandboxError):
            return False

    def reset(self) -> None:
        self._call("POST", "/reset")

    def config(self, **changes: Any) -> dict[str, Any]:
        """Read the config, or apply a partial update and return the result."""
        if changes:
            return self._call("PUT", "/config", json=changes)
        return self._call("GET", "/config")

    def fault(self, **fault: Any) -> dict[str, Any]:
        """Queue a one-shot fault, e.g. ``fault(kind="429", count=2, retry_after="http-date")``."""
        return self._call("POST", "/faults", json=fault)

    def pending_faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def add_user(
        self, email: str, *, id: str | None = None, can_host: bool = True, timezone: str = "UTC"
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"email": email, "can_host": can_host, "timezone": timezone}
        if id is not None:
            body["id"] = id
        return self._call("POST", "/users", json=body)

    def remove_user(self, user: str) -> None:
        self._call("DELETE", f"/users/{user}")

    def users(self) -> list[dict[str, Any]]:
        return self._call("GET", "/users")

    def revoke_tokens(self) -> int:
        return self._call("POST", "/tokens/revoke")["revoked"]

    def requests_log(self, since: int = 0) -> list[dict[str, Any]]:
        return self._call("GET", "/requests", params={"since": since})

    def clear_requests_log(self) -> None:
        self._call("DELETE", "/requests")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def start_url_status(self, url: str) -> dict[str, Any]:
        """``{"valid", "expires_in"}`` of a start link the sandbox issued."""
        return self._call("GET", "/start-url", params={"url": url})

    def meetings(self) -> list[dict[str, Any]]:
        return self._call("GET", "/meetings")

    def portal_update(
        self, meeting_id: int | str, occurrence_id: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Change a meeting, or one occurrence, as in Zoom's web portal (sends meeting.updated when
        configured); answers the meeting (the occurrence's view with ``occurrence_id``)."""
        params = {"occurrence_id": occurrence_id} if occurrence_id else None
        return self._call("PATCH", f"/meetings/{meeting_id}", json=changes, params=params)

    def portal_delete(self, meeting_id: int | str, occurrence_id: str | None = None) -> None:
        """Delete a meeting, or one occurrence, as in Zoom's web portal (sends meeting.deleted)."""
        params = {"occurrence_id": occurrence_id} if occurrence_id else None
        self._call("DELETE", f"/meetings/{meeting_id}", params=params)

    def simulate(self, meeting_id: int | str, **body: Any) -> dict[str, Any]:
        """Play a class on a meeting (see `POST /_sandbox/meetings/{id}/simulate`)."""
        return self._call("POST", f"/meetings/{meeting_id}/simulate", json=body)

    def webhooks(self) -> dict[str, Any]:
        """`{"pending": n, "deliveries": [...]}`: every webhook delivery attempt so far."""
        return self._call("GET", "/webhooks")

    def access_token(self) -> str:
        """Mint an access token the way a Server-to-Server OAuth client does."""
        response = self._http.post(
            self.oauth_url,
            data={"grant_type": "account_credentials", "account_id": self.account_id},
            auth=(self.client_id, self.client_secret),
            timeout=self.timeout,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def stop(self) -> None:
        """Stop the subprocess (only when this control launched it); all state is lost."""
        if self.process is None:
            raise SandboxError("this sandbox was not started by SandboxControl")
        self.process.stop()

    def start(self) -> None:
        """Start the subprocess again on the same port after :meth:`stop`."""
        if self.process is None:
            raise SandboxError("this sandbox was not started by SandboxControl")
        self.process.start()

    def wait_until(self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.05) -> T:
        """Poll ``predicate`` until it returns something truthy; ``SandboxError`` on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise SandboxError(f"condition not met within {timeout}s")
            time.sleep(interval)
