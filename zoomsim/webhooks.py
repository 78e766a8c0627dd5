"""Webhooks the way Zoom sends them: event bodies, the signature, delivery and retries.

Events follow Zoom's webhook spec (``meetings-webhooks-openapi.json``): ``object.id`` is a string in
started/ended/participant events and an integer in deleted/updated; started/ended carry the instance
``uuid`` but no occurrence id; participant events carry ``customer_key``, ``participant_uuid`` and an
``email`` that is empty for participants who are not signed in.

Delivery: one sender thread posts events in the order they were queued, signed with ``x-zm-signature``
= ``v0=`` + HMAC-SHA256(secret, ``v0:{timestamp}:{body}``) and ``x-zm-request-timestamp`` (seconds,
fresh on every attempt; the body stays identical). An answer other than 2xx within the timeout counts
as failed; 5xx and no answer are retried three more times after ``RETRY_DELAYS`` (Zoom's +5, +20 and
+60 minutes) times ``webhook_delay_scale``, while later events keep flowing, so a retried event
arrives out of order, as with Zoom. 4xx is not retried.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from zoomsim.meetings import StoredMeeting, occurrence_view
from zoomsim.recurrence import format_utc

RETRY_DELAYS = (300.0, 1200.0, 3600.0)
MAX_LOG = 5000


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Zoom's `x-zm-signature` (written here on its own, so that the sandbox checks the API's verifier)."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _envelope(event: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"event": event, "event_ts": _ms(at), "payload": payload}


def _meeting_fields(meeting: StoredMeeting, *, string_id: bool) -> dict[str, Any]:
    data = meeting.data
    fields = {
        "id": str(data["id"]) if string_id else int(data["id"]),
        "uuid": data["uuid"],
        "host_id": data["host_id"],
        "topic": data["topic"],
        "type": data["type"],
        "start_time": data.get("start_time", format_utc(datetime.now(UTC))),
        "duration": data["duration"],
        "timezone": data["timezone"],
    }
    return fields


def meeting_deleted(
    meeting: StoredMeeting, account_id: str, operator: str, at: datetime, occurrence: dict | None = None
) -> dict[str, Any]:
    obj = _meeting_fields(meeting, string_id=False)
    payload: dict[str, Any] = {
        "account_id": account_id,
        "operator": operator,
        "operator_id": meeting.data["host_id"],
        "operation": "single" if occurrence else "all",
        "object": obj,
    }
    if occurrence:
        obj["occurrences"] = [
            {"occurrence_id": occurrence["occurrence_id"], "start_time": occurrence["start_time"]}
        ]
    return _envelope("meeting.deleted", payload, at)


def _schedule_view(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in keys if k in data}


SCHEDULE_KEYS = ("start_time", "duration", "timezone", "topic", "agenda", "recurrence", "occurrences")


def meeting_updated(
    meeting: StoredMeeting, old: dict[str, Any], account_id: str, operator: str, at: datetime
) -> dict[str, Any]:
    """`object` holds the id and the fields whose values changed (as Zoom does), `old_object` their
    previous values."""
    changed = tuple(k for k in SCHEDULE_KEYS if meeting.data.get(k) != old.get(k))
    obj = {"id": int(meeting.data["id"]), "uuid": meeting.data["uuid"], "host_id": meeting.data["host_id"]}
    obj.update(_schedule_view(meeting.data, changed))
    if "occurrences" in meeting.data and changed:
        obj["occurrences"] = meeting.data["occurrences"]
    payload = {
        "account_id": account_id,
        "operator": operator,
        "operator_id": meeting.data["host_id"],
        "object": obj,
        "old_object": {"id": int(old["id"]), **_schedule_view(old, changed)},
        "time_stamp": _ms(at),
    }
    return _envelope("meeting.updated", payload, at)


OCCURRENCE_KEYS = ("start_time", "duration", "agenda")


def occurrence_updated(
    meeting: StoredMeeting,
    old: dict[str, Any],
    new: dict[str, Any],
    occurrence_id: str,
    account_id: str,
    operator: str,
    at: datetime,
) -> dict[str, Any] | None:
    """`meeting.updated` with `scope: "single"` for one occurrence (`old`/`new` as
    `occurrence_view` gives them): `object` holds that occurrence and the fields whose values changed,
    settings only the changed ones (the spec: "This only returns updated meeting settings").
    None when nothing changed."""
    changed = {k: new[k] for k in OCCURRENCE_KEYS if new.get(k) != old.get(k)}
    before = {k: old[k] for k in changed}
    settings = {k: v for k, v in new["settings"].items() if old["settings"].get(k) != v}
    if settings:
        changed["settings"] = settings
        before["settings"] = {k: old["settings"].get(k) for k in settings}
    if not changed:
        return None

    def occurrence(view: dict[str, Any]) -> dict[str, Any]:
        occ = next(o for o in view["occurrences"] if o["occurrence_id"] == occurrence_id)
        return dict(occ, start_time=view["start_time"], duration=view["duration"])

    ids = {"id": int(meeting.data["id"]), "uuid": meeting.data["uuid"], "host_id": meeting.data["host_id"]}
    payload = {
        "account_id": account_id,
        "operator": operator,
        "operator_id": meeting.data["host_id"],
        "scope": "single",
        "object": {**ids, **changed, "occurrences": [occurrence(new)]},
        "old_object": {**ids, **before, "occurrences": [occurrence(old)]},
        "time_stamp": _ms(at),
    }
    return _envelope("meeting.updated", payload, at)


def meeting_started(meeting: StoredMeeting, account_id: str, uuid: str, start: datetime) -> dict[str, Any]:
    obj = _meeting_fields(meeting, string_id=True)
    obj.update(uuid=uuid, start_time=format_utc(start), host_email=meeting.data["host_email"])
    return _envelope("meeting.started", {"account_id": account_id, "object": obj}, start)


def meeting_ended(
    meeting: StoredMeeting, account_id: str, uuid: str, start: datetime, end: datetime
) -> dict[str, Any]:
    obj = _meeting_fields(meeting, string_id=True)
    obj.update(
        uuid=uuid,
        start_time=format_utc(start),
        end_time=format_utc(end),
        host_email=meeting.data["host_email"],
    )
    return _envelope("meeting.ended", {"account_id": account_id, "object": obj}, end)


@dataclass(frozen=True)
class Person:
    name: str
    email: str = ""
    customer_key: str = ""
    participant_uuid: str = field(default_factory=lambda: secrets.token_hex(16).upper())


def participant_event(
    meeting: StoredMeeting,
    account_id: str,
    uuid: str,
    start: datetime,
    person: Person,
    at: datetime,
    joined: bool,
) -> dict[str, Any]:
    obj = _meeting_fields(meeting, string_id=True)
    obj.update(uuid=uuid, start_time=format_utc(start))
    participant: dict[str, Any] = {
        "user_id": str(secrets.randbelow(10**8)),
        "user_name": person.name,
        "participant_uuid": person.participant_uuid,
        "email": person.email,
    }
    if person.customer_key:
        participant["customer_key"] = person.customer_key
    if joined:
        participant["join_time"] = format_utc(at)
    else:
        participant["leave_time"] = format_utc(at)
        participant["leave_reason"] = f"{person.name} left the meeting."
    obj["participant"] = participant
    name = "meeting.participant_joined" if joined else "meeting.participant_left"
    return _envelope(name, {"account_id": account_id, "object": obj}, at)


def new_instance_uuid() -> str:
    return base64.b64encode(secrets.token_bytes(16)).decode()


def simulate(
    meeting: StoredMeeting, account_id: str, start: datetime, end: datetime, plan: list[dict]
) -> tuple[str, list[dict]]:
    """A class as Zoom reports it: started, every join and leave in time order, ended. ``plan`` items are
    ``{"person": Person, "join": datetime, "leave": datetime}`` (one item per stretch: a rejoin is a
    second item for the same person)."""
    uuid = new_instance_uuid()
    timeline: list[tuple[datetime, int, dict]] = []
    for index, stretch in enumerate(plan):
        person = stretch["person"]
        timeline.append(
            (
                stretch["join"],
                2 * index,
                participant_event(meeting, account_id, uuid, start, person, stretch["join"], True),
            )
        )
        timeline.append(
            (
                stretch["leave"],
                2 * index + 1,
                participant_event(meeting, account_id, uuid, start, person, stretch["leave"], False),
            )
        )
    timeline.sort(key=lambda item: (item[0], item[1]))
    events = [meeting_started(meeting, account_id, uuid, start), *(e for _, _, e in timeline)]
    events.append(meeting_ended(meeting, account_id, uuid, start, end))
    return uuid, events


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    body: bytes = field(compare=False)
    event: str = field(compare=False)
    url: str = field(compare=False)
    secret: str = field(compare=False)
    scale: float = field(compare=False)
    timeout: float = field(compare=False)
    attempt: int = field(default=1, compare=False)


class WebhookSender:
    """The sender thread and its log of attempts (``GET /_sandbox/webhooks``)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._queue: list[_Delivery] = []
        self._seq = 0
        self._generation = 0
        self.log: list[dict[str, Any]] = []
        self._http = requests.Session()
        self._thread: threading.Thread | None = None

    def send(self, event: dict[str, Any], url: str, secret: str, scale: float, timeout: float) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        with self._lock:
            self._seq += 1
            heapq.heappush(
                self._queue,
                _Delivery(time.monotonic(), self._seq, body, event["event"], url, secret, scale, timeout),
            )
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="zoomsim-webhooks", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.log.clear()
            self._generation += 1

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self.log]

    def _next(self) -> tuple[_Delivery, int]:
        with self._lock:
            while True:
                if self._queue:
                    wait = self._queue[0].due - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self._queue), self._generation
                    self._lock.wait(wait)
                else:
                    self._lock.wait()

    def _run(self) -> None:
        while True:
            delivery, generation = self._next()
            status = self._post(delivery)
            with self._lock:
                if generation != self._generation:
                    continue  # reset while it was in flight
                retry = (status is None or status >= 500) and delivery.attempt <= len(RETRY_DELAYS)
                self.log.append(
                    {
                        "seq": delivery.seq,
                        "event": delivery.event,
                        "attempt": delivery.attempt,
                        "status": status,
                        "retrying": retry,
                        "body": json.loads(delivery.body),
                    }
                )
                del self.log[:-MAX_LOG]
                if retry:
                    delivery.due = time.monotonic() + RETRY_DELAYS[delivery.attempt - 1] * delivery.scale
                    delivery.attempt += 1
                    heapq.heappush(self._queue, delivery)

    def _post(self, delivery: _Delivery) -> int | None:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "x-zm-request-timestamp": timestamp,
            "x-zm-signature": signature(delivery.secret, timestamp, delivery.body),
            "User-Agent": "Zoom Marketplace/1.0a",
        }
        try:
            return self._http.post(
                delivery.url, data=delivery.body, headers=headers, timeout=delivery.timeout
            ).status_code
        except requests.RequestException:
            return None


def in_minutes(start: datetime, minutes: float) -> datetime:
    return start + timedelta(minutes=minutes)


def emit_updated(st: Any, meeting: StoredMeeting, old: dict[str, Any], operator: str) -> None:
    if any(meeting.data.get(k) != old.get(k) for k in SCHEDULE_KEYS):
        st.send_webhook(meeting_updated(meeting, old, st.settings.account_id, operator, datetime.now(UTC)))


def emit_occurrence_updated(
    st: Any, meeting: StoredMeeting, old: dict[str, Any], occurrence_id: str, operator: str
) -> None:
    new = occurrence_view(meeting, occurrence_id)
    event = occurrence_updated(
        meeting, old, new, occurrence_id, st.settings.account_id, operator, datetime.now(UTC)
    )
    if event is not None:
        st.send_webhook(event)


def emit_patched(
    st: Any, meeting: StoredMeeting, old: dict[str, Any], occurrence_id: str | None, operator: str
) -> None:
    """The event for ``meetings.apply_patch``: series-wide or ``scope: "single"``."""
    if occurrence_id:
        emit_occurrence_updated(st, meeting, old, occurrence_id, operator)
    else:
        emit_updated(st, meeting, old, operator)


def emit_deleted(st: Any, meeting: StoredMeeting, operator: str, occurrence_id: str | None = None) -> None:
    occurrence = None
    if occurrence_id:
        occurrence = next(o for o in meeting.data["occurrences"] if o["occurrence_id"] == occurrence_id)
    st.send_webhook(meeting_deleted(meeting, st.settings.account_id, operator, datetime.now(UTC), occurrence))
