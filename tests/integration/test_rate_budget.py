"""The shared rate budget across OS processes: never over Zoom's per-second limit, yet close to it."""

from __future__ import annotations

import bisect
import multiprocessing
import time

import pytest
import redis

from shared.zoom.client import ZoomClient
from shared.zoom.rate_budget import RateBudget
from tests.integration.conftest_zoom import all_errors, run_in_processes, sandbox_settings
from zoomsim.control import SandboxControl

HOST = "teacher@example.com"


def most_in_any_window(stamps: list[float], window: float = 1.0) -> int:
    """The largest number of timestamps inside any half-open window [t, t + window)."""
    stamps = sorted(stamps)
    return max(bisect.bisect_left(stamps, t + window) - i for i, t in enumerate(stamps))


@pytest.mark.parametrize(("limit", "threads", "calls"), [(10, 1, 20), (30, 4, 40)])
def test_processes_sharing_the_budget_cause_no_429_and_use_most_of_the_limit(
    database_url, redis_url, zoom_sandbox: SandboxControl, limit, threads, calls
):
    zoom_sandbox.config(rate_limits={"light": limit})
    settings = sandbox_settings(database_url, redis_url, zoom_sandbox, zoom_rate_light=float(limit))
    ZoomClient(settings, redis.Redis.from_url(redis_url)).get_zak(HOST)

    reports, _ = run_in_processes(settings, "get_zak", (HOST,), processes=4, calls=calls, threads=threads)

    assert all_errors(reports) == []
    stamps = sorted(e["ts"] for e in zoom_sandbox.requests_log() if e["operation"] == "zak")[1:]
    assert len(stamps) == 4 * calls
    achieved = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    stats = zoom_sandbox.stats()
    busiest = most_in_any_window(stamps)
    print(
        f"\nlight limit {limit}/s, 4 processes x {threads} thread(s), {len(stamps)} calls: "
        f"{achieved:.2f} req/s ({achieved / limit:.0%} of the limit), "
        f"violations {stats['rate_limit_violations']}, "
        f"max in a wall-clock second {stats['max_requests_in_any_second']['light']}, "
        f"max in any sliding second {busiest}"
    )
    assert stats["rate_limit_violations"] == 0
    assert stats["max_requests_in_any_second"]["light"] <= limit
    assert busiest <= limit
    assert achieved >= 0.8 * limit


def _take_slots(redis_url: str, rate: float, slots: int, barrier, results) -> None:
    budget = RateBudget(redis.Redis.from_url(redis_url), {"light": rate}, scope="multiprocess")
    barrier.wait()
    stamps = []
    for _ in range(slots):
        budget.acquire("light", timeout=30)
        stamps.append(time.time())
    results.put(stamps)


def test_grants_from_many_processes_respect_every_one_second_window(redis_url):
    rate, processes, slots = 50.0, 6, 30
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes), context.Queue()
    children = [
        context.Process(target=_take_slots, args=(redis_url, rate, slots, barrier, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    stamps = sorted(s for _ in children for s in results.get(timeout=60))
    for child in children:
        child.join(timeout=10)

    achieved = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    busiest = most_in_any_window(stamps)
    print(
        f"\nbudget {rate:.0f}/s, {processes} processes: {achieved:.1f} grants/s, max {busiest} in any second"
    )
    assert busiest <= rate
    assert achieved >= 0.85 * rate
