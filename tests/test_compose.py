"""docker-compose and `make run` launch every role through the same entry point."""

from __future__ import annotations

import inspect
from pathlib import Path

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
        "beat": ["beat"],
        "flower": ["flower"],
        "sandbox": ["sandbox"],
    }
    assert set(roles) == set(ROLES)
    assert compose["services"]["sandbox"]["profiles"] == ["sandbox"]


def test_make_run_spawns_roles_through_the_entry_point():
    assert "RoleProcess(role, env)" in inspect.getsource(dev)
    assert '"-m", "stack.entry", "migrate"' in inspect.getsource(dev)
    assert '"-m", "stack.entry", self.role' in inspect.getsource(process)


def test_every_role_has_a_command():
    for role in ROLES:
        assert command(role)[0]


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
    }
    assert config["scrape_configs"][0]["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
