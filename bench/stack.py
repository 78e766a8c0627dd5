"""A whole local stack as separate processes, for benchmarks and the chaos scenario.

Embedded PostgreSQL and Redis in a temporary folder, the Zoom sandbox, migrations, then API servers,
Celery workers and beat started on demand through `stack.process.RoleProcess` (the `make run` way).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import requests

from stack.embedded import Service, free_port, start_postgres, start_redis, wait_for_port
from stack.process import ROOT, RoleProcess, run_once
from zoomsim.control import SandboxControl

PASSWORD = "bench-password-123"


def schedule(
    frequency: str, days: list[str], start_time: str, length_days: int, timezone: str, duration: int = 60
) -> dict:
    """A schedule starting in three days and lasting `length_days` (inclusive of both ends)."""
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC).date() + timedelta(days=3)
    return {
        "frequency": frequency,
        "days": days,
        "startTime": start_time,
        "duration": duration,
        "startDate": start.isoformat(),
        "endDate": (start + timedelta(days=length_days - 1)).isoformat(),
        "timezone": timezone,
    }


class BenchStack:
    def __init__(self, extra_env: dict[str, str] | None = None, redis_persist: bool = False) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="halaka-bench-"))
        self.services: list[Service] = []
        self.roles: list[RoleProcess] = []
        self.redis_persist = redis_persist
        self.extra_env = extra_env or {}
        self._sandbox: SandboxControl | None = None
        self.env: dict[str, str] = {}
        self._redis: Service | None = None

    @property
    def sandbox(self) -> SandboxControl:
        if self._sandbox is None:
            raise RuntimeError("the stack is not started")
        return self._sandbox

    @property
    def redis(self) -> Service:
        if self._redis is None:
            raise RuntimeError("the stack is not started")
        return self._redis

    def __enter__(self) -> BenchStack:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        pg = start_postgres(self.dir / "postgres", free_port(), database="halaka_bench")
        self.services.append(pg)
        self._redis = start_redis(self.dir / "redis", free_port(), persist=self.redis_persist)
        self.services.append(self.redis)
        self._sandbox = SandboxControl.launch(quiet=True, log_path=self.dir / "sandbox.log")
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "APP_ENV": "production",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": pg.url,
            "REDIS_URL": self.redis.url,
            "JWT_SECRET_KEY": "bench-secret-" + "x" * 40,
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "100000 per minute",
            # one bench teacher on the shared host creates hundreds of halakat: no per-teacher budget
            "SHARED_HOST_TEACHER_DAILY_WRITES": "1000000",
            "ZOOM_ACCOUNT_ID": self.sandbox.account_id,
            "ZOOM_CLIENT_ID": self.sandbox.client_id,
            "ZOOM_CLIENT_SECRET": self.sandbox.client_secret,
            "ZOOM_API_BASE_URL": self.sandbox.api_url,
            "ZOOM_OAUTH_URL": self.sandbox.oauth_url,
            "ZOOM_SDK_KEY": "bench-sdk-key",
            "ZOOM_SDK_SECRET": "bench-sdk-secret-" + "y" * 32,
            "ZOOM_DEFAULT_HOST_USER": "host@example.com",
            "BEAT_SCHEDULE_FILE": str(self.dir / "beat-schedule"),
            **self.extra_env,
        }
        run_once("migrate", self.env)

    def restart_redis(self, down_seconds: float = 2.0) -> None:
        """Stop Redis (broker, token cache, rate budget) and start it again on the same port and data."""
        import time

        port = int(self.redis.url.rsplit(":", 1)[1].split("/")[0])
        index = self.services.index(self.redis)
        self.redis.stop()
        time.sleep(down_seconds)
        self._redis = start_redis(self.dir / "redis", port, persist=self.redis_persist)
        self.services[index] = self.redis

    def flush_redis(self) -> None:
        import redis

        redis.Redis.from_url(self.redis.url).flushall()

    def role(self, role: str, **env: str) -> RoleProcess:
        """Start one role with extra environment (e.g. API_PORT, API_WORKER_CLASS, WORKER_NAME)."""
        name = env.get("WORKER_NAME", role).replace("@", "-").replace("%h", "")
        process = RoleProcess(role, {**self.env, **env}, self.dir / f"{name}-{len(self.roles)}.log").start()
        self.roles.append(process)
        return process

    def api(self, **env: str) -> tuple[RoleProcess, str]:
        port = free_port()
        process = self.role("api", API_PORT=str(port), **env)
        wait_for_port(port, timeout=60, proc=process.proc)
        return process, f"http://127.0.0.1:{port}"

    def workers(self, count: int, concurrency: int = 1, **env: str) -> list[RoleProcess]:
        return [
            self.role("worker", WORKER_CONCURRENCY=str(concurrency), WORKER_NAME=f"bench{i}@%h", **env)
            for i in range(count)
        ]

    def stop_role(self, process: RoleProcess, *, kill: bool = False) -> None:
        """Stop (or SIGKILL) a role this stack started and forget it."""
        if kill:
            process.kill()
        else:
            process.stop()
        self.roles.remove(process)

    def make_user(self, role: str, email: str) -> int:
        """Insert a user straight into the database (admins cannot register) and return its id."""
        import psycopg
        from argon2 import PasswordHasher

        dsn = self.env["DATABASE_URL"]
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "INSERT INTO users (name, email, password_hash, role, active) VALUES (%s, %s, %s, %s, true) "
                "ON CONFLICT (email) DO UPDATE SET role = EXCLUDED.role RETURNING id",
                (email.split("@")[0], email, PasswordHasher().hash(PASSWORD), role),
            ).fetchone()
        if row is None:
            raise RuntimeError("INSERT … RETURNING returned no row")
        return row[0]

    def login(self, base_url: str, email: str) -> str:
        r = requests.post(
            f"{base_url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
        )
        r.raise_for_status()
        return r.json()["data"]["accessToken"]

    def sql(self, query: str, *args: Any) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            cursor = conn.execute(query, args)
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        for process in reversed(self.roles):
            process.stop(timeout=10)
        if self._sandbox is not None and self._sandbox.process is not None:
            self._sandbox.process.stop()
        for service in reversed(self.services):
            service.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
