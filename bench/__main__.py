"""`make bench`: every benchmark, one table each, written to BENCHMARKS.md with the machine description.

python -m bench [--quick]      (--quick: smaller N, for a smoke run)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench import metrics_overhead, provisioning, schedules, signature, webhooks
from bench.report import markdown_table, print_table
from stack.entry import ROOT

BARS = {
    "Signature endpoint vs bare signer and reference view": (
        "Bars: the signature endpoint (auth + authorisation) keeps >= 70% of the bare signer's "
        "requests/s and >= 80% of the reference view's (the same work written directly: PyJWT, one "
        "psycopg query, signing), all served the same way; the production server is chosen by this table."
    ),
    "Provisioning rate vs Zoom limit": (
        "Bar: provisioning sustains >= 90% of the configured Zoom rate limit with zero failed "
        "halakat (and zero duplicates)."
    ),
    "Create latency when Zoom is slow": (
        "Bar: POST /halaka/ p99 unaffected (within 20%) when Zoom answers in 2 s instead of 50 ms."
    ),
    "Growth from N=100 to N=1000": (
        "Time and peak memory of API and worker processes as the number of halakat grows."
    ),
    "Metrics cost per API request": (
        "The Prometheus instrumentation every API request runs (one counter and one histogram), measured "
        "in-process, to compare with the ~740 µs of CPU a signature request costs (README, Benchmarks)."
    ),
    "Webhook intake": (
        "Bar: webhook intake acknowledges every event within 3 s under load (measured with the "
        "webhook worker stopped: every event stored and answered), then the backlog drained when it starts."
    ),
    "Schedule planning per request": (
        "Bar: every accepted or refused schedule costs milliseconds (create, PATCH, sessions list); "
        "the slowest of each group, median of 5 calls over HTTP on localhost."
    ),
    "ZAK with a warm token cache": (
        "Bar: at most one OAuth token request per token lifetime, whatever the number of calls and workers."
    ),
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (smoke test)")
    args = parser.parse_args()
    n = 100 if args.quick else 300
    sizes = (50, 200) if args.quick else (100, 1000)
    started = time.monotonic()

    def progress(line: str) -> None:
        print(f"[{time.monotonic() - started:5.0f}s] {line}", flush=True)

    sections = [
        ("Signature endpoint vs bare signer and reference view", lambda: signature.run(progress)),
        ("Provisioning rate vs Zoom limit", lambda: provisioning.provisioning_rate(n, 20, progress)),
        ("Create latency when Zoom is slow", lambda: provisioning.create_latency(progress)),
        ("Growth from N=100 to N=1000", lambda: provisioning.growth(progress, sizes)),
        ("ZAK with a warm token cache", lambda: provisioning.zak_oauth(progress)),
        ("Metrics cost per API request", lambda: metrics_overhead.run(progress)),
        ("Schedule planning per request", lambda: schedules.run(progress)),
        ("Webhook intake", lambda: webhooks.intake(progress, 500 if args.quick else 3000)),
    ]
    results = []
    for title, bench in sections:
        progress(f"running: {title}")
        rows = bench()
        print_table(title, rows)
        results.append((title, rows))
    write_report(results, time.monotonic() - started, args.quick)
    return 0


def write_report(results: list[tuple[str, list[dict]]], seconds: float, quick: bool) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench`{' --quick' if quick else ''} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"in one run of {seconds / 60:.1f} minutes.",
        f"Machine: {machine()}.",
        "Every process (PostgreSQL, Redis, the Zoom sandbox, API, workers, and the load generator) shares "
        "this machine, so absolute numbers are modest; the ratios are the point.",
        "",
    ]
    for title, rows in results:
        lines += [f"## {title}", "", BARS[title], "", markdown_table(rows), ""]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    sys.exit(main())
