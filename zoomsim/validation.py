"""Field checks on create/update bodies, with Zoom's limits; failures are 400 code 300."""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import UTC, datetime
from typing import Any

from zoomsim.errors import ZoomError, validation_error
from zoomsim.recurrence import RecurrenceError, parse_recurrence

TOPIC_MAX = 200
AGENDA_MAX = 2000
PASSWORD_RE = re.compile(r"^[A-Za-z0-9@\-_*!]{0,10}$")
MEETING_TYPES = (1, 2, 3, 8, 10)
_START_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() | {"UTC"})


def parse_timezone(value: Any) -> zoneinfo.ZoneInfo:
    if not isinstance(value, str) or value not in _zones():
        raise validation_error(f"Invalid field: timezone '{value}' is not a known timezone.", "timezone")
    return zoneinfo.ZoneInfo(value)


def parse_start_time(value: Any, tz: zoneinfo.ZoneInfo) -> datetime:
    """``yyyy-MM-ddTHH:mm:ss`` is local time in ``tz``; a ``Z`` or offset suffix is absolute."""
    if not isinstance(value, str) or not _START_RE.match(value):
        raise validation_error(
            "Invalid field: start_time must be yyyy-MM-ddTHH:mm:ss or yyyy-MM-ddTHH:mm:ssZ.", "start_time"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise validation_error("Invalid field: start_time is not a valid date-time.", "start_time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz, fold=0)
    return parsed.astimezone(UTC).replace(microsecond=0)


def _string(body: dict[str, Any], key: str, max_len: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation_error(f"Invalid field: {key} must be a string.", key)
    if len(value) > max_len:
        raise validation_error(f"Invalid field: {key} must be at most {max_len} characters.", key)
    return value


def _integer(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation_error(f"Invalid field: {key} must be an integer.", key)
    return value


def parse_meeting_body(body: Any, *, creating: bool) -> dict[str, Any]:
    """Checked fields present in a create (``creating``) or update body, keyed as in the request."""
    if not isinstance(body, dict):
        raise validation_error("Request Body should be a valid JSON object.")
    out: dict[str, Any] = {}
    mtype = _integer(body, "type")
    if mtype is None and creating:
        raise validation_error("Invalid field: type is required.", "type")
    if mtype is not None:
        if mtype not in MEETING_TYPES:
            raise validation_error("Invalid field: type must be one of 1, 2, 3, 8, 10.", "type")
        out["type"] = mtype
    for key, limit in (("topic", TOPIC_MAX), ("agenda", AGENDA_MAX)):
        value = _string(body, key, limit)
        if value is not None:
            out[key] = value
    password = body.get("password")
    if password is not None:
        if not isinstance(password, str) or not PASSWORD_RE.match(password):
            raise validation_error(
                "Invalid field: password must be at most 10 characters: letters, digits and @ - _ * ! only.",
                "password",
            )
        out["password"] = password
    duration = _integer(body, "duration")
    if duration is not None:
        if not 1 <= duration <= 1440:
            raise validation_error("Invalid field: duration must be between 1 and 1440.", "duration")
        out["duration"] = duration
    if body.get("timezone") is not None:
        parse_timezone(body["timezone"])
        out["timezone"] = body["timezone"]
    if body.get("start_time") is not None:
        parse_start_time(body["start_time"], zoneinfo.ZoneInfo("UTC"))
        out["start_time"] = body["start_time"]
    if body.get("recurrence") is not None:
        try:
            out["recurrence"] = parse_recurrence(body["recurrence"])
        except RecurrenceError as exc:
            raise recurrence_error(exc) from exc
    settings = body.get("settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise validation_error("Invalid field: settings must be an object.", "settings")
        out["settings"] = settings
    for flag in ("pre_schedule", "default_password"):
        if body.get(flag) is not None:
            if not isinstance(body[flag], bool):
                raise validation_error(f"Invalid field: {flag} must be a boolean.", flag)
            out[flag] = body[flag]
    return out


#: What ``PATCH /meetings/{id}?occurrence_id=`` may change (the parameter's description in Zoom's spec).
OCCURRENCE_FIELDS = ("agenda", "start_time", "duration", "settings")
OCCURRENCE_SETTINGS = (
    "host_video",
    "participant_video",
    "join_before_host",
    "mute_upon_entry",
    "waiting_room",
    "watermark",
    "auto_recording",
)
AUTO_RECORDING = ("local", "cloud", "none")


def parse_occurrence_body(body: Any) -> dict[str, Any]:
    """Checked fields of a single-occurrence update. Zoom documents only agenda, start_time, duration
    and seven settings as changeable per occurrence; anything else is refused (400 code 300 naming
    the field) rather than silently dropped, so that a client never believes it changed more."""
    if not isinstance(body, dict):
        raise validation_error("Request Body should be a valid JSON object.")
    for key, value in body.items():
        if key not in OCCURRENCE_FIELDS and value is not None:
            raise validation_error(f"Invalid field: {key} cannot be changed for a single occurrence.", key)
    settings = body.get("settings")
    if settings is not None:
        if not isinstance(settings, dict):
            raise validation_error("Invalid field: settings must be an object.", "settings")
        for key, value in settings.items():
            name = f"settings.{key}"
            if key not in OCCURRENCE_SETTINGS:
                raise validation_error(
                    f"Invalid field: {name} cannot be changed for a single occurrence.", name
                )
            valid = value in AUTO_RECORDING if key == "auto_recording" else isinstance(value, bool)
            if not valid:
                raise validation_error(f"Invalid field: {name} has an invalid value.", name)
    fields = {k: v for k, v in body.items() if k != "settings"}
    out = parse_meeting_body(fields, creating=False)
    if settings:
        out["settings"] = settings
    return out


def parse_flag(value: str | None, name: str) -> bool | None:
    """A boolean query parameter (``true``/``false``); None when absent."""
    if value is None:
        return None
    if value not in ("true", "false"):
        raise validation_error(f"Invalid parameter: {name}.", name)
    return value == "true"


def recurrence_error(exc: RecurrenceError) -> ZoomError:
    return validation_error(exc.message, exc.field)
