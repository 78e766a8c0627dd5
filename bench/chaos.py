"""`make chaos`: halakat created while a worker is SIGKILLed twice, Redis restarts once, and Zoom answers
20% errors with a long outage in the middle. At the end every halaka must be `ready` with exactly one
Zoom meeting per segment: nothing lost, nothing duplicated. Prints the counts.

`make test` runs a shorter form (tests/integration/test_chaos.py).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from bench.provisioning import wait_settled
from bench.stack import BenchStack, schedule
from shared.zoom.payloads import key_from_agenda

CHAOS_ENV = {
    "PROVISION_BACKOFF_BASE": "0.5",
    "PROVISION_BACKOFF_CAP": "5",
    "PROVISION_MAX_ATTEMPTS": "200",
    "RECONCILE_STALE_SECONDS": "10",
    "RECONCILE_INTERVAL_SECONDS": "2",
    "ZOOM_TIMEOUT_READ": "5",
}


@dataclass
class Report:
    requested: int
    created: int = 0
    create_retries: int = 0
    statuses: Counter = field(default_factory=Counter)
    segments_in_db: int = 0
    meetings_on_zoom: int = 0
    duplicates: int = 0
    orphans: int = 0
    missing: int = 0
    events: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.created == self.requested
            and self.statuses == Counter({"ready": self.requested})
            and self.duplicates == 0
            and self.orphans == 0
            and self.missing == 0
            and self.segments_in_db == self.meetings_on_zoom
        )

    def lines(self) -> list[str]:
        return [
            f"halakat requested {self.requested}, created (201) {self.created}, "
            f"create retries {self.create_retries}",
            f"final zoomStatus: {dict(self.statuses)}",
            f"segments in db {self.segments_in_db}, meetings on zoom {self.meetings_on_zoom}, "
            f"duplicates {self.duplicates}, orphans {self.orphans}, missing {self.missing}",
            f"events: {'; '.join(self.events)}",
            f"took {self.seconds:.0f}s — {'PASS' if self.ok else 'FAIL'}",
        ]


def _schedule(i: int) -> dict:
    if i % 10 == 0:  # every tenth is daily for 60 days: two Zoom meetings (50 + 10)
        return schedule("daily", [], "07:30", 60, "Asia/Riyadh", duration=45)
    return schedule("weekly", ["sunday", "tuesday"], "17:00", 28, "Africa/Cairo")


def _create_all(url: str, token: str, n: int, pace_seconds: float, report: Report) -> None:
    """A careful client: retries 503s and connection errors, so nothing it sends is lost."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(n):
        while True:
            try:
                r = session.post(
                    f"{url}/api/v1/halaka/",
                    json={"title": f"Chaos {i}", "schedule": _schedule(i)},
                    headers=headers,
                    timeout=10,
                )
                if r.status_code == 201:
                    report.created += 1
                    break
                if r.status_code not in (502, 503, 504):
                    raise RuntimeError(f"create answered {r.status_code}: {r.text[:200]}")
            except requests.ConnectionError:
                session = requests.Session()
            report.create_retries += 1
            time.sleep(0.5)
        time.sleep(pace_seconds / n)


def _verify(stack: BenchStack, report: Report) -> None:
    report.statuses = Counter(
        dict(stack.sql("SELECT zoom_status, count(*) FROM halakat GROUP BY zoom_status"))
    )
    rows = stack.sql(
        "SELECT h.provisioning_key, m.segment_index, m.meeting_id FROM zoom_meetings m "
        "JOIN halakat h ON h.id = m.halaka_id"
    )
    report.segments_in_db = len(rows)
    expected = {f"{key}.{segment}": meeting_id for key, segment, meeting_id in rows}
    on_zoom: dict[str, list[int]] = {}
    for meeting in stack.sandbox.meetings():
        key = key_from_agenda(meeting.get("agenda"))
        halaka_key, _version, segment = (key or "?.?.?").rsplit(".", 2)
        on_zoom.setdefault(f"{halaka_key}.{segment}", []).append(int(meeting["id"]))
    report.meetings_on_zoom = sum(len(ids) for ids in on_zoom.values())
    report.duplicates = sum(len(ids) - 1 for ids in on_zoom.values() if len(ids) > 1)
    report.orphans = sum(1 for key in on_zoom if key not in expected)
    report.missing = sum(1 for key, mid in expected.items() if mid not in on_zoom.get(key, []))


def run(
    n: int = 500,
    outage: float = 30.0,
    error_rate: float = 0.2,
    pace: float = 20.0,
    timeout: float = 900.0,
    progress=print,
) -> Report:
    report = Report(requested=n)
    with BenchStack(extra_env=CHAOS_ENV, redis_persist=True) as stack:
        stack.sandbox.config(error_rate=error_rate, daily_limit=1_000_000, seed=11)
        _api, url = stack.api(API_WORKERS="2")
        workers = stack.workers(2, concurrency=2)
        stack.role("beat")
        stack.make_user("teacher", "chaos-teacher@example.com")
        token = stack.login(url, "chaos-teacher@example.com")
        started = time.monotonic()
        creator = threading.Thread(target=_create_all, args=(url, token, n, pace, report), daemon=True)
        creator.start()

        def event(at: float, what: str, action) -> None:
            time.sleep(max(0.0, at - (time.monotonic() - started)))
            action()
            report.events.append(f"{time.monotonic() - started:.0f}s {what}")
            progress(f"  chaos: {report.events[-1]} (created {report.created}/{n})")

        def kill_and_restart(index: int) -> None:
            workers[index].kill()
            time.sleep(1)
            workers[index].start()

        event(pace * 0.2, "SIGKILL worker 1 and restart", lambda: kill_and_restart(0))
        event(pace * 0.45, "Redis restarted", stack.restart_redis)
        event(pace * 0.6, f"Zoom outage for {outage:.0f}s", lambda: stack.sandbox.config(outage=True))
        event(pace * 0.6 + outage / 2, "SIGKILL worker 2 and restart", lambda: kill_and_restart(1))
        event(pace * 0.6 + outage, "Zoom back (still 20% errors)", lambda: stack.sandbox.config(outage=False))
        creator.join(timeout)
        wait_settled(
            stack,
            n,
            max(0.0, started + timeout - time.monotonic()),
            interval=5,
            progress=lambda counts: progress(f"  chaos: {time.monotonic() - started:.0f}s {counts}"),
        )
        _verify(stack, report)
    report.seconds = time.monotonic() - started
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--outage", type=float, default=30.0)
    args = parser.parse_args()
    report = run(args.n, args.outage)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
