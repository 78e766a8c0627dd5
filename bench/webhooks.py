"""Webhook intake: every signed event stored and acknowledged within Zoom's 3 s while the webhook
worker is stopped (requests/s, p50/p99/max), then the backlog drained once it starts.

Each request is a distinct `meeting.participant_joined` (its own body, so none is a duplicate) of one
platform meeting, signed like Zoom; the API is the production server (`stack.entry api`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from bench.loadgen import LoadResult, _read_response
from bench.stack import BenchStack
from shared.zoom.webhook_signature import signature

SECRET = "bench-webhook-secret-token"
MEETING_ID = 81_000_000_001
ZOOM_ACK_SECONDS = 3.0


def _seed(stack: BenchStack) -> datetime:
    """One ready halaka with one meeting, straight in the database (no Zoom needed)."""
    teacher = stack.make_user("teacher", "webhook-teacher@example.com")
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    (halaka,) = stack.sql(
        "INSERT INTO halakat (title, description, teacher_id, frequency, days, start_time, duration,"
        " start_date, end_date, timezone, zoom_status, zoom_host, provisioning_key, schedule_version,"
        " applied_version, attempts, create_pending) VALUES ('Bench', '', %s, 'daily', '{}', '15:00', 60,"
        " %s, %s, 'UTC', 'ready', 'host@example.com', 'bench-key', 1, 1, 0, false) RETURNING id",
        teacher,
        start.date(),
        start.date() + timedelta(days=9),
    )[0]
    stack.sql(
        "INSERT INTO zoom_meetings (halaka_id, segment_index, meeting_id, first_start, last_start,"
        " occurrence_count, occurrence_ids, version) VALUES (%s, 0, %s, %s, %s, 10, '{}', 1)",
        halaka,
        MEETING_ID,
        start,
        start + timedelta(days=9),
    )
    return start


def _event(n: int, start: datetime) -> bytes:
    join = (start + timedelta(seconds=n % 3600)).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "event": "meeting.participant_joined",
        "event_ts": int(start.timestamp() * 1000) + n,
        "payload": {
            "account_id": "bench",
            "object": {
                "id": str(MEETING_ID),
                "uuid": "bench-instance==",
                "host_id": "h",
                "type": 8,
                "duration": 60,
                "participant": {
                    "user_id": str(n),
                    "user_name": f"Guest {n}",
                    "participant_uuid": f"P{n}",
                    "email": "",
                    "join_time": join,
                },
            },
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


def _request(url: str, body: bytes) -> bytes:
    parts = urlsplit(url)
    ts = str(int(time.time()))
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: keep-alive\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"x-zm-request-timestamp: {ts}\r\nx-zm-signature: {signature(SECRET, ts, body)}\r\n\r\n"
    )
    return head.encode() + body


def _send_all(url: str, bodies: list[bytes], concurrency: int) -> LoadResult:
    parts = urlsplit(url)
    pending = list(reversed(bodies))

    async def client(result: LoadResult) -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while pending:
                request = _request(url, pending.pop())
                started = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.requests += 1
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status != 200:
                    result.errors += 1
        finally:
            writer.close()

    async def main() -> LoadResult:
        result = LoadResult(0, 0, 0.0, [], {})
        start = time.perf_counter()
        await asyncio.gather(*(client(result) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - start
        return result

    return asyncio.run(main())


def intake(
    progress: Callable[[str], object] = print, events: int = 2000, concurrency: int = 32
) -> list[dict]:
    with BenchStack({"ZOOM_WEBHOOK_SECRET_TOKEN": SECRET}) as stack:
        start = _seed(stack)
        _, base = stack.api()
        url = base + "/api/v1/zoom/webhook"
        _send_all(url, [_event(-1 - i, start) for i in range(50)], 4)  # warm-up (distinct events too)
        progress(f"webhooks: {events} events, {concurrency} connections, webhook worker stopped")
        result = _send_all(url, [_event(i, start) for i in range(events)], concurrency)
        stored = stack.sql("SELECT count(*) FROM webhook_events")[0][0] - 50
        progress("webhooks: starting the webhook worker to drain the backlog")
        began = time.monotonic()
        stack.role("webhook-worker", WEBHOOK_WORKER_CONCURRENCY="2")
        deadline, first = began + 600, None
        total = events + 50
        while time.monotonic() < deadline:
            waiting = stack.sql("SELECT count(*) FROM webhook_events WHERE processed_at IS NULL")[0][0]
            if first is None and waiting < total:
                first, first_done = time.monotonic(), total - waiting
            if waiting == 0:
                break
            time.sleep(0.25)
        now = time.monotonic()
        drained = now - began
        rate = (total - first_done) / (now - first) if first and now > first else float("nan")
        intervals = stack.sql("SELECT count(*) FROM attendance_intervals")[0][0]
    worst = max(result.latencies) if result.latencies else float("nan")
    return [
        {
            "phase": "intake, webhook worker stopped",
            "events": events,
            "connections": concurrency,
            "req/s": f"{result.rps:.0f}",
            "p50 ms": f"{result.percentile(50):.1f}",
            "p99 ms": f"{result.percentile(99):.1f}",
            "max ms": f"{worst * 1000:.0f}",
            "non-200": result.errors,
            "stored": stored,
            f"all acked < {ZOOM_ACK_SECONDS:.0f} s": "yes"
            if result.errors == 0 and worst < ZOOM_ACK_SECONDS
            else "NO",
        },
        {
            "phase": "backlog drained (worker -c 2)",
            "events": events + 50,
            "connections": "",
            "req/s": f"{rate:.0f} events/s" if waiting == 0 else "not drained",
            "p50 ms": "",
            "p99 ms": "",
            "max ms": f"{drained:.1f} s incl. worker start",
            "non-200": "",
            "stored": f"{intervals} intervals",
            f"all acked < {ZOOM_ACK_SECONDS:.0f} s": "",
        },
    ]


if __name__ == "__main__":
    import sys

    from bench.report import print_table

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print_table("Webhook intake", intake(events=n))
