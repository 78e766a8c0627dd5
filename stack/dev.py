"""`make run`: the whole stack on one machine, stopped cleanly by Ctrl-C or SIGTERM.

Starts embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set, applies migrations,
starts the Zoom sandbox unless real Zoom credentials are set, then the API, one Celery worker, beat
and Flower — each through `python -m stack.entry ROLE`, the entry point docker-compose uses too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from stack.embedded import Service, start_postgres, start_redis, wait_for_port
from stack.entry import ROOT

VAR = ROOT / "var"
ZOOM_CREDENTIALS = (
    "ZOOM_ACCOUNT_ID",
    "ZOOM_CLIENT_ID",
    "ZOOM_CLIENT_SECRET",
    "ZOOM_SDK_KEY",
    "ZOOM_SDK_SECRET",
)
SANDBOX_DEFAULTS = {
    "ZOOM_ACCOUNT_ID": "sandbox-account",
    "ZOOM_CLIENT_ID": "sandbox-client-id",
    "ZOOM_CLIENT_SECRET": "sandbox-client-secret",
    "ZOOM_SDK_KEY": "sandbox-sdk-key",
    "ZOOM_SDK_SECRET": "sandbox-sdk-secret-for-local-development",
    "ZOOM_DEFAULT_HOST_USER": "host@example.com",
}


def _spawn(role: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "stack.entry", role], env=env, cwd=ROOT, start_new_session=True
    )


def _stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM the child's whole process group (prefork children included), then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers left in the group


def _embedded(env: dict[str, str], services: list[Service]) -> None:
    if not env.get("DATABASE_URL"):
        pg = start_postgres(VAR / "postgres", int(env.get("EMBEDDED_POSTGRES_PORT", "54329")))
        services.append(pg)
        env["DATABASE_URL"] = pg.url
    if not env.get("REDIS_URL"):
        redis = start_redis(VAR / "redis", int(env.get("EMBEDDED_REDIS_PORT", "63799")))
        services.append(redis)
        env["REDIS_URL"] = redis.url


def _sandbox(env: dict[str, str], procs: list[tuple[str, subprocess.Popen]]) -> str | None:
    if all(env.get(name) for name in ZOOM_CREDENTIALS):
        return None
    port = env.setdefault("ZOOM_SANDBOX_PORT", "9090")
    for name, value in SANDBOX_DEFAULTS.items():
        env[name] = value
    base = f"http://127.0.0.1:{port}"
    env["ZOOM_API_BASE_URL"] = f"{base}/v2"
    env["ZOOM_OAUTH_URL"] = f"{base}/oauth/token"
    env["ZOOM_SANDBOX_ACCOUNT_ID"] = env["ZOOM_ACCOUNT_ID"]
    env["ZOOM_SANDBOX_CLIENT_ID"] = env["ZOOM_CLIENT_ID"]
    env["ZOOM_SANDBOX_CLIENT_SECRET"] = env["ZOOM_CLIENT_SECRET"]
    proc = _spawn("sandbox", env)
    procs.append(("sandbox", proc))
    wait_for_port(int(port), proc=proc)
    return base


def _write_stack_env(env: dict[str, str]) -> None:
    """What `make admin` needs to reach this stack's database."""
    lines = [f"{k}={env[k]}" for k in ("DATABASE_URL", "REDIS_URL")]
    (VAR / "stack.env").write_text("\n".join(lines) + "\n")


def main() -> int:
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    services: list[Service] = []
    procs: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        _embedded(env, services)
        _write_stack_env(env)
        subprocess.run([sys.executable, "-m", "stack.entry", "migrate"], env=env, cwd=ROOT, check=True)
        sandbox = _sandbox(env, procs)
        for role in ("api", "worker", "beat", "flower"):
            procs.append((role, _spawn(role, env)))
        api_port, flower_port = env.get("API_PORT", "8000"), env.get("FLOWER_PORT", "5555")
        wait_for_port(int(api_port), proc=procs[-4][1])
        print("\nHalaka Zoom backend is up:", flush=True)
        print(f"  API      http://127.0.0.1:{api_port}/api/v1  (docs: /api/v1/docs)")
        print(f"  Flower   http://127.0.0.1:{flower_port}")
        if sandbox:
            print(f"  Zoom     sandbox at {sandbox} (control: {sandbox}/_sandbox/config)")
        print("Ctrl-C stops everything.\n", flush=True)
        while not stopping:
            dead = [(name, p.returncode) for name, p in procs if p.poll() is not None]
            if dead:
                print(f"process exited: {dead}; stopping the stack", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        for _name, proc in reversed(procs):
            _stop(proc)
        for service in reversed(services):
            service.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
