"""One SQLAlchemy engine per process, the session factory both the API and the workers use, and a few
autocommit connections for single reads on the hottest path (the signature check)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from shared.forks import after_fork_in_child
from shared.settings import get_settings


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    settings = get_settings()
    return create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        # statement parameters hold passcodes and join links: never in an exception, a log or Flower
        hide_parameters=True,
    )


@lru_cache(maxsize=1)
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success, rolls back on error and always closes."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@after_fork_in_child
def _forget_inherited_pool() -> None:
    """A forked child starts with an empty pool; the parent's connections stay open for the parent
    (SQLAlchemy's `dispose(close=False)`, its documented way across `fork`)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)


class ReadConnections:
    """Autocommit psycopg connections for single read-only statements on the hot path.

    The ORM session costs a pool checkout with a ping, a BEGIN and a ROLLBACK around each query; a
    single SELECT needs none of them. Idle connections are kept (LIFO, at most `MAX_IDLE`) per process
    (a forked child starts empty: `shared.forks`). Instead of pinging, a statement that fails on a
    broken connection is retried once on a new one: it only reads, so that is always safe.
    """

    MAX_IDLE = 32

    def __init__(self) -> None:
        self._idle: deque[psycopg.Connection] = deque()
        after_fork_in_child(self._forget)

    def _forget(self) -> None:
        """In a forked child: the parent's connections are the parent's (dropping them here does not
        close them: psycopg only closes a connection in the process that opened it)."""
        self._idle = deque()

    def _connect(self) -> psycopg.Connection:
        engine = get_engine()
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        return psycopg.connect(*args, **kwargs, autocommit=True)

    def fetch_one(self, sql: str, params: Mapping[str, Any]) -> tuple | None:
        connection = self._take()
        try:
            return self._fetch_one(sql, params, connection)
        except psycopg.OperationalError:
            return self._fetch_one(sql, params, self._take())

    def _take(self) -> psycopg.Connection:
        try:
            return self._idle.pop()
        except IndexError:
            return self._connect()

    def _fetch_one(self, sql: str, params: Mapping[str, Any], connection: psycopg.Connection) -> tuple | None:
        """Run on `connection`, then keep it idle; a connection that failed is closed, not kept."""
        try:
            row = connection.execute(sql, params).fetchone()
        except BaseException:
            connection.close()
            raise
        if len(self._idle) < self.MAX_IDLE:
            self._idle.append(connection)
        else:
            connection.close()
        return row


read_connections = ReadConnections()
