"""The one place that talks HTTP to the Zoom API: meetings and the host's ZAK.

Every call takes a slot from the shared rate budget first, carries the shared OAuth token, and turns
failures into typed errors (`shared.zoom.errors`). The client retries only one thing itself: a 401 with
code 124 (token expired or revoked) is answered by dropping the token, refreshing once and retrying once.
Everything else goes back to the caller, whose task decides about backoff.

Logs (logger `shared.zoom`) carry method, path template, status, Zoom's code and the `x-zm-trackingid`;
never tokens, headers, ZAKs, start URLs or request bodies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
import requests

from shared.forks import after_fork_in_child
from shared.metrics import record_budget_wait, record_rate_limited, record_zoom_response
from shared.redis_client import get_redis
from shared.settings import Settings, get_settings
from shared.zoom import own_writes
from shared.zoom.endpoints import (
    CREATE_MEETING,
    DELETE_MEETING,
    GET_MEETING,
    GET_ZAK,
    LIST_MEETINGS,
    UPDATE_MEETING,
    Endpoint,
)
from shared.zoom.errors import (
    CODE_INVALID_TOKEN,
    CODE_MEETING_NOT_FOUND,
    ZoomError,
    ZoomNotFound,
    ZoomRateLimited,
    ZoomTransientError,
    parse_error,
)
from shared.zoom.http import process_session, send, timeouts
from shared.zoom.oauth import TokenProvider
from shared.zoom.rate_budget import RateBudget, record_host_write

log = logging.getLogger("shared.zoom")

RequestHook = Callable[[str, str, Any], None]
"""Called as (method, path relative to the API base, JSON body or None) before every request sent."""

LIST_PAGE_SIZE = 300
DEFAULT_BUDGET_TIMEOUT = 30.0
DEFAULT_429_PAUSE = 1.0
MAX_SHARED_PAUSE = 60.0
"""A 429 pauses the category for every process for its Retry-After, but at most this long: longer
waits are the caller's backoff to honour, not a reason to stop everybody else's work."""


class ZoomClient:
    def __init__(
        self,
        settings: Settings,
        redis_client: redis.Redis,
        *,
        rate_budget: RateBudget | None = None,
        tokens: TokenProvider | None = None,
        on_request: RequestHook | None = None,
        budget_timeout: float = DEFAULT_BUDGET_TIMEOUT,
    ) -> None:
        self._settings = settings
        self._redis = redis_client
        self._base_url = settings.zoom_api_base_url.rstrip("/")
        self._budget = rate_budget or RateBudget.from_settings(settings, redis_client)
        self._tokens = tokens or TokenProvider(settings, redis_client)
        self._budget_timeout = budget_timeout
        self._redis = redis_client
        self.on_request = on_request

    def create_meeting(self, user_id: str, payload: Mapping[str, Any]) -> dict:
        """`POST /users/{userId}/meetings` (201). Not idempotent: a retry after a timeout may duplicate."""
        meeting = _json_object(self._request(CREATE_MEETING, {"userId": user_id}, body=payload))
        self._count_write(user_id)
        return meeting

    def get_meeting(self, meeting_id: int | str) -> dict:
        return _json_object(self._request(GET_MEETING, {"meetingId": meeting_id}))

    def update_meeting(
        self, meeting_id: int | str, payload: Mapping[str, Any], host: str | None = None
    ) -> None:
        """`PATCH /meetings/{meetingId}` (204, no body): re-GET for the fresh fields. `host` (the meeting's
        host user) is counted in the hosts' daily writes."""
        own_writes.remember(self._redis, "update", meeting_id)
        self._request(UPDATE_MEETING, {"meetingId": meeting_id}, body=payload)
        if host:
            self._count_write(host)

    def _count_write(self, host: str) -> None:
        """Creates and updates count against the host's daily limit: tally them for the operators."""
        try:
            record_host_write(self._redis, host)
        except redis.RedisError:
            log.debug("host write not counted")

    def delete_meeting(self, meeting_id: int | str) -> bool:
        """True when deleted now, False when Zoom says it does not exist (3001): already gone."""
        own_writes.remember(self._redis, "delete", meeting_id)
        try:
            self._request(DELETE_MEETING, {"meetingId": meeting_id})
        except ZoomNotFound as exc:
            if exc.code == CODE_MEETING_NOT_FOUND:
                return False
            raise
        return True

    def delete_occurrence(self, meeting_id: int | str, occurrence_id: str) -> None:
        """`DELETE /meetings/{meetingId}?occurrence_id=` without e-mails to the host or registrants. Zoom
        keeps the occurrence in `occurrences` with `status: "deleted"`. Not remembered as a deletion of
        the meeting (the `meeting.deleted` echo names the occurrence)."""
        query = {
            "occurrence_id": occurrence_id,
            "schedule_for_reminder": "false",
            "cancel_meeting_reminder": "false",
        }
        self._request(DELETE_MEETING, {"meetingId": meeting_id}, query=query)

    def update_occurrence(
        self, meeting_id: int | str, occurrence_id: str, payload: Mapping[str, Any], host: str | None = None
    ) -> None:
        """`PATCH /meetings/{meetingId}?occurrence_id=` (204): only that occurrence changes."""
        own_writes.remember(self._redis, "update", meeting_id)
        self._request(
            UPDATE_MEETING, {"meetingId": meeting_id}, query={"occurrence_id": occurrence_id}, body=payload
        )
        if host:
            self._count_write(host)

    def list_meetings(self, user_id: str, type: str = "scheduled") -> Iterator[dict]:
        """Every meeting of the host, following `next_page_token` (one Medium call per page)."""
        query: dict[str, Any] = {"type": type, "page_size": LIST_PAGE_SIZE}
        while True:
            page = _json_object(self._request(LIST_MEETINGS, {"userId": user_id}, query=query))
            yield from page.get("meetings") or []
            next_token = page.get("next_page_token")
            if not next_token:
                return
            query = {**query, "next_page_token": next_token}

    def get_zak(self, user_id: str) -> str:
        """The host's ZAK (`GET /users/{userId}/token?type=zak`), for starting meetings as host."""
        data = _json_object(self._request(GET_ZAK, {"userId": user_id}, query={"type": "zak"}))
        zak = data.get("token")
        if not isinstance(zak, str) or not zak:
            raise ZoomTransientError(f"zoom {GET_ZAK}: answer without a token")
        return zak

    def _request(
        self,
        endpoint: Endpoint,
        path_params: Mapping[str, object],
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        call = _Call(endpoint, endpoint.path(path_params), query, body)
        try:
            response = self._exchange(call)
        except ZoomError as error:
            _log_failure(call, error)
            raise
        except redis.RedisError as exc:
            unavailable = ZoomTransientError(f"token store / rate budget unavailable: {type(exc).__name__}")
            _log_failure(call, unavailable)
            raise unavailable from exc
        return response

    def _exchange(self, call: _Call) -> requests.Response:
        token = self._tokens.token()
        response = self._send(call, token)
        if _is_invalid_token(response):
            response = self._send(call, self._tokens.replace(token))
        if response.ok:
            return response
        error = parse_error(response.status_code, response.headers, response.content)
        if error.status == 401 and error.code == CODE_INVALID_TOKEN:
            error.permanent = False  # a second 124 right after a refresh: Zoom's side, worth a retry later
        if isinstance(error, ZoomRateLimited):
            record_rate_limited(call.category, error.daily)
        if isinstance(error, ZoomRateLimited) and not error.daily:
            pause = DEFAULT_429_PAUSE if error.retry_after is None else error.retry_after
            # clamped like the retry itself: an absurd Retry-After (1e12, year 9999) pauses no longer
            self._budget.pause(
                call.category, min(pause, MAX_SHARED_PAUSE, self._settings.provision_backoff_cap)
            )
        raise error

    def _send(self, call: _Call, token: str) -> requests.Response:
        if self.on_request is not None:
            self.on_request(call.method, call.path, call.body)
        record_budget_wait(call.category, self._budget.acquire(call.category, self._budget_timeout))
        started = time.perf_counter()
        status: int | str = "error"
        try:
            response = self._http(call, token)
            status = response.status_code
        finally:
            elapsed = time.perf_counter() - started
            record_zoom_response(call.method, call.template, call.category, status, elapsed)
        return response

    def _http(self, call: _Call, token: str) -> requests.Response:
        return send(
            lambda: process_session().request(
                call.method,
                self._base_url + call.path,
                params=call.query,
                json=call.body,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=timeouts(self._settings),
            ),
            f"zoom {call.method} {call.template}",
        )


@dataclass(frozen=True)
class _Call:
    endpoint: Endpoint
    path: str  # concrete, relative to the API base
    query: Mapping[str, Any] | None
    body: Mapping[str, Any] | None

    @property
    def method(self) -> str:
        return self.endpoint.method

    @property
    def template(self) -> str:
        return self.endpoint.template

    @property
    def category(self) -> str:
        return self.endpoint.category


def _is_invalid_token(response: requests.Response) -> bool:
    if response.status_code != 401:
        return False
    return parse_error(401, response.headers, response.content).code == CODE_INVALID_TOKEN


def _json_object(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ZoomTransientError("zoom answered 2xx without a JSON object", response.status_code)
    return data


def _log_failure(call: _Call, error: ZoomError) -> None:
    level = logging.INFO if isinstance(error, ZoomNotFound) else logging.WARNING
    log.log(
        level,
        "zoom %s %s failed: %s (%s)",
        call.method,
        call.template,
        error.message,
        type(error).__name__,
        extra={"zoom_status": error.status, "zoom_code": error.code, "tracking_id": error.tracking_id},
    )


@lru_cache(maxsize=1)
def get_zoom_client() -> ZoomClient:
    """This process's client (a forked child builds its own: `shared.forks`), from the environment."""
    return ZoomClient(get_settings(), get_redis())


after_fork_in_child(get_zoom_client.cache_clear)
