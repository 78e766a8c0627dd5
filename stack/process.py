"""One `python -m stack.entry ROLE` child process, in its own process group.

Used by `make run`, the integration tests, the benchmarks and the chaos scenario, so every one of them
starts roles exactly the way docker-compose does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from stack.entry import ROOT


def role_argv(role: str) -> list[str]:
    """How every supervisor starts a role: the entry point docker-compose runs too."""
    return [sys.executable, "-m", "stack.entry", role]


def run_once(role: str, env: dict[str, str]) -> None:
    """Run a one-shot role (migrate) to completion; a non-zero exit raises CalledProcessError."""
    subprocess.run(role_argv(role), env=env, cwd=ROOT, check=True)


class RoleProcess:
    def __init__(self, role: str, env: dict[str, str], log_path: Path | None = None) -> None:
        self.role, self.env, self.log_path = role, env, log_path
        self.proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> RoleProcess:
        output = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            role_argv(self.role),
            env=self.env,
            cwd=ROOT,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
        if output:
            output.close()
        return self

    def ensure(self) -> RoleProcess:
        return self if self.running else self.start()

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no acks, no cleanup."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the group (prefork children included), SIGKILL what is left after `timeout`."""
        if self.proc is None:
            return
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        self.kill()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None:
            return ""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
