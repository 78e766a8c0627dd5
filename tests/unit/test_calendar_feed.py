"""Calendar feed rendering, conditional requests and feed tokens: pure, table-driven (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from shared import calendar_feed, feed_token
from shared.calendar_feed import FeedHalaka, JoinLink, feed_window, not_modified, render
from shared.sessions import SessionView

NOW = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)
REVISED = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
CHANGED = datetime(2027, 3, 9, 20, 0, tzinfo=UTC)
JOIN = JoinLink("https://zoom.us/j/81234567890?pwd=enc", "Ab1@-_")


def session(occurrence_id: str, start: datetime, **overrides) -> SessionView:
    fields = {
        "occurrence_id": occurrence_id,
        "start_utc": start,
        "duration": 45,
        "status": "scheduled",
        "original_start_utc": None,
        "cancel_reason": None,
        "meeting_id": 81234567890,
        "sequence": 0,
        "changed_at": None,
    }
    fields.update(overrides)
    return SessionView(**fields)


# Europe/Berlin changes to summer time on 2027-03-28: 17:00 local is 16:00 UTC before, 15:00 after.
BEFORE_DST = datetime(2027, 3, 16, 16, 0, tzinfo=UTC)
AFTER_DST = datetime(2027, 3, 30, 15, 0, tzinfo=UTC)
SESSIONS = [
    session("1805212800000", BEFORE_DST),
    session("1806422400000", AFTER_DST),
    session(
        "1805817600000",
        datetime(2027, 3, 23, 16, 0, tzinfo=UTC),
        status="cancelled",
        cancel_reason="Eid",
        sequence=1,
        changed_at=CHANGED,
    ),
    session(
        "1807027200000",
        datetime(2027, 4, 7, 14, 0, tzinfo=UTC),
        sequence=2,
        changed_at=CHANGED,
        original_start_utc=datetime(2027, 4, 6, 15, 0, tzinfo=UTC),
    ),
]


def halaka(**overrides) -> FeedHalaka:
    fields = {
        "id": 7,
        "title": "Tajweed, level 2",
        "description": "Bring the mushaf",
        "timezone": "Europe/Berlin",
        "revised_at": REVISED,
        "sessions": SESSIONS,
        "show_join": True,
        "links": {81234567890: JOIN},
    }
    fields.update(overrides)
    return FeedHalaka(**fields)


def events(body: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(body)
    out = {}
    for event in calendar.walk("VEVENT"):
        out[str(event["UID"])] = {
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "tzid": event["DTSTART"].params.get("TZID"),
            "sequence": int(event["SEQUENCE"]),
            "status": str(event["STATUS"]),
            "url": str(event.get("URL", "")) or None,
            "location": str(event.get("LOCATION", "")) or None,
            "description": str(event.get("DESCRIPTION", "")),
            "dtstamp": event.decoded("DTSTAMP"),
        }
    return out


def test_one_event_per_session_at_its_local_time_with_stable_uids() -> None:
    got = events(render("Feed", [halaka()], feed_window(NOW)))
    assert sorted(got) == sorted(f"halaka-7-{s.occurrence_id}@halaka-zoom" for s in SESSIONS)
    berlin = ZoneInfo("Europe/Berlin")
    for s in SESSIONS:
        event = got[calendar_feed.event_uid(7, s.occurrence_id)]
        assert event["tzid"] == "Europe/Berlin"
        assert event["start"].astimezone(UTC) == s.start_utc
        assert event["end"] - event["start"] == timedelta(minutes=45)
        assert event["sequence"] == s.sequence
        assert event["dtstamp"].astimezone(UTC) == (s.changed_at or REVISED)
    assert got[calendar_feed.event_uid(7, "1805212800000")]["start"].astimezone(berlin).hour == 17
    assert got[calendar_feed.event_uid(7, "1806422400000")]["start"].astimezone(berlin).hour == 17


def test_vtimezone_for_every_zone_used_and_only_over_the_window() -> None:
    riyadh = halaka(id=8, timezone="Asia/Riyadh", sessions=[session("1", BEFORE_DST)])
    calendar = Calendar.from_ical(render("Feed", [halaka(), riyadh], feed_window(NOW)))
    zones = {str(tz["TZID"]): tz for tz in calendar.walk("VTIMEZONE")}
    assert set(zones) == {"Europe/Berlin", "Asia/Riyadh"}
    assert calendar.get_missing_tzids() == set()
    starts = [sub.decoded("DTSTART") for sub in zones["Europe/Berlin"].subcomponents]
    assert min(starts).year >= 2027 - 1 and max(starts).year <= 2028


CASES = [
    # id, halaka overrides, session index, status, url shown, passcode shown, description has
    ("scheduled-joiner", {}, 0, "CONFIRMED", True, True, "Join: https://zoom.us/j/81234567890?pwd=enc"),
    ("scheduled-not-joiner", {"show_join": False}, 0, "CONFIRMED", False, False, "Bring the mushaf"),
    ("cancelled-joiner", {}, 2, "CANCELLED", False, False, "Cancelled: Eid"),
    ("moved-joiner", {}, 3, "CONFIRMED", True, True, "Join:"),
    ("no-meeting-yet", {"links": {}}, 0, "CONFIRMED", False, False, "Bring the mushaf"),
    (
        "link-without-passcode",
        {"links": {81234567890: JoinLink(JOIN.url, None)}},
        0,
        "CONFIRMED",
        True,
        False,
        "Join:",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "index", "status", "url", "passcode", "text"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_status_and_join_link_per_visibility(overrides, index, status, url, passcode, text) -> None:
    body = render("Feed", [halaka(**overrides)], feed_window(NOW))
    event = events(body)[calendar_feed.event_uid(7, SESSIONS[index].occurrence_id)]
    assert event["status"] == status
    assert (event["url"] == JOIN.url) is url and (event["location"] == JOIN.url) is url
    assert ("Passcode: Ab1@-_" in event["description"]) is passcode
    assert text in event["description"]
    if not url:
        assert "zoom.us/j/" not in event["description"]
    if not overrides.get("show_join", True) or overrides.get("links") == {}:
        assert b"zoom.us/j/" not in body.replace(b"\r\n ", b"")
    assert b"/s/" not in body and b"zak=" not in body  # never a start link


def test_the_same_feed_renders_to_the_same_bytes_and_a_change_to_other_bytes() -> None:
    window = feed_window(NOW)
    first = render("Feed", [halaka()], window)
    assert render("Feed", [halaka()], feed_window(NOW + timedelta(hours=5))) == first
    moved = [replace(SESSIONS[0], start_utc=BEFORE_DST + timedelta(hours=1), sequence=1, changed_at=CHANGED)]
    assert calendar_feed.etag(render("Feed", [halaka(sessions=moved)], window)) != calendar_feed.etag(first)


def test_events_are_in_start_order_and_capped(monkeypatch) -> None:
    monkeypatch.setattr(calendar_feed, "MAX_EVENTS", 3)
    got = list(events(render("Feed", [halaka()], feed_window(NOW))).values())
    assert [e["start"].astimezone(UTC) for e in got] == sorted(s.start_utc for s in SESSIONS)[:3]


def test_an_empty_feed_is_a_valid_calendar() -> None:
    calendar = Calendar.from_ical(render("Nobody's", [], feed_window(NOW)))
    assert calendar.walk("VEVENT") == [] and str(calendar["X-WR-CALNAME"]) == "Nobody's"
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"]) == calendar_feed.PRODID


def test_window_starts_at_the_start_of_the_day_30_days_back_and_reaches_a_year() -> None:
    since, until = feed_window(datetime(2027, 3, 10, 23, 59, tzinfo=ZoneInfo("Asia/Riyadh")))
    assert since == datetime(2027, 2, 8, tzinfo=UTC)
    assert until == datetime(2028, 3, 10, tzinfo=UTC)


LAST = datetime(2027, 3, 9, 20, 0, 0, tzinfo=UTC)
TAG = '"abc"'
CONDITIONS = [
    # if-none-match, if-modified-since, 304?
    (None, None, False),
    ('"abc"', None, True),
    ('W/"abc"', None, True),
    ('"x", "abc"', None, True),
    ("*", None, True),
    ('"other"', None, False),
    ('"other"', "Tue, 09 Mar 2027 20:00:00 GMT", False),  # If-None-Match decides when present
    (None, "Tue, 09 Mar 2027 20:00:00 GMT", True),
    (None, "Wed, 10 Mar 2027 08:00:00 GMT", True),
    (None, "Tue, 09 Mar 2027 19:59:59 GMT", False),
    (None, "not a date", False),
    (None, "", False),
]


@pytest.mark.parametrize(("inm", "ims", "expected"), CONDITIONS)
def test_not_modified(inm, ims, expected) -> None:
    assert not_modified(inm, ims, TAG, LAST + timedelta(microseconds=999)) is expected


def test_http_date_is_rfc_9110() -> None:
    assert calendar_feed.http_date(LAST) == "Tue, 09 Mar 2027 20:00:00 GMT"


def test_feed_tokens_derive_from_seed_and_key() -> None:
    seed, other = b"\x01" * 32, b"\x02" * 32
    token = feed_token.token_for(seed, b"key")
    assert len(token) == feed_token.TOKEN_LENGTH and token.replace("-", "").replace("_", "").isalnum()
    assert feed_token.token_for(seed, b"key") == token
    assert feed_token.token_for(other, b"key") != token
    assert feed_token.token_for(seed, b"rotated") != token
    assert len(feed_token.new_seed()) == 32 and feed_token.new_seed() != feed_token.new_seed()
    assert feed_token.lookup_digest(token) != feed_token.lookup_digest(token + "x")
    assert len(feed_token.lookup_digest("\udcff")) == 32  # any path text hashes, never raises
