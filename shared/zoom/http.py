"""The process's pooled HTTP session for Zoom, and the one place that maps transport failures.

A `requests.Session` must not cross a fork (its pooled sockets would be shared by parent and child), so
a forked child builds its own (`shared.forks`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import requests
from requests.adapters import HTTPAdapter

from shared.forks import after_fork_in_child
from shared.settings import Settings
from shared.zoom.errors import ZoomTransientError

POOL_SIZE = 32


@lru_cache(maxsize=1)
def process_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


after_fork_in_child(process_session.cache_clear)


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
