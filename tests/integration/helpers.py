"""Shared steps of the provisioning integration tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.worker_fixture import wait_for

TERMINAL = {"ready", "failed"}


def future(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def schedule(
    frequency: str = "weekly",
    days: list[str] | None = None,
    start_in: int = 3,
    length_days: int = 27,
    **extra,
) -> dict:
    body = {
        "frequency": frequency,
        "days": days if days is not None else (["monday", "wednesday"] if "weekly" in frequency else []),
        "startTime": "17:00",
        "duration": 60,
        "startDate": future(start_in),
        "endDate": future(start_in + length_days),
        "timezone": "Africa/Cairo",
    }
    body.update(extra)
    return body


def create(client, account, title: str = "Tajweed for beginners", **schedule_kw) -> dict:
    r = client.post(
        "/api/v1/halaka/",
        json={"title": title, "description": "Weekly tajweed", "schedule": schedule(**schedule_kw)},
        headers=account.headers,
    )
    assert r.status_code == 201, r.json
    return r.json["data"]


def get(client, account, halaka_id: int) -> dict:
    r = client.get(f"/api/v1/halaka/{halaka_id}", headers=account.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]


def wait_status(
    client, account, halaka_id: int, statuses=TERMINAL, timeout: float = 60.0, worker=None
) -> dict:
    def settled():
        data = get(client, account, halaka_id)
        return data if data["zoomStatus"] in statuses else None

    try:
        return wait_for(settled, timeout, 0.2, f"halaka {halaka_id} to reach {statuses}")
    except AssertionError:
        tail = worker.log_tail() if worker is not None else ""
        raise AssertionError(f"halaka {halaka_id}: {get(client, account, halaka_id)}\n{tail}") from None


def sandbox_meetings_of(sandbox, data: dict) -> list[dict]:
    ids = {int(m["meetingId"]) for m in data["zoomMeetings"]}
    return [m for m in sandbox.meetings() if int(m["id"]) in ids]


def keyed_meetings(sandbox) -> dict[str, list[int]]:
    """Meetings in the sandbox grouped by the halaka key in their agenda: duplicates show as lists > 1."""
    from shared.zoom.payloads import key_from_agenda

    groups: dict[str, list[int]] = {}
    for meeting in sandbox.meetings():
        key = key_from_agenda(meeting.get("agenda"))
        if key:
            halaka_key, _version, segment = key.rsplit(".", 2)
            groups.setdefault(f"{halaka_key}.{segment}", []).append(int(meeting["id"]))
    return groups


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def as_date(value: str) -> date:
    return date.fromisoformat(value)
