"""The signature path's autocommit read connections (psycopg_pool), on the real PostgreSQL."""

from __future__ import annotations

import os

import psycopg

from shared.db import ReadConnections
from shared.settings import get_settings

BACKEND = "SELECT pg_backend_pid()"


def _backends(reads: ReadConnections, n: int = 20) -> set[int]:
    return {reads.fetch_one(BACKEND, {})[0] for _ in range(n)}


def test_connections_are_reused_and_a_broken_one_replaced(database_url):
    reads = ReadConnections()
    backends = _backends(reads)
    assert len(backends) == 1, "one reader at a time reuses one connection"
    [first] = backends
    with psycopg.connect(get_settings().database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    after = _backends(reads)  # the first of these fails on the broken connection and is retried
    assert first not in after and 1 <= len(after) <= 2, after
    reads.pool().close()


def test_a_forked_child_opens_its_own_and_leaves_the_parents_open(database_url):
    reads = ReadConnections()
    (parent,) = reads.fetch_one(BACKEND, {})
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own connection, then drop everything it inherited
        try:
            (child,) = reads.fetch_one(BACKEND, {})
            os.write(write_end, str(child).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    child = int(os.read(read_end, 32))
    os.close(read_end)
    os.waitpid(pid, 0)
    assert child != parent
    assert reads.fetch_one(BACKEND, {}) == (parent,), "the parent's connection still works"
    reads.pool().close()
