"""The single entry point of every process role, shared by `make run` and docker-compose.

python -m stack.entry migrate|api|worker|beat|flower|sandbox
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping, MutableMapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("migrate", "api", "worker", "webhook-worker", "beat", "flower", "sandbox")


API_SERVERS = ("granian", "gunicorn")
DEFAULT_API_SERVER = "granian"
"""Chosen by measurement: `make bench` (bench/signature.py) serves the signature endpoint and a bare
signer with each server and sizing; granian's WSGI server gave the most signature requests/s."""
GRANIAN_THREADS = 4

METRICS_ROLES = ("api", "worker", "webhook-worker", "beat")
DEFAULT_METRICS_PORTS = {"worker": "9101", "beat": "9102", "webhook-worker": "9103"}
"""A worker's, beat's or webhook worker's metrics port when METRICS_PORT is not set (the API serves
`/metrics` on API_PORT)."""
GRANIAN_LOG_CONFIG = "granian-logging.json"


def api_defaults(env: Mapping[str, str]) -> dict[str, str]:
    """API_SERVER, API_WORKERS and API_THREADS as the API role will run: from `env`, else the defaults
    (granian: one process per core with GRANIAN_THREADS threads; gunicorn: see stack/gunicorn_conf.py)."""
    server = env.get("API_SERVER", DEFAULT_API_SERVER)
    if server == "gunicorn":
        from stack.gunicorn_conf import DEFAULT_THREADS, default_workers

        workers, threads = default_workers(), DEFAULT_THREADS
    else:
        workers, threads = os.cpu_count() or 1, GRANIAN_THREADS
    return {
        "API_SERVER": server,
        "API_WORKERS": env.get("API_WORKERS", str(workers)),
        "API_THREADS": env.get("API_THREADS", str(threads)),
    }


def api_command(env: Mapping[str, str]) -> list[str]:
    """The API server on the same environment either way. `API_SERVER` picks it (granian | gunicorn),
    `API_WORKERS` / `API_THREADS` size it (gunicorn also reads `API_WORKER_CLASS`), `API_APP` is the WSGI
    target (the benchmark serves its baseline app this way)."""
    py = sys.executable
    settings = api_defaults(env)
    app = env.get("API_APP", "api.wsgi:app")
    if settings["API_SERVER"] == "gunicorn":
        return [py, "-m", "gunicorn", "-c", str(ROOT / "stack" / "gunicorn_conf.py"), app]
    if settings["API_SERVER"] == "granian":
        return [
            py,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            env.get("API_HOST", "127.0.0.1"),
            "--port",
            env.get("API_PORT", "8000"),
            "--workers",
            settings["API_WORKERS"],
            "--blocking-threads",
            settings["API_THREADS"],
            "--log-level",
            env.get("LOG_LEVEL", "info").lower(),
            *(["--log-config", env["GRANIAN_LOG_CONFIG"]] if env.get("GRANIAN_LOG_CONFIG") else []),
            "--no-access-log",
            "--respawn-failed-workers",
            app,
        ]
    raise SystemExit(
        f"unknown API_SERVER {settings['API_SERVER']!r}; expected one of {', '.join(API_SERVERS)}"
    )


def _worker(celery: list[str], queues: str, prefix: str, name: str) -> list[str]:
    """A Celery worker of `queues`, sized by `{prefix}_CONCURRENCY` and named by `{prefix}_NAME`."""
    env = os.environ
    return [
        *celery,
        "worker",
        "-Q",
        queues,
        "-c",
        env.get(f"{prefix}_CONCURRENCY", "2"),
        "-n",
        env.get(f"{prefix}_NAME", name),
        "--loglevel",
        env.get("LOG_LEVEL", "INFO"),
        "-E",
    ]


def command(role: str) -> list[str]:
    """The argv a role runs; every value comes from the environment."""
    env = os.environ
    py = sys.executable
    celery = [py, "-m", "celery", "-A", "workers.celery_app"]
    if env.get("APP_ENV", "development") != "development":
        celery.append("--quiet")  # no ASCII banner: every line on stdout/stderr is a JSON log line
    if role == "migrate":
        return [py, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"]
    if role == "api":
        return api_command(env)
    if role == "worker":
        return _worker(celery, env.get("WORKER_QUEUES", "zoom"), "WORKER", "zoom@%h")
    if role == "webhook-worker":
        # Zoom's events, on their own queue so that they are processed while the zoom queue is busy
        # (and scaled on their own: `docker compose up --scale webhook-worker=N`).
        return _worker(celery, "webhooks", "WEBHOOK_WORKER", "webhooks@%h")
    if role == "beat":
        schedule = env.get("BEAT_SCHEDULE_FILE", str(ROOT / "var" / "celerybeat-schedule"))
        return [*celery, "beat", "--loglevel", env.get("LOG_LEVEL", "INFO"), "-s", schedule]
    if role == "flower":
        args = [
            *celery,
            "flower",
            f"--address={env.get('FLOWER_HOST', '127.0.0.1')}",
            f"--port={env.get('FLOWER_PORT', '5555')}",
        ]
        if env.get("FLOWER_BASIC_AUTH"):
            args.append(f"--basic-auth={env['FLOWER_BASIC_AUTH']}")
        return args
    if role == "sandbox":
        return [
            py,
            "-m",
            "zoomsim",
            "--host",
            env.get("ZOOM_SANDBOX_HOST", "127.0.0.1"),
            "--port",
            env.get("ZOOM_SANDBOX_PORT", "9090"),
        ]
    raise SystemExit(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")


def prepare_metrics_dir(role: str, env: MutableMapping[str, str]) -> Path:
    """The role's prometheus_client multiprocess directory for this run: `PROMETHEUS_MULTIPROC_DIR` if set
    (emptied of a previous run's files), else a new temporary one. One per process tree: never share it
    between two roles or two running copies of a role."""
    given = env.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix=f"halaka-metrics-{role}-"))
    env["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def prepare(role: str, env: MutableMapping[str, str]) -> None:
    """What a role's process needs before it starts: its name for the logs, a fresh metrics directory,
    its metrics port, and the API server's own loggers in the project's JSON format."""
    env["HALAKA_ROLE"] = role
    if role not in METRICS_ROLES:
        return
    run_dir = prepare_metrics_dir(role, env)
    if role in DEFAULT_METRICS_PORTS:
        env.setdefault("METRICS_PORT", DEFAULT_METRICS_PORTS[role])
    if role == "api":
        from shared.logging import server_log_config

        config = server_log_config(env.get("LOG_LEVEL", "INFO"), ("_granian", "granian.access"))
        log_config = run_dir / GRANIAN_LOG_CONFIG
        log_config.write_text(json.dumps(config))
        env["GRANIAN_LOG_CONFIG"] = str(log_config)


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit(f"usage: python -m stack.entry {{{'|'.join(ROLES)}}}")
    os.chdir(ROOT)
    env = os.environ
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    prepare(argv[1], env)
    args = command(argv[1])
    os.execvpe(args[0], args, env)


if __name__ == "__main__":
    main(sys.argv)
