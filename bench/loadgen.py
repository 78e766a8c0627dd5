"""A small keep-alive HTTP/1.1 load generator (asyncio streams): requests/s and latency percentiles.

One client process drives every server configuration the same way, so ratios between them are fair
even though the client shares the machine's cores with the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


def _request_bytes(method: str, url: str, body: dict | None, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [
        f"{method} {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Connection: keep-alive",
        f"Content-Length: {len(payload)}",
    ]
    if body is not None:
        lines.append("Content-Type: application/json")
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return status


async def _client(
    host: str, port: int, request: bytes, deadline: float, result: LoadResult, max_requests: int | None
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline and (max_requests is None or result.requests < max_requests):
            started = time.perf_counter()
            writer.write(request)
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status >= 400:
                result.errors += 1
    finally:
        writer.close()


def run_load(
    url: str,
    *,
    method: str = "POST",
    body: dict | None = None,
    headers: dict[str, str] | None = None,
    concurrency: int = 16,
    seconds: float = 5.0,
    warmup: float = 1.0,
    max_requests: int | None = None,
) -> LoadResult:
    """Hammer one URL with `concurrency` keep-alive connections for `seconds` (after a warm-up)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = _request_bytes(method, url, body, headers or {})

    async def main() -> LoadResult:
        if warmup:
            scratch = LoadResult(0, 0, 0.0, [], {})
            end = time.perf_counter() + warmup
            await asyncio.gather(
                *(_client(host, port, request, end, scratch, None) for _ in range(concurrency))
            )
        result = LoadResult(0, 0, 0.0, [], {})
        start = time.perf_counter()
        await asyncio.gather(
            *(_client(host, port, request, start + seconds, result, max_requests) for _ in range(concurrency))
        )
        result.seconds = time.perf_counter() - start
        return result

    return asyncio.run(main())
