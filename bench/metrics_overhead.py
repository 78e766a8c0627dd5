"""What the API's Prometheus instrumentation costs one request, measured in-process.

Each request runs `shared.metrics.observe_request` once (a counter and a histogram child, found in a
per-process dict). Measured in a child process so prometheus_client picks its mode at import: with
`PROMETHEUS_MULTIPROC_DIR` (how every role runs: values in mmap'ed files) and without (in memory).

python -m bench.metrics_overhead [N]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable

from stack.entry import ROOT

_PROBE = """
import json, sys, time
from shared.metrics import observe_request
n = int(sys.argv[1])
routes = [("/api/v1/zoom/signature", "POST", 201), ("/api/v1/halaka/<int:id>", "GET", 200)]
for route, method, status in routes:
    observe_request(route, method, status, 0.001)
best = float("inf")
for _ in range(5):
    start = time.perf_counter()
    for i in range(n):
        route, method, status = routes[i & 1]
        observe_request(route, method, status, 0.0123)
    best = min(best, (time.perf_counter() - start) / n)
print(json.dumps({"us": best * 1e6}))
"""


def measure(n: int, multiprocess: bool) -> float:
    """Microseconds per `observe_request` call (best of five runs of n calls)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with tempfile.TemporaryDirectory() as directory:
        if multiprocess:
            env["PROMETHEUS_MULTIPROC_DIR"] = directory
        out = subprocess.run(
            [sys.executable, "-c", _PROBE, str(n)], env=env, capture_output=True, text=True, check=True
        ).stdout
    return json.loads(out.splitlines()[-1])["us"]


def run(progress: Callable[[str], object] = print, n: int = 100_000) -> list[dict]:
    rows = []
    for mode, multiprocess in (("multiprocess files (every role)", True), ("in memory", False)):
        us = measure(n, multiprocess)
        progress(f"observe_request, {mode}: {us:.2f} µs")
        rows.append({"mode": mode, "calls": n, "µs per request": f"{us:.2f}"})
    return rows


if __name__ == "__main__":
    from bench.report import print_table

    print_table("Metrics cost per API request", run(n=int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
