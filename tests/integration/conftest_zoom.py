"""Helpers for the Zoom client's integration tests (real Redis, the sandbox over HTTP, no mocks):
settings pointing at the sandbox, a request hook that checks every body against Zoom's spec, and a
runner that makes calls from several OS processes at once."""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import redis

from shared.settings import Settings
from shared.zoom.client import RequestHook, ZoomClient
from tests.zoom_spec import operation_for, validate_request
from zoomsim.control import SandboxControl


def sandbox_settings(
    database_url: str, redis_url: str, sandbox: SandboxControl, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "zoom_account_id": sandbox.account_id,
        "zoom_client_id": sandbox.client_id,
        "zoom_client_secret": sandbox.client_secret,
        "zoom_api_base_url": sandbox.api_url,
        "zoom_oauth_url": sandbox.oauth_url,
        **overrides,
    }
    return Settings(**values)


def spec_checking_hook(sent: list[tuple[str, str]]) -> RequestHook:
    """Fail the call if its path is not Zoom's or its body is invalid; record (method, template)."""

    def check(method: str, path: str, body: Any) -> None:
        template = operation_for(method, path)
        assert template is not None, f"{method} {path} is not an operation of Zoom's spec"
        validate_request(method, template, body)
        sent.append((method, template))

    return check


@dataclass
class WorkerReport:
    pid: int
    calls: int = 0
    errors: list[str] = field(default_factory=list)


def _worker(settings: Settings, method: str, args: tuple, calls: int, threads: int, barrier, results) -> None:
    client = ZoomClient(settings, redis.Redis.from_url(settings.redis_url))
    report = WorkerReport(pid=multiprocessing.current_process().pid or 0)
    lock = threading.Lock()

    def run(n: int) -> None:
        for _ in range(n):
            try:
                getattr(client, method)(*args)
                with lock:
                    report.calls += 1
            except Exception:
                with lock:
                    report.errors.append(traceback.format_exc(limit=3))

    per_thread = [calls // threads + (1 if i < calls % threads else 0) for i in range(threads)]
    workers = [threading.Thread(target=run, args=(n,)) for n in per_thread]
    barrier.wait()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(report)


def run_in_processes(
    settings: Settings, method: str, args: tuple, *, processes: int, calls: int, threads: int = 1
) -> tuple[list[WorkerReport], float]:
    """Start `processes` OS processes that call `client.<method>(*args)` `calls` times each (over
    `threads` threads), all released at once; returns their reports and the wall time."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    children = [
        context.Process(target=_worker, args=(settings, method, args, calls, threads, barrier, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    barrier.wait(timeout=30)
    started = time.monotonic()
    reports = [results.get(timeout=120) for _ in children]
    elapsed = time.monotonic() - started
    for child in children:
        child.join(timeout=10)
    return reports, elapsed


def all_errors(reports: list[WorkerReport]) -> list[str]:
    return [error for report in reports for error in report.errors]
