"""gunicorn settings for the API when `API_SERVER=gunicorn` (the default server is chosen by `make bench`:
see stack/entry.py and BENCHMARKS.md)."""

import os

from shared.logging import server_log_config

bind = f"{os.environ.get('API_HOST', '127.0.0.1')}:{os.environ.get('API_PORT', '8000')}"


def default_workers() -> int:
    return (os.cpu_count() or 1) * 2


DEFAULT_WORKER_CLASS = "gthread"
DEFAULT_THREADS = 4

workers = int(os.environ.get("API_WORKERS", str(default_workers())))
worker_class = os.environ.get("API_WORKER_CLASS", DEFAULT_WORKER_CLASS)
threads = int(os.environ.get("API_THREADS", str(DEFAULT_THREADS)))
keepalive = 5
timeout = 60
graceful_timeout = 20
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = server_log_config(loglevel, ("gunicorn.error", "gunicorn.access"))


def child_exit(server, worker):
    """A dead worker's live gauges leave the multiprocess files (its counters stay in the sums)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
