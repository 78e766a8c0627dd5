"""Signature endpoint vs a bare signer, per HTTP server configuration (README, Benchmarks).

For each server configuration the real `POST /api/v1/zoom/signature` (valid access token, role 0, an
enrolled student: token check, then one PostgreSQL statement for the caller's row, the login's
revocation and the meeting's halaka, signing), the minimal unauthenticated signer of
`bench/bare_signer.py` and the reference view of `bench/reference_signer.py` (the endpoint's work done
directly: PyJWT decode, the same single query through psycopg, signing) are served the same way
(`python -m stack.entry api`, only `API_APP` differs), side by side, and driven by the same load
generator in interleaved rounds. Two ratios of requests/s: endpoint / bare signer (the 70% bar) and
endpoint / reference (>= 80%: what the framework layers cost over the same work).

The production server is the eligible configuration with the most signature requests/s (among those that
meet the bar, if any do). Eligible: at least `MIN_CONCURRENT` requests in flight, because an API request
may legitimately wait on Zoom (a ZAK, up to ZOOM_TIMEOUT_READ) or on `Prefer: wait=30`, and signatures
must keep flowing meanwhile.

    python -m bench.signature                       # every configuration (about 2.5 minutes)
    BENCH_SERVERS="granian wsgi 2x4" python -m bench.signature
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
from stack import entry, gunicorn_conf

BAR = 0.70
REFERENCE_BAR = 0.80
MIN_CONCURRENT = 8
SECONDS = float(os.environ.get("BENCH_SECONDS", "6"))
ROUNDS = 4
WARMUP = float(os.environ.get("BENCH_WARMUP", "1.5"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
MEETING = 83_000_000_000
HALAKAT = 500
PATH = "/api/v1/zoom/signature"
CPUS = os.cpu_count() or 1


@dataclass(frozen=True)
class ServerConfig:
    server: str  # API_SERVER
    kind: str  # gunicorn worker class, or "wsgi" for granian
    workers: int
    threads: int

    @property
    def name(self) -> str:
        return f"{self.server} {self.kind}"

    @property
    def label(self) -> str:
        return f"{self.name} {self.workers}x{self.threads}"

    @property
    def env(self) -> dict[str, str]:
        env = {"API_SERVER": self.server, "API_WORKERS": str(self.workers), "API_THREADS": str(self.threads)}
        if self.server == "gunicorn":
            env["API_WORKER_CLASS"] = self.kind
        return env

    @property
    def eligible(self) -> bool:
        return self.workers * self.threads >= MIN_CONCURRENT

    @property
    def is_default(self) -> bool:
        """Whether `python -m stack.entry api` with no API_* variables serves exactly this."""
        return entry.api_defaults({}) == self.env_without_class() and (
            self.server != "gunicorn" or self.kind == gunicorn_conf.DEFAULT_WORKER_CLASS
        )

    def env_without_class(self) -> dict[str, str]:
        return {k: v for k, v in self.env.items() if k != "API_WORKER_CLASS"}


def configurations() -> list[ServerConfig]:
    """Each server at one and two processes per core (gunicorn sync: one request per process)."""
    configs = [
        ServerConfig("gunicorn", "sync", 2 * CPUS, 1),
        ServerConfig("gunicorn", "gthread", CPUS, 4),
        ServerConfig("gunicorn", "gthread", 2 * CPUS, 4),
    ]
    if importlib.util.find_spec("granian"):
        configs += [
            ServerConfig("granian", "wsgi", CPUS, 4),
            ServerConfig("granian", "wsgi", CPUS, 8),
            ServerConfig("granian", "wsgi", 2 * CPUS, 4),
        ]
    wanted = os.environ.get("BENCH_SERVERS")
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


@dataclass
class _Served:
    config: ServerConfig
    api_base: str
    bare_base: str
    reference_base: str
    api: list[LoadResult]
    bare: list[LoadResult]
    reference: list[LoadResult]


def _slice(base: str, body: dict, headers: dict[str, str], warmup: float) -> LoadResult:
    return run_load(
        base + PATH,
        body=body,
        headers=headers,
        concurrency=CONCURRENCY,
        seconds=SECONDS / ROUNDS,
        warmup=warmup,
    )


def run(progress: Callable[[str], object] = print) -> list[dict]:
    """One row per server configuration; the chosen one says so in its `verdict`.

    Every configuration serves both apps at once (idle servers cost nothing), and the measurement goes
    round by round over all of them, endpoint and bare signer back to back, in a rotating order: whatever
    else the machine does meanwhile weighs on every configuration and on both apps alike.
    """
    started = time.monotonic()
    configs = configurations()
    with BenchStack() as stack:
        email, meeting = seed(stack)
        body = {"meetingNumber": meeting, "role": 0}
        served: list[_Served] = []
        for config in configs:
            progress(f"signature: starting {config.label} (endpoint, bare signer, reference view)")
            _api_process, api_base = stack.api(**config.env)
            _bare_process, bare_base = stack.api(**config.env, API_APP="bench.bare_signer:app")
            _ref_process, ref_base = stack.api(**config.env, API_APP="bench.reference_signer:app")
            served.append(_Served(config, api_base, bare_base, ref_base, [], [], []))
        auth = {"Authorization": f"Bearer {stack.login(served[0].api_base, email)}"}
        for round_ in range(ROUNDS):
            progress(f"signature: round {round_ + 1}/{ROUNDS} over {len(served)} configurations")
            warmup = WARMUP if round_ == 0 else 0.2
            shift = round_ % len(served)
            for item in served[shift:] + served[:shift]:
                pairs = [
                    (item.api, item.api_base, auth),
                    (item.bare, item.bare_base, {}),
                    (item.reference, item.reference_base, auth),
                ]
                for results, base, headers in pairs if round_ % 2 == 0 else reversed(pairs):
                    results.append(_slice(base, body, headers, warmup))
    rows = [_row(item.config, _merge(item.api), _merge(item.bare), _merge(item.reference)) for item in served]
    _verdicts(rows)
    for row in rows:
        row.pop("_config")
    progress(f"signature: {len(rows)} configurations in {time.monotonic() - started:.0f}s")
    return rows


def _row(config: ServerConfig, api: LoadResult, bare: LoadResult, reference: LoadResult) -> dict:
    return {
        "server": config.name,
        "workers": config.workers,
        "threads": config.threads,
        "api req/s": round(api.rps),
        "api p50 ms": round(api.percentile(50), 2),
        "api p99 ms": round(api.percentile(99), 2),
        "bare req/s": round(bare.rps),
        "bare p50 ms": round(bare.percentile(50), 2),
        "bare p99 ms": round(bare.percentile(99), 2),
        "reference req/s": round(reference.rps),
        "ratio": round(api.rps / bare.rps, 3) if bare.rps else 0.0,
        "ratio vs reference": round(api.rps / reference.rps, 3) if reference.rps else 0.0,
        "non-201": _failures(api) + _failures(bare) + _failures(reference),
        "_config": config,
    }


def _verdicts(rows: list[dict]) -> None:
    """Mark the production server: the eligible, clean configuration with the most signature
    requests/s, preferring those that meet the bar (the table shows the gap when none does)."""
    candidates = [r for r in rows if r["_config"].eligible and not r["non-201"]]
    passing = [r for r in candidates if r["ratio"] >= BAR]
    best = max(passing or candidates, key=lambda r: r["api req/s"], default=None)
    for row in rows:
        config: ServerConfig = row["_config"]
        notes = [
            f"{'meets' if row['ratio'] >= BAR else 'misses'} the {BAR:.0%} bar",
            f"{'meets' if row['ratio vs reference'] >= REFERENCE_BAR else 'misses'} the "
            f"{REFERENCE_BAR:.0%} reference bar",
        ]
        if not config.eligible:
            notes.append(f"not eligible: fewer than {MIN_CONCURRENT} requests in flight")
        if row["non-201"]:
            notes.append("had non-201 answers")
        if row is best:
            notes.insert(0, "CHOSEN: most signature req/s" + ("" if passing else " (none meets the bar)"))
            notes.append(
                "= stack.entry's default" if config.is_default else "differs from stack.entry's default"
            )
        elif config.is_default:
            notes.append("stack.entry's default")
        row["verdict"] = "; ".join(notes)


if __name__ == "__main__":
    print_table("Signature endpoint vs bare signer and reference view", run(print))
