"""Unit tests for shared.zoom.payloads, checked against Zoom's published OpenAPI request schemas."""

from __future__ import annotations

import copy
import functools
import json
import re
import string
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from shared.zoom import payloads
from shared.zoom.payloads import (
    AGENDA_MAX_LENGTH,
    LISTED_AGENDA_LENGTH,
    PASSWORD_ALPHABET,
    agenda_with_key,
    generate_password,
    key_from_agenda,
    meeting_create_payload,
    meeting_update_payload,
)
from shared.zoom.recurrence import Schedule, Segment, plan_segments
from tests.zoom_spec_files import locate

# --------------------------------------------------------------------------------------------------
# Zoom's spec (found by tests/zoom_spec_files.py): a tiny loader of fully resolved request schemas
# --------------------------------------------------------------------------------------------------

CREATE = ("post", "/users/{userId}/meetings")
UPDATE = ("patch", "/meetings/{meetingId}")


def _resolve(node: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` replaced by (a resolved copy of) its target."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/") and ref not in seen, f"unsupported or cyclic $ref {ref}"
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return _resolve(target, root, (*seen, ref))
        return {key: _resolve(value, root, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, root, seen) for item in node]
    return node


@functools.cache
def request_schema(method: str, path: str) -> dict[str, Any]:
    spec = json.loads(locate("meetings").read_text(encoding="utf-8"))
    operation = spec["paths"][path][method]
    schema = copy.deepcopy(_resolve(operation["requestBody"]["content"]["application/json"]["schema"], spec))
    recurrence = schema["properties"]["recurrence"]["properties"]
    # Known flaw: the enum lists single digits while the description allows a comma list ("2,4").
    recurrence["weekly_days"].pop("enum", None)
    # Same kind of flaw: start_time says format date-time, yet its description documents the local
    # form yyyy-MM-ddTHH:mm:ss (no offset) together with `timezone`. Its form is checked separately.
    schema["properties"]["start_time"].pop("format", None)
    return schema


def undeclared_keys(body: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """Keys of ``body`` (recursively) that the schema does not declare: Zoom ignores them silently."""
    if not isinstance(body, dict) or "properties" not in schema:
        return []
    found: list[str] = []
    for key, value in body.items():
        if key not in schema["properties"]:
            found.append(f"{where}{key}")
        else:
            found += undeclared_keys(value, schema["properties"][key], f"{where}{key}.")
    return found


LOCAL_START_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
WEEKLY_DAYS = re.compile(r"[1-7](,[1-7])*")


def validate_request(method: str, path: str, body: dict[str, Any]) -> None:
    schema = request_schema(method, path)
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(body)
    assert undeclared_keys(body, schema) == []
    if "start_time" in body:
        assert LOCAL_START_TIME.fullmatch(body["start_time"]), body["start_time"]
        assert "timezone" in body, "a local start_time needs a timezone"
    weekly_days = body.get("recurrence", {}).get("weekly_days")
    if weekly_days is not None:
        assert WEEKLY_DAYS.fullmatch(weekly_days), weekly_days
        numbers = [int(n) for n in weekly_days.split(",")]
        assert numbers == sorted(set(numbers)), weekly_days
    recurrence = body.get("recurrence")
    if recurrence is not None:
        assert not ("end_times" in recurrence and "end_date_time" in recurrence)
        assert 1 <= recurrence["end_times"] <= 50


# --------------------------------------------------------------------------------------------------
# Segments to build payloads from
# --------------------------------------------------------------------------------------------------


def schedule(
    frequency: str, days: tuple[str, ...], start: str, end: str, tz: str = "Africa/Cairo"
) -> Schedule:
    return Schedule(
        frequency=frequency,  # type: ignore[arg-type]
        days=days,
        start_time=time(17, 0),
        duration=60,
        start_date=date.fromisoformat(start),
        end_date=date.fromisoformat(end),
        timezone=tz,
    )


SEGMENTS = {
    "daily": plan_segments(schedule("daily", (), "2026-12-01", "2026-12-20"))[0],
    "weekly": plan_segments(schedule("weekly", ("monday", "wednesday"), "2026-12-01", "2027-02-28"))[0],
    "biweekly": plan_segments(schedule("biweekly", ("saturday", "sunday"), "2026-12-05", "2027-06-30"))[0],
    "biweekly-second-segment": plan_segments(
        schedule("biweekly", ("monday", "wednesday", "friday"), "2026-12-07", "2028-12-31")
    )[1],
    "monthly": plan_segments(schedule("monthly", (), "2026-12-15", "2030-12-31", "America/New_York"))[0],
    "single-session": plan_segments(schedule("weekly", ("tuesday",), "2026-12-01", "2026-12-01"))[0],
}
KEY = "hk-0b7c1e2f9a6d4c3b8e5f1a2b3c4d5e6f"


def create_body(segment: Segment, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "timezone": "Africa/Cairo",
        "duration": 60,
        "topic": "Tajweed for beginners",
        "agenda": agenda_with_key("Weekly tajweed circle.", KEY),
        "password": "aB3@x-_*!9",
    }
    arguments.update(overrides)
    return meeting_create_payload(segment, **arguments)


# --------------------------------------------------------------------------------------------------
# Create
# --------------------------------------------------------------------------------------------------


def test_create_payload_is_exactly_the_documented_body() -> None:
    segment = SEGMENTS["weekly"]
    assert create_body(segment) == {
        "topic": "Tajweed for beginners",
        "type": 8,
        "start_time": "2026-12-02T17:00:00",
        "timezone": "Africa/Cairo",
        "duration": 60,
        "password": "aB3@x-_*!9",
        "agenda": f"[halaka-key:{KEY}]\n\nWeekly tajweed circle.",
        "recurrence": {"type": 2, "repeat_interval": 1, "weekly_days": "2,4", "end_times": 25},
        "settings": {
            "join_before_host": False,
            "waiting_room": True,
            "approval_type": 2,
            "host_video": True,
            "participant_video": False,
            "mute_upon_entry": True,
        },
    }


@pytest.mark.parametrize("name", list(SEGMENTS))
def test_create_payload_validates_against_zoom_spec(name: str) -> None:
    segment = SEGMENTS[name]
    body = create_body(segment)
    validate_request(*CREATE, body)
    assert body["start_time"] == segment.start_time_local
    assert body["recurrence"] == segment.recurrence


@pytest.mark.parametrize(
    ("field", "text", "limit"),
    [("topic", "t" * 500, 200), ("topic", "ق" * 201, 200), ("agenda", "a" * 5000, 2000)],
    ids=["topic-ascii", "topic-arabic", "agenda-without-key"],
)
def test_create_payload_truncates_long_text(field: str, text: str, limit: int) -> None:
    body = create_body(SEGMENTS["daily"], **{field: text})
    assert body[field] == text[:limit]
    validate_request(*CREATE, body)


def test_create_payload_keeps_the_key_when_cutting_a_long_agenda() -> None:
    long_agenda = f"[halaka-key:{KEY}]\n\n" + "x" * 3000
    body = create_body(SEGMENTS["daily"], agenda=long_agenda)
    assert len(body["agenda"]) <= AGENDA_MAX_LENGTH
    assert key_from_agenda(body["agenda"]) == KEY
    validate_request(*CREATE, body)


def test_create_payload_does_not_share_mutable_state() -> None:
    segment = SEGMENTS["weekly"]
    first = create_body(segment)
    first["recurrence"]["end_times"] = 1
    first["settings"]["waiting_room"] = False
    second = create_body(segment)
    assert segment.recurrence["end_times"] == 25
    assert second["recurrence"]["end_times"] == 25
    assert second["settings"]["waiting_room"] is True


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        pytest.param({"password": "abcdefghijk"}, "password", id="password-11-chars"),
        pytest.param({"password": ""}, "password", id="password-empty"),
        pytest.param({"password": "pass word"}, "password", id="password-space"),
        pytest.param({"password": "pässwort"}, "password", id="password-non-ascii"),
        pytest.param({"password": "abc#123"}, "password", id="password-hash"),
        pytest.param({"duration": 0}, "duration", id="duration-0"),
        pytest.param({"duration": 1441}, "duration", id="duration-1441"),
        pytest.param({"duration": True}, "duration", id="duration-bool"),
        pytest.param({"timezone": ""}, "timezone", id="timezone-empty"),
    ],
)
def test_create_payload_rejects_bad_arguments(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        create_body(SEGMENTS["daily"], **overrides)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("type",), 5, id="meeting-type"),
        pytest.param(("password",), "abcdefghijk", id="password-too-long"),
        pytest.param(("duration",), 0, id="duration"),
        pytest.param(("topic",), "t" * 201, id="topic-too-long"),
        pytest.param(("agenda",), "a" * 2001, id="agenda-too-long"),
        pytest.param(("recurrence", "type"), 4, id="recurrence-type"),
        pytest.param(("recurrence", "end_times"), 61, id="end-times"),
        pytest.param(("recurrence", "weekly_days"), 24, id="weekly-days-not-string"),
        pytest.param(("settings", "approval_type"), 3, id="approval-type"),
        pytest.param(("settings", "waiting_room"), "yes", id="waiting-room-not-bool"),
    ],
)
def test_the_spec_check_catches_bad_bodies(path: tuple[str, ...], value: Any) -> None:
    """The validator above really bites: a body with one bad field fails."""
    body = create_body(SEGMENTS["weekly"])
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        OAS30Validator(request_schema(*CREATE), format_checker=oas30_format_checker).validate(body)


def test_the_spec_check_catches_undeclared_keys() -> None:
    body = create_body(SEGMENTS["weekly"])
    body["settings"]["waiting_rooms"] = True
    body["recurrence"]["weeklyDays"] = "2"
    assert undeclared_keys(body, request_schema(*CREATE)) == [
        "recurrence.weeklyDays",
        "settings.waiting_rooms",
    ]


def test_spec_settings_defaults_match_what_we_send() -> None:
    """Every setting we send is declared in the spec with the type we send."""
    declared = request_schema(*CREATE)["properties"]["settings"]["properties"]
    for key, value in payloads.MEETING_SETTINGS.items():
        expected_type = "boolean" if isinstance(value, bool) else "integer"
        assert declared[key]["type"] == expected_type, key
    assert 2 in declared["approval_type"]["enum"]


# --------------------------------------------------------------------------------------------------
# Update
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "kwargs", "expected"),
    [
        pytest.param(None, {}, {}, id="nothing"),
        pytest.param(None, {"topic": "New title"}, {"topic": "New title"}, id="topic"),
        pytest.param(None, {"topic": "t" * 300}, {"topic": "t" * 200}, id="topic-truncated"),
        pytest.param(None, {"agenda": "About"}, {"agenda": "About"}, id="agenda"),
        pytest.param(None, {"duration": 90}, {"duration": 90}, id="duration"),
        pytest.param(
            SEGMENTS["biweekly"],
            {"timezone": "Africa/Cairo"},
            {
                "start_time": "2026-12-05T17:00:00",
                "timezone": "Africa/Cairo",
                "recurrence": {"type": 2, "repeat_interval": 2, "weekly_days": "1,7", "end_times": 30},
            },
            id="schedule",
        ),
        pytest.param(
            SEGMENTS["monthly"],
            {"timezone": "America/New_York", "duration": 45, "topic": "T", "agenda": "A"},
            {
                "start_time": "2026-12-15T17:00:00",
                "timezone": "America/New_York",
                "recurrence": {"type": 3, "repeat_interval": 1, "monthly_day": 15, "end_times": 49},
                "duration": 45,
                "topic": "T",
                "agenda": "A",
            },
            id="everything",
        ),
    ],
)
def test_update_payload_has_only_the_given_fields(
    segment: Segment | None, kwargs: dict[str, Any], expected: dict[str, Any]
) -> None:
    body = meeting_update_payload(segment, **kwargs)
    assert body == expected
    validate_request(*UPDATE, body)


def test_update_payload_with_segment_needs_timezone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        meeting_update_payload(SEGMENTS["daily"])


@pytest.mark.parametrize("duration", [0, 1441, -1], ids=str)
def test_update_payload_rejects_bad_duration(duration: int) -> None:
    with pytest.raises(ValueError, match="duration"):
        meeting_update_payload(None, duration=duration)


def test_update_payload_keeps_the_key_when_cutting_a_long_agenda() -> None:
    body = meeting_update_payload(None, agenda=agenda_with_key("d" * 1990, KEY))
    assert key_from_agenda(body["agenda"]) == KEY
    body = meeting_update_payload(None, agenda=f"[halaka-key:{KEY}]\n" + "d" * 2500)
    assert len(body["agenda"]) <= AGENDA_MAX_LENGTH
    assert key_from_agenda(body["agenda"]) == KEY


# --------------------------------------------------------------------------------------------------
# Agenda and provisioning key
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param("Weekly circle.", f"[halaka-key:{KEY}]\n\nWeekly circle.", id="short"),
        pytest.param("Weekly circle.\n\n  \n", f"[halaka-key:{KEY}]\n\nWeekly circle.", id="trailing-blank"),
        pytest.param("", f"[halaka-key:{KEY}]", id="empty"),
        pytest.param("   ", f"[halaka-key:{KEY}]", id="blank"),
        pytest.param(None, f"[halaka-key:{KEY}]", id="none"),
        pytest.param("سورة الفاتحة", f"[halaka-key:{KEY}]\n\nسورة الفاتحة", id="arabic"),
    ],
)
def test_agenda_with_key(description: str | None, expected: str) -> None:
    agenda = agenda_with_key(description, KEY)  # type: ignore[arg-type]
    assert agenda == expected
    assert key_from_agenda(agenda) == KEY


@pytest.mark.parametrize("length", [1, 1949, 1950, 1951, 1999, 2000, 2001, 5000, 100_000])
def test_agenda_with_key_cuts_the_description_never_the_key(length: int) -> None:
    description = "ب" * length
    agenda = agenda_with_key(description, KEY)
    assert len(agenda) <= AGENDA_MAX_LENGTH
    assert agenda.startswith(f"[halaka-key:{KEY}]\n\n")
    assert key_from_agenda(agenda) == KEY
    assert key_from_agenda(agenda[:LISTED_AGENDA_LENGTH]) == KEY
    human = agenda[len(f"[halaka-key:{KEY}]\n\n") :]
    if len(description) + len(f"\n\n[halaka-key:{KEY}]") <= AGENDA_MAX_LENGTH:
        assert human == description
    else:
        assert human.endswith("…")
        assert description.startswith(human[:-1])
        assert len(agenda) == AGENDA_MAX_LENGTH


@pytest.mark.parametrize(
    ("agenda", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param("Just a description", None, id="no-key"),
        pytest.param("[halaka-key:abc-123]", "abc-123", id="only-key"),
        pytest.param("About\n\n[halaka-key:abc-123]", "abc-123", id="description-and-key"),
        pytest.param("About\r\n\r\n[halaka-key:abc-123]\r\n", "abc-123", id="crlf-trailing-newline"),
        pytest.param("About\n  [halaka-key:abc-123]  \n\n", "abc-123", id="surrounding-whitespace"),
        pytest.param("[halaka-key:real]\ntext\n[halaka-key:fake]", "real", id="first-line-wins"),
        pytest.param("[halaka-key:abc-123]\nmore text", "abc-123", id="key-first"),
        pytest.param("\n  [halaka-key:abc-123]\n\nmore", "abc-123", id="key-first-after-blank"),
        pytest.param("text\n[halaka-key:abc-123]\nmore text", None, id="key-in-the-middle"),
        pytest.param("see [halaka-key:abc-123]", None, id="key-inside-a-line"),
        pytest.param("[halaka-key:]", None, id="empty-key"),
        pytest.param("[halaka-key:a b]", None, id="key-with-space"),
        pytest.param("[HALAKA-KEY:abc]", None, id="wrong-case-marker"),
    ],
)
def test_key_from_agenda(agenda: str | None, expected: str | None) -> None:
    assert key_from_agenda(agenda) == expected


@pytest.mark.parametrize(
    "key",
    ["", "a]b", "has space", "line\nbreak", "x" * 101, "-leading-dash", "ключ", None],
    ids=["empty", "bracket", "space", "newline", "too-long", "leading-dash", "cyrillic", "none"],
)
def test_agenda_with_key_rejects_bad_keys(key: str) -> None:
    with pytest.raises(ValueError, match="key"):
        agenda_with_key("About", key)


@pytest.mark.parametrize(
    "description",
    ["x" * 2000, "ب" * 2000, "🕌" * 1999, "\n" * 300 + "text", "سورة " * 400, "a\u0301" * 1000],
    ids=["latin", "arabic", "emoji", "newlines", "arabic-words", "combining"],
)
def test_the_key_survives_zoom_listing_truncation(description: str) -> None:
    agenda = agenda_with_key(description, KEY + ".12.49")
    assert key_from_agenda(agenda[:LISTED_AGENDA_LENGTH]) == KEY + ".12.49"
    assert len(f"[halaka-key:{'k' * 100}]") < LISTED_AGENDA_LENGTH // 2


def test_description_cannot_fake_the_key() -> None:
    agenda = agenda_with_key("About\n[halaka-key:someone-else]", KEY)
    assert key_from_agenda(agenda) == KEY


# --------------------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", range(1, 11), ids=str)
def test_generate_password_length_and_alphabet(length: int) -> None:
    for _ in range(50):
        password = generate_password(length)
        assert len(password) == length
        assert set(password) <= set(PASSWORD_ALPHABET)
        if length >= 3:
            assert set(password) & set(string.ascii_letters)
            assert set(password) & set(string.digits)
            assert set(password) & set("@-_*!")


def test_generate_password_default_is_ten_and_valid_for_zoom() -> None:
    password = generate_password()
    assert len(password) == 10
    body = create_body(SEGMENTS["daily"], password=password)
    validate_request(*CREATE, body)


def test_password_alphabet() -> None:
    assert string.ascii_letters + string.digits + "@-_*!" == PASSWORD_ALPHABET


def test_generate_password_is_random() -> None:
    passwords = [generate_password() for _ in range(1000)]
    assert len(set(passwords)) >= 999
    # every character of the alphabet shows up across 10,000 characters
    assert set("".join(passwords)) == set(PASSWORD_ALPHABET)


def test_generate_password_uses_the_secrets_module(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter("aaaaa" + "a1!zz")
    monkeypatch.setattr(payloads.secrets, "choice", lambda alphabet: next(drawn))
    # the first draw lacks a digit and a special character, so it is drawn again
    assert generate_password(5) == "a1!zz"


@pytest.mark.parametrize("length", [0, -1, 11, 64, True, 2.5], ids=str)
def test_generate_password_rejects_bad_length(length: Any) -> None:
    with pytest.raises(ValueError, match="length"):
        generate_password(length)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T17:00:00Z", datetime(2026, 12, 1, 17, tzinfo=UTC)),
        ("2026-12-01T19:00:00+02:00", datetime(2026, 12, 1, 17, tzinfo=UTC)),
        ("2026-12-01T17:00:00", datetime(2026, 12, 1, 17, tzinfo=UTC)),  # no offset: UTC, not local
    ],
)
def test_from_zoom_utc_reads_what_zoom_utc_writes(text, expected):
    from shared.zoom.payloads import from_zoom_utc, zoom_utc

    assert from_zoom_utc(text) == expected
    assert from_zoom_utc(zoom_utc(expected)) == expected


def test_from_zoom_utc_refuses_what_is_not_a_date_time():
    from shared.zoom.payloads import from_zoom_utc

    with pytest.raises(ValueError):
        from_zoom_utc("soon")
