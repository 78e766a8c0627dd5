"""One per-second budget per Zoom rate-limit category, shared by every process through Redis.

Every Zoom API call first takes a slot with `RateBudget.acquire(category)`, the category its entry in
`shared.zoom.endpoints` names. The slots are handed out by
a GCRA ("generic cell rate algorithm") evaluated atomically in one Lua script on Redis' own clock
(`TIME`), so any number of processes on any number of hosts stay under the account's limit.

Why not the `limits` package: its Redis moving window only says yes/no (no wait time), stamps entries
with each client's `time.time()`, takes integer amounts only, and has no notion of a shared pause.

Guarantee. With emission interval T = 1 / (safety * rate) and admission tolerance tau, two admissions
n slots apart are at least n*T - tau apart, so `rate` + 1 admissions span at least 1/safety - tau
seconds: more than one second. Zoom (and the sandbox) count requests per wall-clock second, so the
budget never admits more than `rate` in any one-second window, and what is left of the margin
(1/safety - 1 - tau, about 80 ms at the default 0.92) absorbs the jitter between admitting a request and
its arrival at Zoom. There is deliberately no burst allowance: a burst would put more than `rate`
requests into one second.

A 429 pauses the category for everyone: `pause()` sets a key with a PX expiry that the same script
checks first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import redis

from shared.settings import Settings
from shared.zoom.errors import ZoomRateLimited

DEFAULT_SAFETY = 0.92
"""Fraction of Zoom's limit the budget hands out; the rest is jitter margin (see module docstring).
0.92 keeps sustained throughput above 90% of the limit while leaving ~80 ms for jitter."""

MAX_TOLERANCE = 0.005
"""Admit a waiter up to this early (at most T/10) so oversleeping by a millisecond does not drift the
schedule; it is subtracted from the jitter margin."""

MIN_SLEEP = 0.0005

_ACQUIRE = """
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then
  return {pause * 1000, 2}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
  tat = now
end
local allow_at = tat - tolerance
if now < allow_at then
  return {allow_at - now, 1}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {0, 0}
"""

_PAUSE = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
end
return redis.call('PTTL', KEYS[1])
"""


class RateBudgetTimeout(ZoomRateLimited):
    """The local budget (not Zoom) could not grant a slot in time; `retry_after` says when it will."""

    def __init__(self, category: str, wait: float, paused: bool) -> None:
        reason = "paused after a 429" if paused else "fully used"
        super().__init__(
            f"Zoom '{category}' rate budget {reason}; next slot in {wait:.3f}s", status=None, retry_after=wait
        )
        self.category = category


class RateBudget:
    def __init__(
        self,
        client: redis.Redis,
        rates: Mapping[str, float],
        *,
        scope: str = "default",
        safety: float = DEFAULT_SAFETY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < safety <= 1:
            raise ValueError("safety must be in (0, 1]")
        self._redis = client
        self._prefix = f"zoom:rate:{scope}"
        self._intervals_us = {c: emission_interval_us(rate, safety) for c, rate in rates.items()}
        self._sleep = sleep
        self._clock = clock
        self._acquire_script = client.register_script(_ACQUIRE)
        self._pause_script = client.register_script(_PAUSE)

    @classmethod
    def from_settings(cls, settings: Settings, client: redis.Redis, **kwargs: Any) -> RateBudget:
        rates = {
            "light": settings.zoom_rate_light,
            "medium": settings.zoom_rate_medium,
            "heavy": settings.zoom_rate_heavy,
        }
        return cls(client, rates, scope=settings.zoom_account_id or "default", **kwargs)

    def try_acquire(self, category: str) -> tuple[float, bool]:
        """Take a slot now if one is free. Returns (seconds to wait before asking again, paused);
        (0.0, False) means the slot was taken."""
        interval = self._intervals_us[category]
        wait_us, reason = self._acquire_script(
            keys=[self._key(category, "tat"), self._key(category, "pause")],
            args=[interval, tolerance_us(interval)],
        )
        return wait_us / 1_000_000, reason == 2

    def acquire(self, category: str, timeout: float | None = None) -> float:
        """Block until a slot is taken; returns the seconds waited. Raises `RateBudgetTimeout` as soon
        as the next possible slot lies beyond `timeout`, without sleeping for nothing."""
        start = self._clock()
        deadline = None if timeout is None else start + timeout
        while True:
            wait, paused = self.try_acquire(category)
            if wait <= 0:
                return self._clock() - start
            if deadline is not None and self._clock() + wait > deadline:
                raise RateBudgetTimeout(category, wait, paused)
            self._sleep(max(wait, MIN_SLEEP))

    def pause(self, category: str, seconds: float) -> None:
        """Stop handing out slots of `category` for `seconds` (never shortens a longer pause)."""
        ms = max(1, math.ceil(seconds * 1000))
        self._pause_script(keys=[self._key(category, "pause")], args=[ms])

    def paused_for(self, category: str) -> float:
        return max(0, self._redis.pttl(self._key(category, "pause"))) / 1000

    def _key(self, category: str, part: str) -> str:
        return f"{self._prefix}:{category}:{part}"


def emission_interval_us(rate: float, safety: float = DEFAULT_SAFETY) -> int:
    """Microseconds between two slots; rounded up so the effective rate never exceeds safety*rate."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    return math.ceil(1_000_000 / (rate * safety))


def tolerance_us(interval_us: int) -> int:
    return min(interval_us // 10, round(MAX_TOLERANCE * 1_000_000))


# --- per-host daily writes ------------------------------------------------------------------------------

DAILY_WRITES_PER_HOST = 100
"""Zoom's limit of meeting creates and updates per host (user) per day, reset at 00:00 UTC."""
_HOST_WRITES_TTL = 2 * 24 * 3600


def host_writes_key(day: date) -> str:
    return f"zoom:host_writes:{day.isoformat()}"


def record_host_write(client: redis.Redis, host: str, now: datetime | None = None) -> None:
    """Count one successful create or update of `host`'s meetings in today's (UTC) tally."""
    key = host_writes_key((now or datetime.now(UTC)).date())
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(key, host.lower(), 1)
    pipe.expire(key, _HOST_WRITES_TTL)
    pipe.execute()


def host_writes_today(client: redis.Redis, now: datetime | None = None) -> dict[str, int]:
    """Each host's successful creates and updates today (UTC)."""
    raw = client.hgetall(host_writes_key((now or datetime.now(UTC)).date()))
    return {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in raw.items()}
