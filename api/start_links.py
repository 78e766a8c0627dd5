"""Start links (`start_url`), fetched from Zoom when asked for, never stored at rest.

A start link carries the host's ZAK ("anyone with this URL will be able to login to the Zoom Client as
the host") and expires two hours after Zoom generates it, so none is kept in the database. `fresh`
asks Zoom (`GET /meetings/{id}`) every time (`POST /halaka/{id}/start`); `recent` serves the halaka
view from a small per-process memory cache younger than START_URL_MAX_AGE_SECONDS (90 minutes), so a
host reloading a page does not spend the account's Zoom budget and never sees an expired link.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cachetools import TTLCache

from api.extensions import app_settings
from shared.zoom.client import get_zoom_client
from shared.zoom.errors import ZoomError

log = logging.getLogger(__name__)
ZOOM_START_URL_LIFETIME = timedelta(
    hours=2
)  # Zoom's spec: the start_url expires two hours after it's generated
CACHE_SIZE = 1024


@dataclass(frozen=True)
class StartLink:
    url: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"StartLink(expires_at={self.expires_at.isoformat()})"  # never the link


_cache: TTLCache | None = None
_lock = threading.Lock()


def _recent_cache() -> TTLCache:
    global _cache
    with _lock:
        if _cache is None:
            _cache = TTLCache(CACHE_SIZE, app_settings().start_url_max_age_seconds, timer=time.monotonic)
        return _cache


def fresh(meeting_id: int) -> StartLink:
    """A start link Zoom generated just now (raises ZoomError)."""
    meeting = get_zoom_client().get_meeting(meeting_id)
    url = meeting.get("start_url")
    if not isinstance(url, str) or not url:
        raise ZoomError("Zoom returned the meeting without a start_url")
    link = StartLink(url, datetime.now(UTC) + ZOOM_START_URL_LIFETIME)
    cache = _recent_cache()
    with _lock:
        cache[meeting_id] = link
    return link


def recent(meeting_id: int) -> StartLink | None:
    """A start link younger than the configured age, fetched if needed; None when Zoom cannot be reached
    (the halaka is still shown, without it)."""
    cache = _recent_cache()
    with _lock:
        link = cache.get(meeting_id)
    if link is not None:
        return link
    try:
        return fresh(meeting_id)
    except ZoomError as exc:
        log.warning("start link unavailable", extra={"meeting_id": meeting_id, "error": type(exc).__name__})
        return None


def forget_all() -> None:
    """Drop remembered links (tests; a process that changed START_URL_MAX_AGE_SECONDS)."""
    global _cache
    with _lock:
        _cache = None
