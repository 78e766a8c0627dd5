"""Prometheus exposition from every role, scraped from the real processes.

The API runs as its role does in production (`python -m stack.entry api`, two server worker processes,
granian and gunicorn), the session's Celery worker and beat serve their own `METRICS_PORT`. Every scrape
is parsed with prometheus_client's parser; the tests watch counters move while a halaka is created,
provisioned (through a 429 from Zoom) and deleted, and check that the API's counts are the sum of its
two processes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from shared.metrics import family_names
from stack.embedded import free_port, wait_for_port
from stack.process import RoleProcess
from tests.conftest import METRICS_TOKEN
from tests.integration.helpers import schedule
from tests.worker_fixture import wait_for

Samples = dict[tuple[str, frozenset], float]
AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 when the series does not exist yet (a counter never incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def families(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name + ("_total" if family.type == "counter" else ""))
    return names


@dataclass
class ApiServer:
    process: RoleProcess
    base: str
    metrics_dir: Path

    def scrape(self) -> str:
        r = requests.get(f"{self.base}/metrics", headers=AUTH, timeout=30)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/plain")
        return r.text


def scrape_port(process: RoleProcess) -> str:
    """A worker's or beat's own metrics endpoint (waiting for a role started on first use)."""
    wait_for_port(int(process.env["METRICS_PORT"]), timeout=60, proc=process.proc)
    r = requests.get(f"http://127.0.0.1:{process.env['METRICS_PORT']}/metrics", timeout=30)
    assert r.status_code == 200
    return r.text


def start_api(server: str, stack_env: dict[str, str], logs: Path) -> ApiServer:
    port = free_port()
    metrics_dir = Path(tempfile.mkdtemp(prefix=f"api-metrics-{server}-"))
    env = {
        **stack_env,
        "API_SERVER": server,
        "API_PORT": str(port),
        "API_WORKERS": "2",
        "API_THREADS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    process = RoleProcess("api", env, logs / f"api-{server}.log").start()
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:  # the port opens before the server's workers have loaded the app
        try:
            return requests.get(f"{base}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_for_port(port, timeout=60, proc=process.proc)
        wait_for(answers, 90, 0.5, f"the {server} API to answer")
    except Exception:
        process.stop()
        raise AssertionError(process.log_tail()) from None
    return ApiServer(process, base, metrics_dir)


@pytest.fixture(scope="module", params=["granian", "gunicorn"])
def api_server(request, stack_env: dict[str, str], _role_logs: Path) -> Iterator[ApiServer]:
    api = start_api(request.param, stack_env, _role_logs)
    yield api
    api.process.stop()
    shutil.rmtree(api.metrics_dir, ignore_errors=True)


def _per_process_counts(metrics_dir: Path, route: str) -> dict[str, float]:
    """What each server process counted for `route`, read from its own multiprocess file alone."""
    counts = {}
    for db in metrics_dir.glob("counter_*.db"):
        alone = Path(tempfile.mkdtemp())
        try:
            shutil.copy(db, alone / db.name)
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=str(alone))
            samples = {
                (s.name, frozenset(s.labels.items())): s.value
                for family in registry.collect()
                for s in family.samples
            }
            counts[db.stem.split("_", 1)[1]] = value(
                samples, "halaka_http_requests_total", route=route, method="GET", status="200"
            )
        finally:
            shutil.rmtree(alone, ignore_errors=True)
    return counts


def test_api_counts_of_two_worker_processes_add_up(api_server: ApiServer):
    before = value(
        parse(api_server.scrape()), "halaka_http_requests_total", route="/healthz", method="GET", status="200"
    )

    def hit(_: int) -> int:
        return requests.get(
            f"{api_server.base}/healthz", headers={"Connection": "close"}, timeout=30
        ).status_code

    sent = 0
    with ThreadPoolExecutor(8) as pool:
        for _ in range(15):  # new connections spread over both processes; stop once both answered
            assert set(pool.map(hit, range(40))) == {200}
            sent += 40
            per_process = _per_process_counts(api_server.metrics_dir, "/healthz")
            if sum(1 for count in per_process.values() if count > 0) >= 2:
                break
    busy = {pid: count for pid, count in per_process.items() if count > 0}
    assert len(busy) >= 2, f"only one server process answered: {per_process}"
    after = value(
        parse(api_server.scrape()), "halaka_http_requests_total", route="/healthz", method="GET", status="200"
    )
    assert after - before == sent
    assert sum(per_process.values()) == after, (per_process, after)


def test_api_metrics_need_the_metrics_token(api_server: ApiServer, make_user):
    url = f"{api_server.base}/metrics"
    admin = make_user("admin")
    for headers in ({}, admin.headers, {"Authorization": f"Bearer {METRICS_TOKEN}x"}, {"Authorization": "x"}):
        r = requests.get(url, headers=headers, timeout=30)
        assert r.status_code == 401, headers
        assert r.json()["status"] == "error"
        assert "halaka_" not in r.text


@pytest.fixture
def granian_api(stack_env: dict[str, str], _role_logs: Path) -> Iterator[ApiServer]:
    api = start_api("granian", stack_env, _role_logs)
    yield api
    api.process.stop()
    shutil.rmtree(api.metrics_dir, ignore_errors=True)


def test_counters_move_when_a_halaka_is_created_provisioned_and_deleted(
    granian_api: ApiServer, worker: RoleProcess, beat: RoleProcess, zoom_sandbox, make_user
):
    teacher = make_user("teacher")
    api0, worker0 = parse(granian_api.scrape()), parse(scrape_port(worker))
    beat0 = wait_for(
        lambda: parse(scrape_port(beat)) or None, 20, what="beat's metrics endpoint"
    )  # beat is started on first use
    zoom_sandbox.fault(kind="429", count=1, retry_after="seconds", value=1, match="create")

    r = requests.post(
        f"{granian_api.base}/api/v1/halaka/",
        json={"title": "Metrics", "schedule": schedule(start_in=4, length_days=26)},
        headers=teacher.headers,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    halaka = r.json()["data"]["id"]

    def task_done(task: str, outcome: str, before: Samples):
        samples = parse(scrape_port(worker))
        grown = value(samples, "halaka_tasks_total", task=task, outcome=outcome) > value(
            before, "halaka_tasks_total", task=task, outcome=outcome
        )
        return samples if grown else None

    worker1 = wait_for(lambda: task_done("halaka.sync", "ready", worker0), 60, what="the sync task")
    api1 = parse(granian_api.scrape())

    def delta(after: Samples, before: Samples, name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    create = {"method": "POST", "endpoint": "/users/{userId}/meetings", "category": "light"}
    assert delta(worker1, worker0, "halaka_zoom_requests_total", **create, status="429") == 1
    assert delta(worker1, worker0, "halaka_zoom_requests_total", **create, status="201") == 1
    assert delta(worker1, worker0, "halaka_zoom_rate_limited_total", category="light", kind="qps") == 1
    assert delta(worker1, worker0, "halaka_zoom_rate_budget_wait_seconds_count", category="light") >= 2
    assert delta(worker1, worker0, "halaka_task_duration_seconds_count", task="halaka.sync") >= 1
    assert value(worker1, "halaka_zoom_oauth_token_requests_total", outcome="200") >= 1
    assert (
        delta(api1, api0, "halaka_http_requests_total", route="/api/v1/halaka/", method="POST", status="201")
        == 1
    )
    assert (
        delta(
            api1, api0, "halaka_http_request_duration_seconds_count", route="/api/v1/halaka/", method="POST"
        )
        == 1
    )
    assert value(api1, "halaka_halakat", zoom_status="ready") == 1
    assert value(api1, "halaka_halakat", zoom_status="pending") == 0
    assert value(api1, "halaka_oldest_pending_halaka_age_seconds") == 0
    assert value(api1, "halaka_queue_depth", queue="zoom") >= 0
    assert value(api1, "halaka_zoom_default_host_daily_writes") == 1  # the teacher has no own Zoom user
    assert value(api1, "halaka_zoom_host_daily_writes_max") == 1
    assert value(api1, "halaka_zoom_host_daily_write_limit") == 100

    r = requests.delete(f"{granian_api.base}/api/v1/halaka/{halaka}", headers=teacher.headers, timeout=30)
    assert r.status_code < 300, r.text
    worker2 = wait_for(lambda: task_done("halaka.delete", "deleted", worker1), 60, what="the delete task")
    remove = {"method": "DELETE", "endpoint": "/meetings/{meetingId}", "category": "light"}
    assert delta(worker2, worker1, "halaka_zoom_requests_total", **remove, status="204") == 1
    api2 = parse(granian_api.scrape())
    status = str(r.status_code)
    assert (
        delta(
            api2,
            api1,
            "halaka_http_requests_total",
            route="/api/v1/halaka/<int:id>",
            method="DELETE",
            status=status,
        )
        == 1
    )
    assert value(api2, "halaka_halakat", zoom_status="ready") == 0

    beat1 = wait_for(
        lambda: (
            (s := parse(scrape_port(beat)))
            and value(s, "halaka_beat_tasks_sent_total", task="halaka.reconcile")
            > value(beat0, "halaka_beat_tasks_sent_total", task="halaka.reconcile")
            and s
        ),
        20,
        what="beat to send the reconciler",
    )
    assert beat1

    # every family the project defines is exported by some role (webhooks count once they land)
    seen = families(granian_api.scrape()) | families(scrape_port(worker)) | families(scrape_port(beat))
    expected = family_names() - {"halaka_webhook_events_total"}
    assert expected <= seen, expected - seen
