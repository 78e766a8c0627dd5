"""Every process-wide client is dropped in a forked child by the one registry (`shared.forks`), whoever
forks (Celery prefork, gunicorn, a test): the child builds its own, the parent's keep working."""

from __future__ import annotations

import json
import os

from sqlalchemy import text

from shared import forks
from shared.db import get_engine, read_connections
from shared.redis_client import get_redis
from shared.zoom.client import get_zoom_client
from shared.zoom.http import process_session

BACKEND = "SELECT pg_backend_pid()"


def _in_child(report) -> dict:
    """Fork; run `report()` in the child and return what it wrote (JSON) to the parent."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write_end, json.dumps(report()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def _backend() -> int:
    with get_engine().connect() as conn:
        return conn.execute(text(BACKEND)).scalar_one()


def test_a_forked_child_builds_its_own_clients(database_url, redis_url):
    redis, session, zoom = get_redis(), process_session(), get_zoom_client()
    redis.ping()
    _backend()
    assert get_engine().pool.checkedin() >= 1, "the parent has a pooled connection to inherit"
    held = get_engine().connect()  # kept across the fork: it must still work afterwards
    parent_backend = held.execute(text(BACKEND)).scalar_one()
    (parent_read,) = read_connections.fetch_one(BACKEND, {})

    def report() -> dict:
        pooled = get_engine().pool.checkedin()
        return {
            "pooled_before_use": pooled,
            "same_redis": get_redis() is redis,
            "same_session": process_session() is session,
            "same_zoom_client": get_zoom_client() is zoom,
            "redis_works": bool(get_redis().ping()),
            "backend": _backend(),
            "read_backend": read_connections.fetch_one(BACKEND, {})[0],
        }

    child = _in_child(report)
    assert child["pooled_before_use"] == 0
    assert not child["same_redis"] and not child["same_session"] and not child["same_zoom_client"]
    assert child["redis_works"]
    assert child["backend"] != parent_backend and child["read_backend"] != parent_read
    assert held.execute(text(BACKEND)).scalar_one() == parent_backend, "the parent's connection works"
    held.close()
    assert read_connections.fetch_one(BACKEND, {}) == (parent_read,)
    assert get_redis() is redis and process_session() is session and get_zoom_client() is zoom


def test_every_reset_runs_even_after_one_fails(monkeypatch):
    ran: list[str] = []

    def failing() -> None:
        ran.append("failing")
        raise RuntimeError("boom")

    monkeypatch.setattr(forks, "_resets", [failing, lambda: ran.append("next")])
    assert _in_child(lambda: ran) == ["failing", "next"]
    assert ran == [], "resets run in the child only"
