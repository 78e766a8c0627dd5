"""What planning a schedule costs per request: the slowest accepted and the slowest refused schedule for
`POST /halaka/`, `PATCH /halaka/{id}` and `GET /halaka/{id}/sessions` (the bar: every accepted or
refused schedule costs milliseconds).

python -m bench.schedules [--repeat N]     (this part only; `make bench` runs it with the others)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import requests

from bench.report import print_table
from bench.stack import BenchStack, schedule

ALL_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


#: Accepted: the largest schedules the bounds allow, in zones with DST.
ACCEPTED = {
    "daily, 1,000 sessions": schedule("daily", [], "23:30", 1000, "America/New_York"),
    "weekly all 7 days, 1,000 sessions": schedule("weekly", ALL_DAYS, "02:30", 1000, "America/New_York"),
    "biweekly 3 days, 5 years": schedule(
        "biweekly", ["sunday", "monday", "friday"], "07:00", 1827, "Africa/Cairo"
    ),
    "monthly, 5 years": schedule("monthly", [], "09:00", 1827, "Europe/London"),
    "weekly, started 366 days ago": {
        **schedule("weekly", ["monday"], "17:00", 700, "Africa/Cairo"),
        "startDate": _day(-366),
    },
}
#: Refused: the hostile inputs of issue 9 (each once cost seconds, hundreds of MB or a 500).
REFUSED = {
    "weekly all 7 days to 9999-12-31": {
        **schedule("weekly", ALL_DAYS, "17:00", 10, "UTC"),
        "endDate": "9999-12-31",
    },
    "daily to 9999-12-31, New York": {
        **schedule("daily", [], "23:00", 10, "America/New_York"),
        "endDate": "9999-12-31",
    },
    "startDate 0001-01-02": {**schedule("daily", [], "17:00", 10, "UTC"), "startDate": "0001-01-02"},
    "startDate in 9999": {
        **schedule("daily", [], "17:00", 2, "UTC"),
        "startDate": "9999-12-30",
        "endDate": "9999-12-31",
    },
    "daily, 1,001 sessions": schedule("daily", [], "17:00", 1001, "UTC"),
    "daily, 5 years": schedule("daily", [], "17:00", 1827, "UTC"),
}
#: Stored before the bounds existed (written straight to the database): the sessions list must stay cheap.
STORED = {
    "daily 0001-01-02 to 9999-12-31, New York": ("daily", "0001-01-02", "9999-12-31", "America/New_York")
}


def _timed(call, repeat: int) -> tuple[float, int]:
    """Median milliseconds of `repeat` calls and the status of the last one."""
    times, status = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        status = call().status_code
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), status


def run(progress, repeat: int = 5) -> list[dict]:
    with BenchStack() as stack:
        _api, url = stack.api()
        stack.make_user("teacher", "bench-schedules@example.com")
        stack.sql(
            "UPDATE users SET zoom_user_id = 'host@example.com' WHERE email = 'bench-schedules@example.com'"
        )
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {stack.login(url, 'bench-schedules@example.com')}"
        api = f"{url}/api/v1/halaka"
        base = session.post(
            f"{api}/", json={"title": "base", "schedule": schedule("weekly", ["monday"], "17:00", 30, "UTC")}
        )
        base.raise_for_status()
        base_id = base.json()["data"]["id"]
        measured: list[dict] = []

        def record(request: str, verdict: str, name: str, ms: float, status: int) -> None:
            measured.append(
                {"request": request, "verdict": verdict, "schedule": name, "ms": ms, "status": status}
            )
            progress(f"  {request} {verdict} {name}: {ms:.1f} ms ({status})")

        for verdict, cases in (("accepted", ACCEPTED), ("refused", REFUSED)):
            for name, body in cases.items():
                ms, status = _timed(
                    lambda b=body, n=name: session.post(f"{api}/", json={"title": n, "schedule": b}), repeat
                )
                record("POST /halaka/", verdict, name, ms, status)
                ms, status = _timed(
                    lambda b=body: session.patch(f"{api}/{base_id}", json={"schedule": b}), repeat
                )
                record("PATCH /halaka/{id}", verdict, name, ms, status)
        ids = [h["id"] for h in session.get(f"{api}/?perPage=100&mine=true").json()["data"]["items"]]
        for halaka_id in ids:
            name = session.get(f"{api}/{halaka_id}").json()["data"]["title"]
            ms, status = _timed(lambda i=halaka_id: session.get(f"{api}/{i}/sessions?limit=500"), repeat)
            record("GET /halaka/{id}/sessions?limit=500", "accepted", name, ms, status)
        for name, (frequency, start, end, zone) in STORED.items():
            stack.sql(
                "UPDATE halakat SET frequency = %s, days = '{}', start_date = %s, end_date = %s,"
                " timezone = %s WHERE id = %s",
                frequency,
                start,
                end,
                zone,
                base_id,
            )
            ms, status = _timed(lambda: session.get(f"{api}/{base_id}/sessions?limit=500"), repeat)
            record("GET /halaka/{id}/sessions?limit=500", "stored before the bounds", name, ms, status)
    return _slowest(measured)


def _slowest(measured: list[dict]) -> list[dict]:
    rows = []
    for key in dict.fromkeys((m["request"], m["verdict"]) for m in measured):
        group = [m for m in measured if (m["request"], m["verdict"]) == key]
        worst = max(group, key=lambda m: m["ms"])
        rows.append(
            {
                "request": key[0],
                "schedules": f"{len(group)} {key[1]}",
                "slowest": worst["schedule"],
                "median of that one (ms)": round(worst["ms"], 1),
                "statuses": ", ".join(sorted({str(m["status"]) for m in group})),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    started = time.monotonic()
    rows = run(lambda line: print(f"[{time.monotonic() - started:5.0f}s] {line}", flush=True), args.repeat)
    print_table("Schedule planning per request", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
