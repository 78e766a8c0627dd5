"""A per-teacher daily budget of Zoom meeting writes on a shared host (SHARED_HOST_TEACHER_DAILY_WRITES).

Zoom lets one host create/update 100 meetings a day. Every teacher without a linked Zoom user shares
ZOOM_DEFAULT_HOST_USER, so without a budget one teacher could spend the whole day's allowance for all.
A write is one segment (one Zoom recurring meeting) to create or update. Counters live in Redis, one
hash per host and UTC day (teacher id -> writes), charged atomically before the work is enqueued.
The API passes its own settings (the default host and the limit) in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import redis

from shared.access import is_shared_host
from shared.models import Role, User
from shared.redis_client import get_redis
from shared.settings import Settings
from shared.zoom.recurrence import Schedule, plan_segments

PREFIX = "zoom-writes:"
KEEP_SECONDS = 2 * 86400

# KEYS[1] the host's hash for today; ARGV: teacher id, writes, limit, ttl. Returns {charged 0|1, used}.
_CHARGE = """
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local writes, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
if used + writes > limit then return {0, used} end
used = redis.call('HINCRBY', KEYS[1], ARGV[1], writes)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {1, used}
"""


@dataclass(frozen=True)
class Budget:
    host: str
    limit: int
    used: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def _key(host: str, day: date | None = None) -> str:
    return f"{PREFIX}{(day or datetime.now(UTC).date()).isoformat()}:{host.strip().casefold()}"


def writes_for(schedule: Schedule, after: datetime | None = None) -> int:
    """Zoom writes a (re)plan of this schedule costs: one per segment from `after` on."""
    return len(plan_segments(schedule, after=after or datetime.now(UTC)))


def shared_host_of(user: User, settings: Settings) -> str | None:
    """The shared Zoom user a teacher's halakat are created on, or None (own Zoom user, or none)."""
    host = user.zoom_user_id or settings.zoom_default_host_user
    if user.role != Role.teacher or not host or not is_shared_host(user.zoom_user_id, host):
        return None
    return host


def used(host: str, teacher_id: int, client: redis.Redis | None = None) -> int:
    return int((client or get_redis()).hget(_key(host), str(teacher_id)) or 0)


def charge(
    host: str, teacher_id: int, writes: int, settings: Settings, client: redis.Redis | None = None
) -> tuple[bool, Budget]:
    """Take `writes` from the teacher's budget on `host` today; (False, unchanged budget) if it would
    go over."""
    limit = settings.shared_host_teacher_daily_writes
    charged, now_used = (client or get_redis()).eval(
        _CHARGE, 1, _key(host), str(teacher_id), str(writes), str(limit), str(KEEP_SECONDS)
    )
    return bool(charged), Budget(host, limit, int(now_used))


def budget_of(user: User, settings: Settings) -> Budget | None:
    """What `/auth/me` shows a teacher on a shared host; None for everyone else."""
    host = shared_host_of(user, settings)
    if host is None:
        return None
    return Budget(host, settings.shared_host_teacher_daily_writes, used(host, user.id))


def writes_today(client: redis.Redis | None = None) -> dict[str, int]:
    """Zoom writes charged today per shared host, all teachers together (for admins)."""
    client = client or get_redis()
    prefix = _key("")
    totals = {}
    for key in client.scan_iter(match=prefix + "*", count=500):
        name = key.decode() if isinstance(key, bytes) else key
        totals[name[len(prefix) :]] = sum(int(v) for v in client.hvals(key))
    return totals
