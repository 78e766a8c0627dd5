"""Meeting objects as Zoom returns them, and how create/update bodies change them."""

from __future__ import annotations

import base64
import copy
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from zoomsim.errors import ZoomError, validation_error
from zoomsim.recurrence import Recurrence, RecurrenceError, expand, format_utc, occurrences_json
from zoomsim.validation import parse_meeting_body, parse_occurrence_body, parse_start_time, recurrence_error

JOIN_BASE = "https://zoom.us"
DEFAULT_TOPIC = "Zoom Meeting"
DEFAULT_DURATION = 60
DEFAULT_SETTINGS: dict[str, Any] = {
    "host_video": False,
    "participant_video": False,
    "join_before_host": False,
    "jbh_time": 0,
    "mute_upon_entry": False,
    "watermark": False,
    "use_pmi": False,
    "approval_type": 2,
    "audio": "voip",
    "auto_recording": "none",
    "enforce_login": False,
    "enforce_login_domains": "",
    "alternative_hosts": "",
    "alternative_hosts_email_notification": True,
    "waiting_room": False,
    "meeting_authentication": False,
    "email_notification": True,
    "registrants_email_notification": True,
    "private_meeting": False,
    "show_share_button": False,
    "allow_multiple_devices": False,
    "focus_mode": False,
    "device_testing": False,
    "continuous_meeting_chat": {"enable": False},
}
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
#: ``GET /users/{userId}/meetings`` truncates each meeting's agenda to this many characters.
LISTED_AGENDA_LENGTH = 250


@dataclass
class User:
    id: str
    email: str
    can_host: bool = True
    timezone: str = "UTC"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "can_host": self.can_host, "timezone": self.timezone}


@dataclass
class StoredMeeting:
    """``data`` is the public meeting object; the rest is what re-expansion needs."""

    data: dict[str, Any]
    host_user_id: str
    series_start: datetime | None = None
    recurrence: Recurrence | None = None
    deleted_occurrences: set[str] = field(default_factory=set)
    #: Per-occurrence changes (``PATCH ?occurrence_id=``) by occurrence id: ``start`` (UTC datetime),
    #: ``duration``, ``agenda``, ``settings``. Kept while the occurrence exists; a new recurrence drops them.
    occurrence_changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return int(self.data["id"])

    def public(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _password_fields(password: str, meeting_id: int) -> dict[str, str]:
    digits = password if password.isdigit() else "".join(secrets.choice(string.digits) for _ in range(6))
    encrypted = secrets.token_urlsafe(24) if password else ""
    return {
        "password": password,
        "h323_password": digits if password else "",
        "pstn_password": digits if password else "",
        "encrypted_password": encrypted,
        "join_url": f"{JOIN_BASE}/j/{meeting_id}" + (f"?pwd={encrypted}" if encrypted else ""),
    }


def generate_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(8))


def start_url(meeting_id: int, token: str) -> str:
    """The host's start link; its ``zak`` token expires (see ``SandboxState.issue_start_token``)."""
    return f"{JOIN_BASE}/s/{meeting_id}?zak={token}"


def new_meeting(
    fields: dict[str, Any], user: User, meeting_id: int, now: datetime, start_token: str
) -> StoredMeeting:
    """Build the meeting a valid create body describes (``fields`` from ``parse_meeting_body``)."""
    mtype = fields["type"]
    if "password" in fields:
        password = fields["password"]
    else:
        password = generate_password() if fields.get("default_password", True) else ""
    data: dict[str, Any] = {
        "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
        "id": meeting_id,
        "host_id": user.id,
        "host_email": user.email,
        "topic": fields.get("topic", DEFAULT_TOPIC),
        "type": mtype,
        "status": "waiting",
        "duration": fields.get("duration", DEFAULT_DURATION),
        "timezone": fields.get("timezone", user.timezone),
        "agenda": fields.get("agenda", ""),
        "created_at": format_utc(now),
        "start_url": start_url(meeting_id, start_token),
        **_password_fields(password, meeting_id),
        "settings": _merge(DEFAULT_SETTINGS, fields.get("settings", {})),
        "pre_schedule": fields.get("pre_schedule", False),
        "creation_source": "open_api",
    }
    meeting = StoredMeeting(data=data, host_user_id=user.id)
    tz = ZoneInfo(data["timezone"])
    start = now
    if mtype in (2, 8, 10) and "start_time" in fields:
        start = max(parse_start_time(fields["start_time"], tz), now)
    if mtype == 8:
        if "recurrence" not in fields:
            raise _recurrence_required()
        meeting.recurrence = fields["recurrence"]
        meeting.series_start = start
    elif mtype != 3:
        data["start_time"] = format_utc(start)
    _refresh_schedule(meeting)
    return meeting


def _refresh_schedule(meeting: StoredMeeting) -> None:
    """Recompute ``start_time``/``recurrence``/``occurrences`` of a type 8 meeting; drop them otherwise."""
    data = meeting.data
    if data["type"] != 8:
        data.pop("recurrence", None)
        data.pop("occurrences", None)
        meeting.recurrence = None
        return
    assert meeting.recurrence is not None and meeting.series_start is not None
    try:
        starts = expand(meeting.series_start, ZoneInfo(data["timezone"]), meeting.recurrence)
    except RecurrenceError as exc:
        raise recurrence_error(exc) from exc
    occurrences = occurrences_json(starts, data["duration"])
    ids = {occ["occurrence_id"] for occ in occurrences}
    meeting.occurrence_changes = {k: v for k, v in meeting.occurrence_changes.items() if k in ids}
    for occ in occurrences:
        if occ["occurrence_id"] in meeting.deleted_occurrences:
            occ["status"] = "deleted"
        changes = meeting.occurrence_changes.get(occ["occurrence_id"], {})
        if "start" in changes:
            occ["start_time"] = format_utc(changes["start"])  # moved: its occurrence_id stays
        if "duration" in changes:
            occ["duration"] = changes["duration"]
    occurrences.sort(key=lambda occ: occ["start_time"])
    data["start_time"] = occurrences[0]["start_time"]
    data["recurrence"] = meeting.recurrence.to_json()
    data["occurrences"] = occurrences


def apply_update(meeting: StoredMeeting, fields: dict[str, Any], now: datetime) -> None:
    """Apply a PATCH body to ``meeting``, validating the result before anything changes.

    As Zoom does, a ``start_time`` in the past on a recurring meeting is ignored together with
    any ``recurrence`` change; on other meetings a past ``start_time`` becomes now.
    """
    trial = StoredMeeting(
        data=copy.deepcopy(meeting.data),
        host_user_id=meeting.host_user_id,
        series_start=meeting.series_start,
        recurrence=meeting.recurrence,
        deleted_occurrences=set(meeting.deleted_occurrences),
        occurrence_changes=copy.deepcopy(meeting.occurrence_changes),
    )
    data = trial.data
    for key in ("topic", "agenda", "duration", "timezone", "type", "pre_schedule"):
        if key in fields:
            data[key] = fields[key]
    if "password" in fields:
        data.update(_password_fields(fields["password"], trial.id))
    if "settings" in fields:
        data["settings"] = _merge(data["settings"], fields["settings"])
    tz = ZoneInfo(data["timezone"])
    previous = datetime.fromisoformat(meeting.data["start_time"]) if "start_time" in meeting.data else now
    start = parse_start_time(fields["start_time"], tz) if "start_time" in fields else None
    if data["type"] == 8:
        if start is not None and start < now:
            start = None
            fields = {k: v for k, v in fields.items() if k != "recurrence"}
        if "recurrence" in fields:
            trial.recurrence = fields["recurrence"]
            trial.deleted_occurrences.clear()
            trial.occurrence_changes.clear()
        if trial.recurrence is None:
            raise _recurrence_required()
        trial.series_start = start or trial.series_start or previous
    else:
        trial.series_start = None
        if data["type"] == 3:
            data.pop("start_time", None)
        else:
            data["start_time"] = format_utc(max(start, now) if start is not None else previous)
    _refresh_schedule(trial)
    meeting.data = trial.data
    meeting.series_start = trial.series_start
    meeting.recurrence = trial.recurrence
    meeting.deleted_occurrences = trial.deleted_occurrences
    meeting.occurrence_changes = trial.occurrence_changes


def invalid_occurrence() -> ZoomError:
    """Zoom's documented error for an occurrence id it does not know (``DELETE``'s 400 code 300)."""
    return validation_error("Invalid parameter: occurrence_id.", "occurrence_id")


def find_occurrence(meeting: StoredMeeting, occurrence_id: str, *, available: bool) -> dict[str, Any]:
    """The occurrence object (deleted ones too unless ``available``); 400 code 300 when there is none."""
    for occ in meeting.data.get("occurrences", []):
        if occ["occurrence_id"] == occurrence_id and (occ["status"] == "available" or not available):
            return occ
    raise invalid_occurrence()


def delete_occurrence(meeting: StoredMeeting, occurrence_id: str) -> None:
    """Mark one occurrence deleted (``DELETE /meetings/{id}?occurrence_id=``); it stays listed with
    ``status: "deleted"``. Deleting it again is 400 code 300, like an unknown id."""
    occ = find_occurrence(meeting, occurrence_id, available=True)
    occ["status"] = "deleted"
    meeting.deleted_occurrences.add(occurrence_id)


def occurrence_view(meeting: StoredMeeting, occurrence_id: str) -> dict[str, Any]:
    """``GET /meetings/{id}?occurrence_id=``: the meeting object with that occurrence's ``start_time``,
    ``duration``, ``agenda`` and ``settings``; ``occurrences`` stays the whole list."""
    occ = find_occurrence(meeting, occurrence_id, available=False)
    changes = meeting.occurrence_changes.get(occurrence_id, {})
    out = meeting.public()
    out["start_time"] = occ["start_time"]
    out["duration"] = occ["duration"]
    out["agenda"] = changes.get("agenda", out["agenda"])
    out["settings"] = _merge(out["settings"], changes.get("settings", {}))
    return out


def apply_occurrence_update(
    meeting: StoredMeeting, occurrence_id: str, fields: dict[str, Any], now: datetime
) -> None:
    """``PATCH /meetings/{id}?occurrence_id=`` with a body from ``parse_occurrence_body``: only that
    occurrence changes, its ``occurrence_id`` stays. A ``start_time`` in the past is ignored, as Zoom
    documents for updates."""
    find_occurrence(meeting, occurrence_id, available=True)
    changes = copy.deepcopy(meeting.occurrence_changes.get(occurrence_id, {}))
    if "start_time" in fields:
        start = parse_start_time(fields["start_time"], ZoneInfo(meeting.data["timezone"]))
        if start >= now:
            changes["start"] = start
    for key in ("duration", "agenda"):
        if key in fields:
            changes[key] = fields[key]
    if "settings" in fields:
        changes["settings"] = {**changes.get("settings", {}), **fields["settings"]}
    meeting.occurrence_changes[occurrence_id] = changes
    _refresh_schedule(meeting)


def apply_patch(
    meeting: StoredMeeting, body: Any, occurrence_id: str | None, now: datetime
) -> dict[str, Any]:
    """A PATCH body on the whole meeting, or on one occurrence; returns the view before the change (the
    meeting object, or ``occurrence_view``) for the ``meeting.updated`` event."""
    if occurrence_id:
        old = occurrence_view(meeting, occurrence_id)
        apply_occurrence_update(meeting, occurrence_id, parse_occurrence_body(body), now)
    else:
        old = meeting.public()
        apply_update(meeting, parse_meeting_body(body, creating=False), now)
    return old


def list_item(meeting: StoredMeeting) -> dict[str, Any]:
    """A meeting as it appears in ``GET /users/{userId}/meetings``."""
    data = meeting.data
    keys = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration", "timezone", "agenda")
    item = {key: data[key] for key in keys if key in data}
    if "agenda" in item:
        item["agenda"] = item["agenda"][:LISTED_AGENDA_LENGTH]  # Zoom's spec: truncated when listed
    item["created_at"] = data["created_at"]
    item["join_url"] = data["join_url"]
    return item


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _recurrence_required() -> ZoomError:
    return validation_error(
        "Invalid field: recurrence is required for a recurring meeting with fixed time (type 8).",
        "recurrence",
    )
