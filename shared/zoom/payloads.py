"""The one place that builds Zoom Meetings API request bodies.

Bodies follow the request schema of ``POST /users/{userId}/meetings`` and ``PATCH /meetings/{meetingId}``
in Zoom's published OpenAPI spec (``reference/zoom/meetings-openapi.json``): a recurring meeting with a
fixed time (``type: 8``), ``start_time`` local (``yyyy-MM-ddTHH:mm:ss``) with ``timezone``, and a
``recurrence`` that ends after ``end_times`` occurrences (see :mod:`shared.zoom.recurrence`).

The meeting's ``agenda`` carries the halaka's provisioning key on its first line
(``[halaka-key:<key>]``, inside the 250 characters Zoom's listing keeps) so that a repeated create can
find and adopt a meeting made before a crash.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from typing import Any, Final

from shared.zoom.recurrence import MAX_DURATION, MIN_DURATION, Segment, is_duration, is_int

#: Characters Zoom accepts in a meeting passcode.
PASSWORD_SPECIALS: Final[str] = "@-_*!"
PASSWORD_ALPHABET: Final[str] = string.ascii_letters + string.digits + PASSWORD_SPECIALS
PASSWORD_MAX_LENGTH: Final[int] = 10

TOPIC_MAX_LENGTH: Final[int] = 200
AGENDA_MAX_LENGTH: Final[int] = 2000

#: Zoom meeting type: a recurring meeting with a fixed time.
RECURRING_FIXED_TIME: Final[int] = 8

#: Zoom meeting type: a scheduled (single) meeting, for a restored or extra session.
SCHEDULED: Final[int] = 2

#: Meeting settings sent on create (every key checked against the spec's request schema).
MEETING_SETTINGS: Final[dict[str, Any]] = {
    "join_before_host": False,
    "waiting_room": True,
    "approval_type": 2,  # no registration required
    "host_video": True,
    "participant_video": False,
    "mute_upon_entry": True,
}

#: On a shared host nobody holds the host's credentials for a teacher's class, so participants join
#: without a host (at any time) and no waiting room holds them (it would disable join_before_host).
SHARED_HOST_SETTINGS: Final[dict[str, Any]] = {
    **MEETING_SETTINGS,
    "join_before_host": True,
    "jbh_time": 0,
    "waiting_room": False,
}

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
_KEY_LINE = re.compile(r"\[halaka-key:([A-Za-z0-9][A-Za-z0-9._:-]{0,99})\]")
_TRUNCATED = "…"


def generate_password(length: int = PASSWORD_MAX_LENGTH) -> str:
    """A random meeting passcode from :data:`PASSWORD_ALPHABET`, drawn with :mod:`secrets` (a CSPRNG).

    ``length`` is 1..10 (Zoom's maximum). From 3 characters on, the passcode holds at least one
    letter, one digit and one of ``@-_*!``, so it meets an account's "passcode must contain" rules;
    it is drawn uniformly among the passcodes that do (rejection sampling).
    """
    if not is_int(length) or not 1 <= length <= PASSWORD_MAX_LENGTH:
        raise ValueError(f"password length must be 1 to {PASSWORD_MAX_LENGTH}")
    while True:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if length < 3 or (
            any(c in string.ascii_letters for c in password)
            and any(c in string.digits for c in password)
            and any(c in PASSWORD_SPECIALS for c in password)
        ):
            return password


def _check_password(password: str) -> None:
    if (
        not isinstance(password, str)
        or not 1 <= len(password) <= PASSWORD_MAX_LENGTH
        or any(c not in PASSWORD_ALPHABET for c in password)
    ):
        raise ValueError(
            f"password must be 1 to {PASSWORD_MAX_LENGTH} characters: letters, digits and {PASSWORD_SPECIALS}"
        )


def _check_duration(duration: int) -> None:
    if not is_duration(duration):
        raise ValueError(f"duration must be a whole number of minutes from {MIN_DURATION} to {MAX_DURATION}")


def _check_timezone(timezone: str) -> None:
    if not isinstance(timezone, str) or not timezone:
        raise ValueError("timezone must be an IANA time zone name")


#: Zoom truncates a listed meeting's ``agenda`` to this many characters (``GET /users/{userId}/meetings``).
LISTED_AGENDA_LENGTH: Final[int] = 250


def agenda_with_key(description: str, key: str) -> str:
    """The meeting agenda: a first line ``[halaka-key:<key>]``, then ``description``, ≤ 2000 characters.

    The key comes first so that it survives Zoom's listing, which truncates agendas to 250 characters
    (the line is at most 113 characters). Only the description is shortened (ending with ``…``) when
    the whole would be too long. ``key`` is 1..100 characters of letters, digits and ``._:-``.
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(
            "key must be 1 to 100 characters of letters, digits and ._:- starting with a letter or digit"
        )
    marker = f"[halaka-key:{key}]"
    text = (description or "").strip()
    if not text:
        return marker
    budget = AGENDA_MAX_LENGTH - len(marker) - 2  # two newlines after the key line
    if len(text) > budget:
        text = text[: budget - len(_TRUNCATED)].rstrip() + _TRUNCATED
    return f"{marker}\n\n{text}"


def key_from_agenda(agenda: str | None) -> str | None:
    """The provisioning key on the first non-blank line of a meeting's agenda, or ``None``.

    Agendas written before the key moved to the front carry it on their last line; that is read too.
    """
    if not agenda:
        return None
    lines = [line.strip() for line in agenda.splitlines() if line.strip()]
    for line in lines[:1] + lines[-1:]:
        match = _KEY_LINE.fullmatch(line)
        if match:
            return match.group(1)
    return None


def _fit_agenda(agenda: str) -> str:
    """``agenda`` cut to Zoom's 2000 characters at its end (a key line comes first, so it stays)."""
    return agenda[:AGENDA_MAX_LENGTH]


def _fit_topic(topic: str) -> str:
    return topic[:TOPIC_MAX_LENGTH]


def meeting_create_payload(
    segment: Segment,
    *,
    timezone: str,
    duration: int,
    topic: str,
    agenda: str,
    password: str,
    shared_host: bool = False,
) -> dict[str, Any]:
    """Body of ``POST /users/{userId}/meetings`` for one segment (a recurring meeting, fixed time).

    ``shared_host``: the host is not the teacher's own Zoom user, so the class runs without a host
    present (:data:`SHARED_HOST_SETTINGS`).

    ``start_time`` is the segment's first session as local time in ``timezone``; the recurrence ends
    after the segment's sessions (``end_times``). ``topic`` is cut to 200 characters and ``agenda``
    to 2000 at its end (its ``[halaka-key:…]`` first line stays, see :func:`agenda_with_key`).
    """
    _check_duration(duration)
    body = _created(RECURRING_FIXED_TIME, timezone, topic, agenda, password, shared_host)
    settings = body.pop("settings")
    return {
        **body,
        "start_time": segment.start_time_local,
        "duration": duration,
        "recurrence": dict(segment.recurrence),
        "settings": settings,
    }


def _created(
    kind: int, timezone: str, topic: str, agenda: str, password: str, shared_host: bool
) -> dict[str, Any]:
    """What every created meeting carries: type, time zone, topic, agenda, passcode and settings."""
    _check_timezone(timezone)
    _check_password(password)
    return {
        "topic": _fit_topic(topic),
        "type": kind,
        "timezone": timezone,
        "password": password,
        "agenda": _fit_agenda(agenda),
        "settings": dict(SHARED_HOST_SETTINGS if shared_host else MEETING_SETTINGS),
    }


def meeting_update_payload(
    segment: Segment | None,
    *,
    timezone: str | None = None,
    duration: int | None = None,
    topic: str | None = None,
    agenda: str | None = None,
) -> dict[str, Any]:
    """Body of ``PATCH /meetings/{meetingId}`` with only the given fields (``{}`` when none is).

    A ``segment`` sets ``start_time`` and ``recurrence``; it needs ``timezone`` too, since its start
    time is local. Zoom ignores a ``start_time`` in the past and then leaves the recurrence as it was,
    so plan the segment from the next session (``plan_segments(..., after=now)``).
    """
    body: dict[str, Any] = {}
    if topic is not None:
        body["topic"] = _fit_topic(topic)
    if agenda is not None:
        body["agenda"] = _fit_agenda(agenda)
    if segment is not None:
        if timezone is None:
            raise ValueError("timezone is required with a segment: its start_time is local")
        body["start_time"] = segment.start_time_local
        body["recurrence"] = dict(segment.recurrence)
    if timezone is not None:
        _check_timezone(timezone)
        body["timezone"] = timezone
    if duration is not None:
        _check_duration(duration)
        body["duration"] = duration
    return body


def zoom_utc(moment: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ``: a UTC ``start_time`` (Zoom then ignores ``timezone`` for the instant)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_zoom_utc(value: str) -> datetime:
    """The inverse of `zoom_utc`: a date-time as Zoom answers it (``…Z`` or an offset) as an aware UTC
    datetime; one without an offset is taken as UTC. ValueError when it is not an ISO date-time."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def session_time_payload(start: datetime, duration: int) -> dict[str, Any]:
    """Body of ``PATCH /meetings/{meetingId}`` (``?occurrence_id=`` for one occurrence, which takes only
    ``agenda``, ``start_time``, ``duration`` and a few settings): the session's time and length."""
    _check_duration(duration)
    return {"start_time": zoom_utc(start), "duration": duration}


def single_meeting_payload(
    *,
    start: datetime,
    timezone: str,
    duration: int,
    topic: str,
    agenda: str,
    password: str,
    shared_host: bool = False,
) -> dict[str, Any]:
    """Body of ``POST /users/{userId}/meetings`` for one session on its own: a scheduled meeting
    (``type: 2``) at ``start`` (sent in UTC; ``timezone`` is the halaka's, for Zoom's display)."""
    return {
        **_created(SCHEDULED, timezone, topic, agenda, password, shared_host),
        **session_time_payload(start, duration),
    }
