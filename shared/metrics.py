"""Prometheus metric families of every process, and the state read when the API is scraped.

Counters and histograms live in the process that counts: an API server worker, a Celery pool child, beat.
Every role runs with `PROMETHEUS_MULTIPROC_DIR` (the entry point prepares a fresh directory per run and
role), so prometheus_client keeps each process's values in its own file and `process_registry()` adds
them up at scrape time: the API's `/metrics` is the sum of all its server workers, a worker's
`METRICS_PORT` the sum of its pool children.

State gauges (queue depth, halakat by `zoomStatus`, oldest pending halaka, hosts' daily Zoom writes)
are read from the broker, PostgreSQL and Redis by `StateCollector` when the API is scraped; the admin
JSON endpoint (`GET /api/v1/ops/metrics`) reads the same `read_state()`.

Labels are bounded: route templates, methods, status codes, Zoom endpoint templates and categories,
task names and outcomes, queue names, statuses. Never a user, halaka, meeting or host id.

The admin JSON endpoint also shows Zoom calls and task outcomes summed over every process; those two
counters are mirrored into Redis hashes (best effort) where they are counted.
"""

from __future__ import annotations

import glob
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import redis
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.redis_client import get_redis

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# --- API -----------------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "halaka_http_requests_total",
    "API requests answered, by route template, method and status",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "halaka_http_request_duration_seconds",
    "API request handling time, by route template and method",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOK_EVENTS = Counter(
    "halaka_webhook_events_total",
    "Zoom webhook events received, by event type and outcome",
    ["event", "outcome"],
)
WEBHOOK_EVENT_NAMES = frozenset(
    {
        "endpoint.url_validation",
        "meeting.started",
        "meeting.ended",
        "meeting.participant_joined",
        "meeting.participant_left",
        "meeting.updated",
        "meeting.deleted",
    }
)
WEBHOOK_SIGNATURE_FAILURES = Counter(
    "halaka_webhook_signature_failures_total",
    "Zoom webhook requests refused for a missing or wrong signature",
)

# --- Zoom (workers and the API's ZAK calls) ---------------------------------------------------------------
ZOOM_REQUESTS = Counter(
    "halaka_zoom_requests_total",
    "HTTP requests sent to Zoom's API, by endpoint template, rate category and status",
    ["method", "endpoint", "category", "status"],
)
ZOOM_DURATION = Histogram(
    "halaka_zoom_request_duration_seconds",
    "Time of one HTTP exchange with Zoom's API",
    ["method", "endpoint"],
    buckets=LATENCY_BUCKETS,
)
ZOOM_RATE_LIMITED = Counter(
    "halaka_zoom_rate_limited_total",
    "429 answers from Zoom, by rate category and kind (qps or daily)",
    ["category", "kind"],
)
ZOOM_BUDGET_WAIT = Histogram(
    "halaka_zoom_rate_budget_wait_seconds",
    "Time spent waiting for a slot of the shared per-second budget",
    ["category"],
    buckets=WAIT_BUCKETS,
)
ZOOM_OAUTH = Counter(
    "halaka_zoom_oauth_token_requests_total",
    "Server-to-Server OAuth token requests sent to Zoom, by outcome",
    ["outcome"],
)

# --- Celery -------------------------------------------------------------------------------------------
TASKS = Counter("halaka_tasks_total", "Celery tasks finished, by task name and outcome", ["task", "outcome"])
TASK_DURATION = Histogram(
    "halaka_task_duration_seconds", "Celery task run time, by task name", ["task"], buckets=TASK_BUCKETS
)
BEAT_SENT = Counter("halaka_beat_tasks_sent_total", "Periodic tasks beat has sent to the broker", ["task"])

# --- state, read at scrape time (StateCollector) -------------------------------------------------------
QUEUE_DEPTH = "halaka_queue_depth"
HALAKAT = "halaka_halakat"
OLDEST_PENDING = "halaka_oldest_pending_halaka_age_seconds"
HOST_WRITES_MAX = "halaka_zoom_host_daily_writes_max"
DEFAULT_HOST_WRITES = "halaka_zoom_default_host_daily_writes"
HOST_WRITE_LIMIT = "halaka_zoom_host_daily_write_limit"
STATE_FAMILIES = (
    QUEUE_DEPTH,
    HALAKAT,
    OLDEST_PENDING,
    HOST_WRITES_MAX,
    DEFAULT_HOST_WRITES,
    HOST_WRITE_LIMIT,
)

# Redis mirrors for the admin JSON endpoint
ZOOM_CALLS = "metrics:zoom_calls"
TASK_OUTCOMES = "metrics:task_outcomes"

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_http_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def family_names() -> set[str]:
    """Every family name the project exports, as Prometheus sees it (counters with `_total`)."""
    names = set(STATE_FAMILIES)
    for value in globals().values():
        if isinstance(value, Counter | Histogram):  # their public `describe()`: the family, no `_total`
            suffix = "_total" if isinstance(value, Counter) else ""
            names.update(family.name + suffix for family in value.describe())
    return names


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """One API request; on the signature hot path, so the labelled children are looked up once."""
    method = method if method in _METHODS else "OTHER"
    key = (route, method, status)
    children = _http_children.get(key)
    if children is None:
        children = (HTTP_REQUESTS.labels(route, method, str(status)), HTTP_DURATION.labels(route, method))
        _http_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def record_zoom_response(
    method: str, template: str, category: str, status: int | str, seconds: float
) -> None:
    ZOOM_REQUESTS.labels(method, template, category, str(status)).inc()
    ZOOM_DURATION.labels(method, template).observe(seconds)
    _mirror(ZOOM_CALLS, f"{method} {template} {status}")


def record_rate_limited(category: str, daily: bool) -> None:
    ZOOM_RATE_LIMITED.labels(category, "daily" if daily else "qps").inc()


def record_budget_wait(category: str, seconds: float) -> None:
    ZOOM_BUDGET_WAIT.labels(category).observe(seconds)


def record_oauth(outcome: int | str) -> None:
    ZOOM_OAUTH.labels(str(outcome)).inc()


def record_task(task: str, outcome: str, seconds: float | None) -> None:
    TASKS.labels(task, outcome).inc()
    if seconds is not None:
        TASK_DURATION.labels(task).observe(seconds)
    _mirror(TASK_OUTCOMES, f"{task} {outcome}")


def _mirror(key: str, field: str) -> None:
    """Best effort: a total that cannot be written is dropped, never an error for the caller."""
    try:
        get_redis().hincrby(key, field, 1)
    except redis.RedisError:
        log.debug("metric not mirrored", extra={"metric": key})


def record_webhook_event(event: str, outcome: str) -> None:
    """A webhook event by type and what became of it (stored, duplicate, processed…); event names the
    platform does not handle share one label, so a signed sender cannot grow the series."""
    WEBHOOK_EVENTS.labels(event if event in WEBHOOK_EVENT_NAMES else "other", outcome).inc()


def record_webhook_signature_failure(reason: str) -> None:
    """A webhook refused before verification succeeded (`reason` goes to the log line, not a label)."""
    WEBHOOK_SIGNATURE_FAILURES.inc()


def read_mirror(key: str) -> dict[str, int]:
    return {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in get_redis().hgetall(key).items()}


# --- exposition ---------------------------------------------------------------------------------------

_process_registry: CollectorRegistry | None = None


def process_registry() -> CollectorRegistry:
    """This role's counters and histograms: every process's files in multiprocess mode, else this one."""
    global _process_registry
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    if _process_registry is None:
        registry = CollectorRegistry()
        _FilesCollector(registry)
        _process_registry = registry
    return _process_registry


class _FilesCollector(multiprocess.MultiProcessCollector):
    """Skips a file a process is still creating (empty): reading it would fail the whole scrape."""

    def collect(self) -> Iterator:
        files = [f for f in glob.glob(os.path.join(self._path, "*.db")) if os.path.getsize(f) > 0]
        return self.merge(files, accumulate=True)


def start_metrics_server(port: int, host: str) -> None:
    """Serve this role's metrics on host:port (a worker's or beat's `METRICS_PORT`), in a daemon thread."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=process_registry())
    log.info("metrics served", extra={"url": f"http://{host}:{port}/metrics"})


@dataclass
class State:
    queue_depth: dict[str, int | None]
    halakat_by_status: dict[str, int]
    oldest_pending_seconds: float
    host_writes: dict[str, int] = field(default_factory=dict)
    default_host: str | None = None


def read_state(default_host: str | None) -> State:
    """The operator's state: broker queue depth, halakat by status, oldest pending, hosts' writes today
    (`default_host`: ZOOM_DEFAULT_HOST_USER of the caller's settings)."""
    from sqlalchemy import func, select

    from shared.celery_config import ZOOM_QUEUE
    from shared.db import session_scope
    from shared.lifecycle import ACTIVE
    from shared.models import Halaka
    from shared.task_queue import queue_depth
    from shared.zoom.rate_budget import host_writes_today

    with session_scope() as s:
        rows = s.execute(select(Halaka.zoom_status, func.count()).group_by(Halaka.zoom_status)).all()
        oldest = s.scalar(
            select(func.extract("epoch", func.now() - func.min(Halaka.status_changed_at))).where(
                Halaka.zoom_status.in_(ACTIVE)  # waiting for a worker: does provisioning keep up?
            )
        )
    try:
        writes = host_writes_today(get_redis())
    except redis.RedisError:
        writes = {}
    return State(
        queue_depth={ZOOM_QUEUE: queue_depth(ZOOM_QUEUE)},
        halakat_by_status={status: count for status, count in rows},
        oldest_pending_seconds=max(0.0, float(oldest or 0)),
        host_writes=writes,
        default_host=default_host,
    )


class StateCollector(Collector):
    """State gauges, computed on each scrape (any API worker answers the same); `default_host` gives
    the scraping app's ZOOM_DEFAULT_HOST_USER at scrape time."""

    def __init__(self, default_host: Callable[[], str | None]) -> None:
        self._default_host = default_host

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from shared.models import ZoomStatus
        from shared.zoom.rate_budget import DAILY_WRITES_PER_HOST

        started = time.perf_counter()
        state = read_state(self._default_host())
        depth = GaugeMetricFamily(QUEUE_DEPTH, "Messages waiting in the broker, by queue", labels=["queue"])
        for queue, count in state.queue_depth.items():
            if count is not None:  # broker unreachable: no sample rather than a wrong one
                depth.add_metric([queue], count)
        yield depth
        halakat = GaugeMetricFamily(HALAKAT, "Halakat by zoomStatus", labels=["zoom_status"])
        for status in ZoomStatus:
            halakat.add_metric([status.value], state.halakat_by_status.get(status.value, 0))
        yield halakat
        yield GaugeMetricFamily(
            OLDEST_PENDING,
            "Age of the oldest halaka waiting for a worker (pending, provisioning, updating, deleting)",
            value=state.oldest_pending_seconds,
        )
        yield GaugeMetricFamily(
            HOST_WRITES_MAX,
            "Zoom meeting creates and updates today (UTC) of the host that made the most",
            value=max(state.host_writes.values(), default=0),
        )
        yield GaugeMetricFamily(
            DEFAULT_HOST_WRITES,
            "Zoom meeting creates and updates today (UTC) of ZOOM_DEFAULT_HOST_USER, the shared host",
            value=state.host_writes.get((state.default_host or "").lower(), 0),
        )
        yield GaugeMetricFamily(
            HOST_WRITE_LIMIT, "Zoom's daily create/update limit per host", value=DAILY_WRITES_PER_HOST
        )
        log.debug("state read", extra={"seconds": round(time.perf_counter() - started, 4)})
