"""`make run`: the whole stack on one machine, stopped cleanly by Ctrl-C or SIGTERM.

Starts embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set, applies migrations,
starts the Zoom sandbox unless real Zoom credentials are set, then the API, one Celery worker, beat
and Flower — each through `python -m stack.entry ROLE`, the entry point docker-compose uses too.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from pathlib import Path

from stack.embedded import Service, start_postgres, start_redis, wait_for_port
from stack.entry import DEFAULT_METRICS_PORTS, ROOT
from stack.process import RoleProcess, run_once

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
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret-token"


def _embedded(env: dict[str, str], services: list[Service]) -> None:
    if not env.get("DATABASE_URL"):
        pg = start_postgres(VAR / "postgres", int(env.get("EMBEDDED_POSTGRES_PORT", "54329")))
        services.append(pg)
        env["DATABASE_URL"] = pg.url
    if not env.get("REDIS_URL"):
        redis = start_redis(VAR / "redis", int(env.get("EMBEDDED_REDIS_PORT", "63799")))
        services.append(redis)
        env["REDIS_URL"] = redis.url


def sandbox_env(env: dict[str, str]) -> str | None:
    """Point Zoom settings at the local sandbox unless all real credentials are set; its base URL."""
    if all(env.get(name) for name in ZOOM_CREDENTIALS):
        return None
    port = env.setdefault("ZOOM_SANDBOX_PORT", "9090")
    env.update(SANDBOX_DEFAULTS)
    base = f"http://127.0.0.1:{port}"
    env["ZOOM_API_BASE_URL"] = f"{base}/v2"
    env["ZOOM_OAUTH_URL"] = f"{base}/oauth/token"
    env["ZOOM_SANDBOX_ACCOUNT_ID"] = env["ZOOM_ACCOUNT_ID"]
    env["ZOOM_SANDBOX_CLIENT_ID"] = env["ZOOM_CLIENT_ID"]
    env["ZOOM_SANDBOX_CLIENT_SECRET"] = env["ZOOM_CLIENT_SECRET"]
    # the sandbox sends its webhooks to this stack's endpoint, signed with this stack's secret
    env.setdefault("ZOOM_WEBHOOK_SECRET_TOKEN", SANDBOX_WEBHOOK_SECRET)
    env["ZOOM_SANDBOX_WEBHOOK_URL"] = f"http://127.0.0.1:{env.get('API_PORT', '8000')}/api/v1/zoom/webhook"
    env["ZOOM_SANDBOX_WEBHOOK_SECRET"] = env["ZOOM_WEBHOOK_SECRET_TOKEN"]
    return base


JWT_SECRET_FILE = "jwt-secret"


def install_jwt_secret(var: Path) -> str:
    """This install's JWT secret: generated once (48 random bytes) into `var/jwt-secret`, mode 0600,
    and read back on every later start, so tokens survive restarts and no two installs share one."""
    path = var / JWT_SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if len(secret) < 32:
            raise SystemExit(f"{path} holds no usable secret: delete it to generate a new one") from None
        return secret
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    return secret


def _write_stack_env(env: dict[str, str]) -> None:
    """What `make admin` needs to reach this stack's database (mode 0600: it names the JWT secret)."""
    lines = [f"{k}={env[k]}" for k in ("DATABASE_URL", "REDIS_URL", "METRICS_TOKEN", "JWT_SECRET_KEY")]
    path = VAR / "stack.env"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")


def main() -> int:
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not env.get("JWT_SECRET_KEY"):
        env["JWT_SECRET_KEY"] = install_jwt_secret(VAR)
    if not env.get("FLOWER_BASIC_AUTH"):
        env.setdefault("FLOWER_UNAUTHENTICATED_API", "true")  # Flower's JSON API, on 127.0.0.1 only
    env.setdefault("METRICS_TOKEN", secrets.token_urlsafe(24))  # written to var/stack.env
    env.pop("METRICS_PORT", None)  # one machine: the worker and beat each use their own default port
    services: list[Service] = []
    roles: list[RoleProcess] = []
    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        _embedded(env, services)
        _write_stack_env(env)
        run_once("migrate", env)
        sandbox = sandbox_env(env)
        if sandbox:
            roles.append(RoleProcess("sandbox", env).start())
            wait_for_port(int(env["ZOOM_SANDBOX_PORT"]), proc=roles[-1].proc)
        api_port, flower_port = env.get("API_PORT", "8000"), env.get("FLOWER_PORT", "5555")
        api = RoleProcess("api", env).start()
        roles.append(api)
        for name in ("worker", "webhook-worker", "beat", "flower"):
            roles.append(RoleProcess(name, env).start())
        wait_for_port(int(api_port), proc=api.proc)
        print("\nHalaka Zoom backend is up:", flush=True)
        print(f"  API      http://127.0.0.1:{api_port}/api/v1  (docs: /api/v1/docs)")
        print(f"  Flower   http://127.0.0.1:{flower_port}")
        print(f"  Metrics  http://127.0.0.1:{api_port}/metrics  (bearer METRICS_TOKEN in var/stack.env)")
        for role, port in DEFAULT_METRICS_PORTS.items():
            print(f"           http://127.0.0.1:{port}/metrics  ({role})")
        if sandbox:
            print(f"  Zoom     sandbox at {sandbox} (control: {sandbox}/_sandbox/config)")
        print("Ctrl-C stops everything.\n", flush=True)
        while not stopping:
            dead = [(r.role, r.proc and r.proc.returncode) for r in roles if not r.running]
            if dead:
                print(f"process exited: {dead}; stopping the stack", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        for process in reversed(roles):
            process.stop()
        for service in reversed(services):
            service.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
