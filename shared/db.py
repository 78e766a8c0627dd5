"""One SQLAlchemy engine per process, the session factory both the API and the workers use, and a
pool of autocommit connections for single reads on the hottest path (the signature check)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, LiteralString

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout
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
    """Autocommit psycopg connections for single read-only statements on the hot path (the signature
    check, `Prefer: wait`), pooled by psycopg_pool.

    The ORM session costs a pool checkout with a ping, a BEGIN and a ROLLBACK around each query; a
    single SELECT in autocommit needs none of them, and psycopg prepares a statement a connection has
    run a few times. The pool opens on first use in each process (a forked child drops its parent's
    and opens its own: `shared.forks`). Instead of pinging, a statement that fails on a broken
    connection is retried once on another (the pool discards the broken one): it only reads, so that is
    always safe. Waiting for a connection is bounded by `TIMEOUT` (with the database down, 500 after it).
    """

    MIN_SIZE = 1
    TIMEOUT = 5.0

    def __init__(self) -> None:
        self._pool: ConnectionPool | None = None
        self._opening = threading.Lock()
        after_fork_in_child(self._forget)

    def _forget(self) -> None:
        """In a forked child: the parent's pool is the parent's. Its worker threads do not exist here and
        its connections are the parent's sockets, so it is set aside unused, never closed or stopped
        (psycopg only closes a connection in the process that opened it)."""
        if self._pool is not None:
            _PARENTS_POOLS.append(self._pool)
        self._pool = None
        self._opening = threading.Lock()

    def pool(self) -> ConnectionPool:
        pool = self._pool
        if pool is None:
            with self._opening:
                if self._pool is None:
                    engine = get_engine()
                    args, kwargs = engine.dialect.create_connect_args(engine.url)
                    self._pool = ConnectionPool(
                        *args,
                        kwargs={**kwargs, "autocommit": True},
                        min_size=self.MIN_SIZE,
                        max_size=max(self.MIN_SIZE, 2 * get_settings().db_pool_size),
                        timeout=self.TIMEOUT,
                        name="read-connections",
                        open=True,
                    )
                    self._pool.wait(self.TIMEOUT)  # the first read finds its connection ready
                pool = self._pool
        return pool

    def fetch_one(self, sql: LiteralString, params: Mapping[str, Any]) -> tuple | None:
        try:
            return self._fetch_one(sql, params)
        except psycopg.OperationalError as exc:
            if isinstance(exc, PoolTimeout):
                raise  # no connection to be had: retrying would only wait again
            return self._fetch_one(sql, params)

    def _fetch_one(self, sql: LiteralString, params: Mapping[str, Any]) -> tuple | None:
        pool = self.pool()
        connection = pool.getconn()
        try:
            return connection.execute(sql, params).fetchone()
        finally:
            pool.putconn(connection)  # a broken connection is discarded and replaced by the pool


_PARENTS_POOLS: list[ConnectionPool] = []
read_connections = ReadConnections()
