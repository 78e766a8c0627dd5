"""The process's pooled HTTP session for Zoom, and the one place that maps transport failures.

A `requests.Session` must not cross a fork (its pooled sockets would be shared by parent and child), so
the session is keyed by pid and rebuilt in a forked child (Celery prefork, gunicorn workers).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter

from shared.settings import Settings
from shared.zoom.errors import ZoomTransientError

POOL_SIZE = 32

_session: tuple[int, requests.Session] | None = None


def process_session() -> requests.Session:
    global _session
    current = _session
    if current is None or current[0] != os.getpid():
        current = (os.getpid(), _new_session())
        _session = current
    return current[1]


def _new_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def timeouts(settings: Settings) -> tuple[float, float]:
    return settings.zoom_timeout_connect, settings.zoom_timeout_read


def send(call: Callable[[], requests.Response], what: str) -> requests.Response:
    """Run one HTTP exchange; timeouts and connection failures become `ZoomTransientError`."""
    try:
        return call()
    except requests.Timeout as exc:
        raise ZoomTransientError(f"{what}: timed out ({type(exc).__name__})") from exc
    except requests.RequestException as exc:
        raise ZoomTransientError(f"{what}: {type(exc).__name__}") from exc
