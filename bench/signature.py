"""Signature endpoint vs a bare signer, per HTTP server configuration (DESIGN.md 8).

For each server configuration the real `POST /api/v1/zoom/signature` (valid access token, role 0, an
enrolled student: JWT check, revocation check, user lookup, meeting authorisation, signing) and the
minimal unauthenticated signer of `bench/bare_signer.py` are served the same way, one after the other,
and driven by the same load generator. The ratio of their requests/s is the bar (>= 70%); the production
server is the configuration with the most signature requests/s among those that meet it.

    python -m bench.signature            # prints the table
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.loadgen import LoadResult, run_load
from bench.report import print_table
from bench.stack import BenchStack
from stack.entry import DEFAULT_API_SERVER

BAR = 0.70
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
ROUNDS = 3
WARMUP = float(os.environ.get("BENCH_WARMUP", "1.5"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
MEETING = 83_000_000_000
HALAKAT = 500
PATH = "/api/v1/zoom/signature"
CPUS = os.cpu_count() or 1


@dataclass(frozen=True)
class ServerConfig:
    name: str
    env: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.name} {self.env.get('API_WORKERS')}x{self.env.get('API_THREADS', '1')}"


def configurations() -> list[ServerConfig]:
    """Each server at the sizes worth comparing on this machine: one and two processes per core."""
    per_core, twice = str(CPUS), str(2 * CPUS)
    configs = [
        ServerConfig(
            "gunicorn sync", {"API_SERVER": "gunicorn", "API_WORKER_CLASS": "sync", "API_WORKERS": twice}
        ),
        ServerConfig(
            "gunicorn gthread",
            {
                "API_SERVER": "gunicorn",
                "API_WORKER_CLASS": "gthread",
                "API_WORKERS": per_core,
                "API_THREADS": "4",
            },
        ),
        ServerConfig(
            "gunicorn gthread",
            {
                "API_SERVER": "gunicorn",
                "API_WORKER_CLASS": "gthread",
                "API_WORKERS": twice,
                "API_THREADS": "4",
            },
        ),
    ]
    if importlib.util.find_spec("granian"):
        configs += [
            ServerConfig(
                "granian wsgi", {"API_SERVER": "granian", "API_WORKERS": per_core, "API_THREADS": "1"}
            ),
            ServerConfig(
                "granian wsgi", {"API_SERVER": "granian", "API_WORKERS": per_core, "API_THREADS": "4"}
            ),
            ServerConfig("granian wsgi", {"API_SERVER": "granian", "API_WORKERS": twice, "API_THREADS": "4"}),
        ]
    wanted = os.environ.get("BENCH_SERVERS")  # e.g. "granian wsgi" or "granian wsgi 2x4,gunicorn sync"
    if wanted:
        names = {name.strip() for name in wanted.split(",")}
        configs = [c for c in configs if c.name in names or c.label in names]
    return configs


def seed(stack: BenchStack) -> tuple[str, str]:
    """A teacher with HALAKAT halakat of one meeting each, a student enrolled in every tenth one.

    Returns (the student's e-mail, a meeting number the student may join as attendee).
    """
    teacher = stack.make_user("teacher", "bench-teacher@example.com")
    student = stack.make_user("student", "bench-student@example.com")
    stack.sql(
        "INSERT INTO halakat (title, description, teacher_id, frequency, days, start_time, duration,"
        " start_date, end_date, timezone, zoom_status, schedule_version, applied_version, attempts)"
        " SELECT 'Bench ' || n, '', %s, 'weekly', ARRAY['monday'], '17:00', 60, current_date + 1,"
        " current_date + 60, 'Africa/Cairo', 'ready', 1, 1, 0 FROM generate_series(1, %s) AS n RETURNING id",
        teacher,
        HALAKAT,
    )
    stack.sql(
        "INSERT INTO zoom_meetings (halaka_id, segment_index, meeting_id, first_start, last_start,"
        " occurrence_count, occurrence_ids) SELECT id, 0, %s + id, now(), now() + interval '60 days', 9,"
        " '{}' FROM halakat RETURNING id",
        MEETING,
    )
    stack.sql(
        "INSERT INTO enrollments (halaka_id, student_id) SELECT id, %s FROM halakat WHERE id %% 10 = 0"
        " RETURNING halaka_id",
        student,
    )
    [(halaka_id,)] = stack.sql("SELECT max(id) FROM halakat WHERE id %% 10 = 0")
    return "bench-student@example.com", str(MEETING + halaka_id)


def _merge(results: list[LoadResult]) -> LoadResult:
    statuses: dict[int, int] = {}
    for result in results:
        for status, n in result.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    return LoadResult(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        latencies=[x for r in results for x in r.latencies],
        statuses=statuses,
    )


def _failures(result: LoadResult) -> int:
    """Answers other than 201 (a sync worker closing its connection after each answer is not one)."""
    return sum(n for status, n in result.statuses.items() if status != 201)


def compare(stack: BenchStack, config: ServerConfig, body: dict, email: str) -> tuple[LoadResult, LoadResult]:
    """Both apps served side by side with this configuration, measured in alternating slices so that
    whatever else the machine does at the time weighs on both alike."""
    api_process, api_base = stack.api(**config.env)
    bare_process, bare_base = stack.api(**config.env, API_APP="bench.bare_signer:app")
    try:
        auth = {"Authorization": f"Bearer {stack.login(api_base, email)}"}
        api: list[LoadResult] = []
        bare: list[LoadResult] = []
        for round_ in range(ROUNDS):
            warmup = WARMUP if round_ == 0 else 0.2
            for results, base, headers in ((api, api_base, auth), (bare, bare_base, {})):
                results.append(
                    run_load(
                        base + PATH,
                        body=body,
                        headers=headers,
                        concurrency=CONCURRENCY,
                        seconds=SECONDS / ROUNDS,
                        warmup=warmup,
                    )
                )
        return _merge(api), _merge(bare)
    finally:
        stack.stop_role(api_process)
        stack.stop_role(bare_process)


def run(progress: Callable[[str], object] = print) -> list[dict]:
    """One row per server configuration; the chosen one says so in its `verdict`."""
    rows: list[dict] = []
    started = time.monotonic()
    with BenchStack() as stack:
        email, meeting = seed(stack)
        body = {"meetingNumber": meeting, "role": 0}
        for config in configurations():
            progress(f"signature: {config.label}: endpoint and bare signer, {ROUNDS} alternating rounds ...")
            api, bare = compare(stack, config, body, email)
            ratio = api.rps / bare.rps if bare.rps else 0.0
            rows.append(
                {
                    "server": config.name,
                    "workers": config.env.get("API_WORKERS", ""),
                    "threads": config.env.get("API_THREADS", "1"),
                    "api req/s": round(api.rps),
                    "api p50 ms": round(api.percentile(50), 2),
                    "api p99 ms": round(api.percentile(99), 2),
                    "bare req/s": round(bare.rps),
                    "bare p50 ms": round(bare.percentile(50), 2),
                    "bare p99 ms": round(bare.percentile(99), 2),
                    "ratio": round(ratio, 3),
                    "non-201": _failures(api) + _failures(bare),
                    "_config": config,
                }
            )
    _verdicts(rows)
    for row in rows:
        row.pop("_config")
    progress(f"signature: {len(rows)} configurations in {time.monotonic() - started:.0f}s")
    return rows


def _verdicts(rows: list[dict]) -> None:
    """The production server: the most signature requests/s among clean configurations that meet the
    bar, or among all clean ones when none does (the table then shows the gap)."""
    clean = [r for r in rows if not r["non-201"]]
    passing = [r for r in clean if r["ratio"] >= BAR]
    best = max(passing or clean or rows, key=lambda r: r["api req/s"])
    for row in rows:
        note = f"{'meets' if row['ratio'] >= BAR else 'misses'} the {BAR:.0%} bar"
        if row["non-201"]:
            note += "; had non-201 answers"
        if row is best:
            note = "CHOSEN: most signature req/s" + ("" if passing else " (none meets the bar)") + "; " + note
            if not _is_default(row["_config"]):
                note += "; differs from stack.entry's defaults"
        row["verdict"] = note


def _is_default(config: ServerConfig) -> bool:
    """Whether `python -m stack.entry api` without API_* variables serves exactly this configuration."""
    from stack.gunicorn_conf import default_threads, default_workers, worker_class

    env = config.env
    same_size = env.get("API_WORKERS") == str(default_workers()) and env.get("API_THREADS", "1") == str(
        default_threads() if env.get("API_WORKER_CLASS", "gthread") != "sync" else 1
    )
    if env.get("API_SERVER") != DEFAULT_API_SERVER or not same_size:
        return False
    return env["API_SERVER"] != "gunicorn" or env.get("API_WORKER_CLASS") == worker_class


if __name__ == "__main__":
    print_table("Signature endpoint vs bare signer", run(print))
