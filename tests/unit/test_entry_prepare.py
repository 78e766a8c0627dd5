"""What the entry point prepares for each role before it starts: logs' role, metrics dir and port."""

from __future__ import annotations

import json
import shutil

import pytest

from stack.entry import DEFAULT_METRICS_PORTS, GRANIAN_LOG_CONFIG, api_command, command, prepare


@pytest.mark.parametrize(
    ("role", "port", "has_dir"),
    [("api", None, True), ("worker", "9101", True), ("beat", "9102", True), ("flower", None, False)],
)
def test_prepare_per_role(role, port, has_dir):
    env: dict[str, str] = {}
    prepare(role, env)
    assert env["HALAKA_ROLE"] == role
    assert env.get("METRICS_PORT") == port
    assert ("PROMETHEUS_MULTIPROC_DIR" in env) is has_dir
    if has_dir:
        shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"])


def test_each_run_gets_a_new_metrics_dir_and_a_given_one_is_emptied(tmp_path):
    first, second = {}, {}
    prepare("worker", first)
    prepare("worker", second)
    assert first["PROMETHEUS_MULTIPROC_DIR"] != second["PROMETHEUS_MULTIPROC_DIR"]
    for env in (first, second):
        shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"])

    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"stale")
    env = {"PROMETHEUS_MULTIPROC_DIR": str(given), "METRICS_PORT": "9200"}
    prepare("worker", env)
    assert list(given.glob("*.db")) == []
    assert env["METRICS_PORT"] == "9200"  # an explicit port wins over the role's default


def test_api_server_logs_through_the_json_formatter(tmp_path):
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    prepare("api", env)
    config = json.loads((tmp_path / GRANIAN_LOG_CONFIG).read_text())
    assert config["formatters"]["json"]["()"] == "shared.logging.JsonLogFormatter"
    assert set(config["loggers"]) == {"_granian", "granian.access"}
    argv = api_command({**env, "API_SERVER": "granian"})
    assert argv[argv.index("--log-config") + 1] == env["GRANIAN_LOG_CONFIG"]


@pytest.mark.parametrize(("app_env", "quiet"), [("production", True), ("test", True), ("development", False)])
def test_celery_banner_only_in_development(monkeypatch, app_env, quiet):
    monkeypatch.setenv("APP_ENV", app_env)
    for role in ("worker", "beat"):
        assert ("--quiet" in command(role)) is quiet


def test_default_metrics_ports_differ():
    assert len(set(DEFAULT_METRICS_PORTS.values())) == len(DEFAULT_METRICS_PORTS)
