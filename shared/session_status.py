"""The one rule for a session's status in the sessions list and the attendance report.

A session is `cancelled` when it was cancelled (on the platform, or its occurrence deleted in Zoom),
`live` while a Zoom instance of it runs, `ended` once an instance ran and none still runs, else
`scheduled`.
"""

from __future__ import annotations

from collections.abc import Iterable

SCHEDULED, LIVE, ENDED, CANCELLED = "scheduled", "live", "ended", "cancelled"


def session_status(*, cancelled: bool, instance_statuses: Iterable[str] = ()) -> str:
    statuses = set(instance_statuses)
    if LIVE in statuses:
        return LIVE
    if ENDED in statuses:
        return ENDED
    if cancelled or CANCELLED in statuses:
        return CANCELLED
    return SCHEDULED
