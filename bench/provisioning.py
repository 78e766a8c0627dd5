"""Provisioning benchmarks: Zoom call rate vs the limit for 1/2/4 workers, API create latency when Zoom
is slow, growth from N=100 to N=1000 halakat, and OAuth requests per 1,000 ZAK calls.

    python -m bench.provisioning [-n 300]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import psutil
import requests

from bench.loadgen import run_load
from bench.stack import BenchStack, schedule
from shared.zoom.payloads import key_from_agenda

FAST_RETRY = {
    "PROVISION_BACKOFF_BASE": "0.5",
    "PROVISION_BACKOFF_CAP": "5",
    "RECONCILE_INTERVAL_SECONDS": "5",
    "RECONCILE_STALE_SECONDS": "120",
}


def halaka_body(i: int) -> dict:
    return {
        "title": f"Bench {i}",
        "schedule": schedule("weekly", ["monday", "thursday"], "18:00", 28, "Africa/Cairo"),
    }


def create_many(url: str, token: str, n: int, threads: int = 4) -> None:
    def work(indexes: range) -> None:
        session = requests.Session()
        for i in indexes:
            r = session.post(
                f"{url}/api/v1/halaka/",
                json=halaka_body(i),
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            r.raise_for_status()

    chunks = [range(k, n, threads) for k in range(threads)]
    pool = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def wait_settled(
    stack: BenchStack,
    n: int,
    timeout: float = 600.0,
    *,
    interval: float = 0.5,
    progress: Callable[[dict[str, int]], object] | None = None,
) -> dict[str, int]:
    """Halakat per zoomStatus once `n` are ready or failed, or when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        counts = dict(stack.sql("SELECT zoom_status, count(*) FROM halakat GROUP BY zoom_status"))
        if progress is not None:
            progress(counts)
        if counts.get("ready", 0) + counts.get("failed", 0) >= n or time.monotonic() > deadline:
            return counts
        time.sleep(interval)


def duplicates(stack: BenchStack) -> int:
    keys = Counter(key_from_agenda(m.get("agenda")) for m in stack.sandbox.meetings())
    return sum(count - 1 for count in keys.values() if count > 1)


def light_rate(log: list[dict]) -> float:
    """Accepted light-category Zoom calls per second between the first and the last of them."""
    stamps = sorted(
        e["ts"] for e in log if e.get("category") == "light" and e.get("status") not in (429, None)
    )
    if len(stamps) < 2:
        return 0.0
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def reset(stack: BenchStack) -> None:
    stack.sql("TRUNCATE halakat, zoom_meetings, enrollments CASCADE")
    stack.sandbox.reset()


def provisioning_rate(n: int, rate: int, progress) -> list[dict]:
    rows = []
    with BenchStack(extra_env={**FAST_RETRY, "ZOOM_RATE_LIGHT": str(rate)}) as stack:
        _api, url = stack.api()
        stack.make_user("teacher", "bench-teacher@example.com")
        token = stack.login(url, "bench-teacher@example.com")
        for count in (1, 2, 4):
            reset(stack)
            stack.sandbox.config(
                rate_limits={"light": rate, "medium": 20, "heavy": 10}, daily_limit=1_000_000
            )
            create_many(url, token, n)
            progress(f"  provisioning: {n} halakat queued, starting {count} worker(s)")
            workers = stack.workers(count, concurrency=2)
            started = time.monotonic()
            statuses = wait_settled(stack, n)
            elapsed = time.monotonic() - started
            stats = stack.sandbox.stats()
            achieved = light_rate(stack.sandbox.requests_log())
            rows.append(
                {
                    "workers": f"{count} x 2 procs",
                    "halakat": n,
                    "limit R (light/s)": rate,
                    "achieved (calls/s)": round(achieved, 1),
                    "fraction of R": f"{achieved / rate:.0%}",
                    "429s": stats["responses"].get("429", 0),
                    "violations": stats["rate_limit_violations"],
                    "failed": statuses.get("failed", 0),
                    "not ready": n - statuses.get("ready", 0),
                    "duplicates": duplicates(stack),
                    "wall (s)": round(elapsed, 1),
                }
            )
            progress(f"  provisioning: {rows[-1]}")
            for worker in workers:
                stack.stop_role(worker)
    return rows


def create_latency(progress, seconds: float = 8.0) -> list[dict]:
    """50 clients creating halakat while 2 workers provision them, with Zoom answering in 50 ms vs 2 s."""
    rows: list[dict[str, Any]] = []
    with BenchStack(extra_env=FAST_RETRY) as stack:
        _api, url = stack.api()
        stack.make_user("teacher", "bench-teacher@example.com")
        token = stack.login(url, "bench-teacher@example.com")
        for latency in (50, 2000):
            stack.sandbox.config(latency_ms=latency, daily_limit=1_000_000)
            workers = stack.workers(2, concurrency=2)
            result = run_load(
                f"{url}/api/v1/halaka/",
                body=halaka_body(0),
                concurrency=50,
                seconds=seconds,
                headers={"Authorization": f"Bearer {token}"},
                warmup=1.0,
            )
            rows.append(
                {
                    "Zoom latency": f"{latency} ms",
                    "clients": 50,
                    "creates": result.requests,
                    "req/s": round(result.rps),
                    "p50 (ms)": round(result.percentile(50), 1),
                    "p99 (ms)": round(result.percentile(99), 1),
                    "errors": result.errors,
                }
            )
            progress(f"  create latency: {rows[-1]}")
            for worker in workers:  # drop the backlog: the next run starts from an empty queue
                stack.stop_role(worker, kill=True)
            stack.flush_redis()
            reset(stack)
    base, slow = rows
    slow["p99 vs 50 ms"] = f"{slow['p99 (ms)'] / base['p99 (ms)']:.2f}x"
    base["p99 vs 50 ms"] = "1.00x"
    return rows


def _tree_rss(process) -> int:
    try:
        root = psutil.Process(process.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


def _sample_peaks(api, workers, peak: dict[str, int], stop: threading.Event) -> None:
    """Peak resident memory of the API and of all worker processes (each with its children)."""
    while not stop.is_set():
        peak["api"] = max(peak["api"], _tree_rss(api))
        peak["workers"] = max(peak["workers"], sum(_tree_rss(w) for w in workers))
        time.sleep(0.25)


def growth(progress, sizes=(100, 1000)) -> list[dict]:
    rows = []
    with BenchStack(extra_env=FAST_RETRY) as stack:
        api, url = stack.api()
        stack.make_user("teacher", "bench-teacher@example.com")
        token = stack.login(url, "bench-teacher@example.com")
        for n in sizes:
            reset(stack)
            stack.sandbox.config(daily_limit=1_000_000)
            workers = stack.workers(2, concurrency=2)
            peak = {"api": 0, "workers": 0}
            stop = threading.Event()
            sampler = threading.Thread(target=_sample_peaks, args=(api, workers, peak, stop))
            sampler.start()
            started = time.monotonic()
            create_many(url, token, n)
            created = time.monotonic() - started
            statuses = wait_settled(stack, n)
            total = time.monotonic() - started
            stop.set()
            sampler.join()
            rows.append(
                {
                    "N": n,
                    "create all (s)": round(created, 1),
                    "all ready (s)": round(total, 1),
                    "per halaka (ms)": round(total / n * 1000),
                    "ready": statuses.get("ready", 0),
                    "API peak RSS (MiB)": peak["api"] // 2**20,
                    "workers peak RSS (MiB)": peak["workers"] // 2**20,
                }
            )
            progress(f"  growth: {rows[-1]}")
            for worker in workers:
                stack.stop_role(worker)
    return rows


def zak_oauth(progress, calls: int = 1000) -> list[dict]:
    with BenchStack(extra_env={"ZOOM_RATE_LIGHT": "500"}) as stack:
        stack.sandbox.config(rate_limits={"light": 500, "medium": 20, "heavy": 10})
        _api, url = stack.api()
        stack.make_user("admin", "bench-admin@example.com")
        token = stack.login(url, "bench-admin@example.com")
        requests.post(
            f"{url}/api/v1/zoom/zak-token",
            json={"userId": "host@example.com"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).raise_for_status()
        before = stack.sandbox.stats()["token_requests"]
        result = run_load(
            f"{url}/api/v1/zoom/zak-token",
            body={"userId": "host@example.com"},
            concurrency=8,
            headers={"Authorization": f"Bearer {token}"},
            seconds=120,
            warmup=0,
            max_requests=calls,
        )
        after = stack.sandbox.stats()["token_requests"]
        row = {
            "ZAK calls": result.requests,
            "errors": result.errors,
            "req/s": round(result.rps),
            "p50 (ms)": round(result.percentile(50), 1),
            "p99 (ms)": round(result.percentile(99), 1),
            "OAuth requests (warm cache)": after - before,
            "OAuth requests incl. first": after,
        }
        progress(f"  zak: {row}")
        return [row]


def main() -> None:
    from bench.report import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--rate", type=int, default=20)
    args = parser.parse_args()
    print_table("Provisioning rate", provisioning_rate(args.n, args.rate, print))
    print_table("Create latency", create_latency(print))
    print_table("Growth", growth(print))
    print_table("ZAK", zak_oauth(print))


if __name__ == "__main__":
    main()
