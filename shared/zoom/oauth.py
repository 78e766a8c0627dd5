"""Server-to-Server OAuth access token: one per app, shared through Redis, refreshed by one process.

Zoom has invalidated older tokens when a new one is minted, so minting per process (or per request)
is wrong. The token lives in Redis under a key whose PX expiry is the moment to refresh (`expires_in`
minus a margin), so "present" means "good to use" without comparing clocks across hosts.

Refresh is single-flight: whoever finds the key missing tries a Redis lock (SET NX with a timeout, so a
crashed holder cannot block the rest for long); the winner re-checks the key, asks Zoom, stores the
token and releases; everybody else polls the key and reuses what the winner stored. Each process also
keeps a copy until the Redis key's own expiry, so the hot path costs no Redis round trip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
import requests
from redis.exceptions import LockError

from shared.metrics import record_oauth
from shared.settings import Settings
from shared.zoom.errors import ZoomAuthError, ZoomConfigError, ZoomError, ZoomTransientError, parse_error
from shared.zoom.http import process_session, send, timeouts

log = logging.getLogger("shared.zoom")

REFRESH_MARGIN = 60.0
"""Refresh this many seconds before expiry (at most a tenth of the lifetime, for short-lived tokens)."""

POLL_INTERVAL = 0.05

_COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class Credentials:
    account_id: str
    client_id: str
    client_secret: str = field(default="", repr=False)


def credentials_from(settings: Settings) -> Credentials:
    """The app's credentials, or `ZoomConfigError` naming every missing variable (never a value)."""
    secret = settings.zoom_client_secret.get_secret_value() if settings.zoom_client_secret else ""
    values = {
        "ZOOM_ACCOUNT_ID": settings.zoom_account_id or "",
        "ZOOM_CLIENT_ID": settings.zoom_client_id or "",
        "ZOOM_CLIENT_SECRET": secret,
    }
    missing = [name for name, value in values.items() if not value.strip()]
    if missing:
        raise ZoomConfigError(f"Zoom credentials missing: set {', '.join(missing)}")
    return Credentials(values["ZOOM_ACCOUNT_ID"], values["ZOOM_CLIENT_ID"], values["ZOOM_CLIENT_SECRET"])


@dataclass(frozen=True)
class _Cached:
    token: str
    refresh_at: float


def refresh_margin(expires_in: float) -> float:
    return min(REFRESH_MARGIN, expires_in / 10)


class TokenProvider:
    def __init__(
        self,
        settings: Settings,
        client: redis.Redis,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._redis = client
        self._clock = clock
        self._sleep = sleep
        connect, read = timeouts(settings)
        self._lock_ttl = connect + read + 5.0
        self._wait_timeout = 2 * self._lock_ttl
        key = f"zoom:oauth:{settings.zoom_client_id or 'unset'}"
        self._token_key = f"{key}:token"
        self._lock_key = f"{key}:lock"
        self._compare_and_delete = client.register_script(_COMPARE_AND_DELETE)
        self._local: _Cached | None = None

    def token(self) -> str:
        """A valid access token: the process copy, else Redis, else a single-flight refresh."""
        cached = self._local
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.token
        return self._shared_or_refresh()

    def replace(self, rejected: str) -> str:
        """A token other than `rejected`, which Zoom just refused with 124 (expired or revoked).

        Drops `rejected` here and in Redis (unless another process already replaced it), then never
        hands it out again: a thread that read it from Redis just before the delete may still store
        it as the process copy, so "the copy" alone cannot be trusted to be fresh.
        """
        cached = self._local
        if cached is not None and cached.token != rejected and self._clock() < cached.refresh_at:
            return cached.token
        self._compare_and_delete(keys=[self._token_key], args=[rejected])
        return self._shared_or_refresh(rejected)

    def _shared_or_refresh(self, rejected: str | None = None) -> str:
        credentials = credentials_from(self._settings)
        deadline = self._clock() + self._wait_timeout
        lock = self._redis.lock(self._lock_key, timeout=self._lock_ttl, thread_local=False)
        while True:
            token = self._read_shared(rejected)
            if token is not None:
                return token
            if lock.acquire(blocking=False):
                try:
                    return self._read_shared(rejected) or self._refresh(credentials)
                finally:
                    _release(lock)
            if self._clock() >= deadline:
                raise ZoomTransientError("timed out waiting for another process to refresh the Zoom token")
            self._sleep(POLL_INTERVAL)

    def _read_shared(self, rejected: str | None) -> str | None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(self._token_key)
        pipe.pttl(self._token_key)
        value, pttl = pipe.execute()
        if value is None or pttl <= 0:
            return None
        token = value.decode() if isinstance(value, bytes) else value
        if token == rejected:
            return None
        self._local = _Cached(token, self._clock() + pttl / 1000)
        return token

    def _refresh(self, credentials: Credentials) -> str:
        token, expires_in = self._request_token(credentials)
        ttl = expires_in - refresh_margin(expires_in)
        self._redis.set(self._token_key, token, px=max(1, int(ttl * 1000)))
        self._local = _Cached(token, self._clock() + ttl)
        log.info("zoom access token refreshed", extra={"expires_in": expires_in})
        return token

    def _request_token(self, credentials: Credentials) -> tuple[str, float]:
        try:
            response = send(
                lambda: process_session().post(
                    self._settings.zoom_oauth_url,
                    data={"grant_type": "account_credentials", "account_id": credentials.account_id},
                    auth=(credentials.client_id, credentials.client_secret),
                    timeout=timeouts(self._settings),
                ),
                "zoom oauth",
            )
        except ZoomTransientError:
            record_oauth("error")
            raise
        record_oauth(response.status_code)
        if not response.ok:
            raise _oauth_error(response)
        try:
            data = response.json()
            token, expires_in = data["access_token"], float(data["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise ZoomTransientError("zoom oauth: malformed token response", response.status_code) from None
        if not isinstance(token, str) or not token or expires_in <= 0:
            raise ZoomTransientError("zoom oauth: malformed token response", response.status_code)
        return token, expires_in


def _oauth_error(response: requests.Response) -> ZoomError:
    error = parse_error(response.status_code, response.headers, response.content)
    if 400 <= response.status_code < 500 and response.status_code != 429:
        error = ZoomAuthError(
            f"zoom oauth rejected the credentials: {error.message}",
            error.status,
            error.code,
            error.tracking_id,
        )
    log.warning(
        "zoom oauth failed",
        extra={"status": error.status, "code": error.code, "tracking_id": error.tracking_id},
    )
    return error


def _release(lock: redis.lock.Lock) -> None:
    try:
        lock.release()
    except LockError:
        log.warning("zoom token lock expired before release")
