"""docker-compose and `make run` launch every role through the same entry point."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from stack import dev, process
from stack.entry import ROLES, command

ROOT = Path(__file__).resolve().parent.parent


def test_compose_services_use_the_entry_point():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["python", "-m", "stack.entry"]' in dockerfile
    roles = {}
    for name, service in compose["services"].items():
        if service.get("build"):
            roles[name] = service["command"]
    assert roles == {
        "migrate": ["migrate"],
        "api": ["api"],
        "worker": ["worker"],
        "webhook-worker": ["webhook-worker"],
        "beat": ["beat"],
        "flower": ["flower"],
        "sandbox": ["sandbox"],
    }
    assert set(roles) == set(ROLES)
    assert compose["services"]["sandbox"]["profiles"] == ["sandbox"]


def test_webhook_worker_consumes_only_the_webhooks_queue():
    argv = command("webhook-worker")
    assert argv[argv.index("-Q") + 1] == "webhooks"
    assert "webhooks" not in command("worker")[command("worker").index("-Q") + 1].split(",")


def test_make_run_spawns_roles_through_the_entry_point(monkeypatch, tmp_path):
    """`make run`'s supervisor migrates and starts each role by name through stack.entry (no other path
    exists: it only hands role names to `run_once` and `RoleProcess`)."""
    started: list[str] = []

    class Recorder:
        def __init__(self, role: str, env: dict[str, str]) -> None:
            self.role, self.proc = role, SimpleNamespace(returncode=0)

        def start(self):
            started.append(self.role)
            return self

        running = False

        def stop(self) -> None:
            pass

    monkeypatch.setattr(dev, "VAR", tmp_path)
    monkeypatch.setattr(dev, "_embedded", lambda env, services: None)
    monkeypatch.setattr(dev, "wait_for_port", lambda *a, **k: None)
    monkeypatch.setattr(dev, "RoleProcess", Recorder)
    monkeypatch.setattr(dev, "run_once", lambda role, env: started.append(f"once:{role}"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://unused/x")
    monkeypatch.setenv("REDIS_URL", "redis://unused/0")
    assert dev.main() == 1  # the recorded roles never run, so the supervisor stops at once
    assert started[0] == "once:migrate"
    assert {"api", "worker", "webhook-worker", "beat", "flower", "sandbox"} <= set(started[1:]) <= set(ROLES)


def test_ops_profile_scrapes_every_role_and_provisions_grafana():
    from stack.entry import DEFAULT_METRICS_PORTS

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["ops"]
    mounts = " ".join(services["prometheus"]["volumes"] + services["grafana"]["volumes"])
    for path in ("./ops/prometheus/prometheus.yml", "./ops/prometheus/alerts.yml", "./ops/grafana"):
        assert path in mounts
    assert compose["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    assert "METRICS_TOKEN" in compose["x-app"]["environment"]
    assert "METRICS_HOST=0.0.0.0" in (ROOT / "Dockerfile").read_text()

    config = yaml.safe_load((ROOT / "ops" / "prometheus" / "prometheus.yml").read_text())
    targets = {}
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            targets[job["job_name"]] = (sd["names"][0], str(sd["port"]))
        for static in job.get("static_configs", []):
            host, port = static["targets"][0].split(":")
            targets[job["job_name"]] = (host, port)
    assert targets == {
        "halaka-api": ("api", services["api"]["environment"]["API_PORT"]),
        "halaka-worker": ("worker", DEFAULT_METRICS_PORTS["worker"]),
        "halaka-beat": ("beat", DEFAULT_METRICS_PORTS["beat"]),
        "halaka-webhook-worker": ("webhook-worker", DEFAULT_METRICS_PORTS["webhook-worker"]),
    }
    assert config["scrape_configs"][0]["authorization"]["credentials_file"] == "/run/secrets/metrics_token"


def test_role_process_runs_the_entry_point(tmp_path):
    """A real child: the entry point answers an unknown role, so this is what RoleProcess ran."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = process.RoleProcess("no-such-role", env, tmp_path / "child.log").start()
    assert child.proc is not None
    assert child.proc.wait(timeout=30) != 0
    assert "unknown role 'no-such-role'" in child.log_tail()
    with pytest.raises(subprocess.CalledProcessError):
        process.run_once("no-such-role", env)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_runs_an_installed_module(role):
    argv = command(role)
    assert argv[:2] == [sys.executable, "-m"]
    assert importlib.util.find_spec(argv[2]) is not None, argv
    if argv[2] == "celery":
        assert argv[3:5] == ["-A", "workers.celery_app"]
        assert importlib.util.find_spec("workers.celery_app") is not None


def test_an_unknown_role_is_refused():
    with pytest.raises(SystemExit, match="unknown role"):
        command("no-such-role")


def test_beat_runs_the_webhook_sweep_and_the_hourly_drift_check():
    from celery import Celery

    from shared.celery_config import (
        DRIFT_CHECK_TASK,
        WEBHOOK_QUEUE,
        WEBHOOK_SWEEP_TASK,
        WEBHOOK_TASK,
        configure,
    )
    from shared.settings import get_settings

    app = configure(Celery("check"), get_settings())
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule[DRIFT_CHECK_TASK] == 3600
    assert WEBHOOK_SWEEP_TASK in schedule
    assert app.amqp.router.route({}, WEBHOOK_TASK)["queue"].name == WEBHOOK_QUEUE
    assert app.amqp.router.route({}, DRIFT_CHECK_TASK)["queue"].name == "zoom"


def test_make_run_points_the_sandbox_s_webhooks_at_its_own_api():
    env = {"API_PORT": "8123"}
    dev.sandbox_env(env)
    assert env["ZOOM_SANDBOX_WEBHOOK_URL"] == "http://127.0.0.1:8123/api/v1/zoom/webhook"
    assert env["ZOOM_SANDBOX_WEBHOOK_SECRET"] == env["ZOOM_WEBHOOK_SECRET_TOKEN"]
    real = {name: "x" for name in dev.ZOOM_CREDENTIALS}
    assert dev.sandbox_env(real) is None and "ZOOM_SANDBOX_WEBHOOK_URL" not in real


def test_compose_runs_a_webhook_worker_and_gives_the_sandbox_the_api_s_webhook_url():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    sandbox = compose["services"]["sandbox"]["environment"]
    assert sandbox["ZOOM_SANDBOX_WEBHOOK_URL"] == "http://api:8000/api/v1/zoom/webhook"
    assert "ZOOM_WEBHOOK_SECRET_TOKEN" in compose["x-app"]["environment"]
