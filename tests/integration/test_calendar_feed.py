"""The calendar feed against the sessions list, with a real worker and the sandbox: after a cancel, a move
and an extra session reached Zoom, the student's feed (parsed with icalendar, converted to UTC) holds
exactly the sessions `GET /halaka/{id}/sessions` lists for them over the feed's window; unenrolled, the
halaka's events are gone; a replaced token's URL is 404."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from shared.calendar_feed import feed_window
from tests.integration.helpers import create, utc, wait_status
from tests.worker_fixture import wait_for


def _listed(client, who, halaka_id: int) -> list[dict]:
    r = client.get(f"/api/v1/halaka/{halaka_id}/sessions?includePast=true&limit=500", headers=who.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]["sessions"]


def _settled(client, who, halaka_id: int, *occurrence_ids: str) -> list[dict]:
    def done():
        items = _listed(client, who, halaka_id)
        ids = {s["occurrenceId"]: s for s in items}
        return items if all(o in ids and not ids[o]["pending"] for o in occurrence_ids) else None

    return wait_for(done, 40, 0.2, f"sessions {occurrence_ids} to reach Zoom")


def _feed(client, path: str) -> dict[str, dict]:
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "text/calendar", r.data[:300]
    out = {}
    for event in Calendar.from_ical(r.data).walk("VEVENT"):
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None and event["DTSTART"].params["TZID"] == "Africa/Cairo"
        out[str(event["UID"])] = {
            "start": start.astimezone(UTC),
            "minutes": int((event.decoded("DTEND") - start).total_seconds() // 60),
            "cancelled": str(event["STATUS"]) == "CANCELLED",
            "sequence": int(event["SEQUENCE"]),
            "url": str(event.get("URL", "")),
        }
    return out


def test_the_feed_equals_the_sessions_list_with_cancelled_moved_and_extra_sessions(client, make_user, worker):
    teacher = make_user("teacher")
    student = make_user("student")
    data = wait_status(client, teacher, create(client, teacher)["id"], worker=worker)
    assert data["zoomStatus"] == "ready", data
    halaka_id = data["id"]
    assert client.post(f"/api/v1/halaka/{halaka_id}/enroll", headers=student.headers).status_code == 200
    planned = _listed(client, teacher, halaka_id)
    cancelled, moved = planned[1]["occurrenceId"], planned[2]["occurrenceId"]
    r = client.post(
        f"/api/v1/halaka/{halaka_id}/sessions/{cancelled}/cancel",
        json={"reason": "Eid"},
        headers=teacher.headers,
    )
    assert r.status_code == 200, r.json
    new_start = utc(planned[2]["startUtc"]) + timedelta(hours=3)
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}/sessions/{moved}",
        json={"startUtc": new_start.isoformat(), "duration": 45},
        headers=teacher.headers,
    )
    assert r.status_code == 200, r.json
    extra_day = utc(planned[-1]["startUtc"]).date() + timedelta(days=1)
    r = client.post(
        f"/api/v1/halaka/{halaka_id}/sessions",
        json={"date": extra_day.isoformat(), "startTime": "10:00"},
        headers=teacher.headers,
    )
    assert r.status_code == 201, r.json
    extra = r.json["data"]["occurrenceId"]
    listed = _settled(client, student, halaka_id, cancelled, moved, extra)

    path = client.get("/api/v1/calendar/token", headers=student.headers).json["data"]["path"]
    feed = _feed(client, path)
    since, until = feed_window(datetime.now(UTC))
    expected = {
        f"halaka-{halaka_id}-{s['occurrenceId']}@halaka-zoom": {
            "start": utc(s["startUtc"]),
            "minutes": s["duration"],
            "cancelled": s["status"] == "cancelled",
        }
        for s in listed
        if since <= utc(s["startUtc"]) <= until
    }
    assert {uid: {k: e[k] for k in ("start", "minutes", "cancelled")} for uid, e in feed.items()} == expected
    uid = f"halaka-{halaka_id}-{{}}@halaka-zoom".format
    assert feed[uid(cancelled)]["cancelled"] and feed[uid(cancelled)]["url"] == ""
    assert feed[uid(moved)]["start"] == new_start and feed[uid(moved)]["minutes"] == 45
    extra_start = datetime.combine(extra_day, time(10, 0), ZoneInfo("Africa/Cairo")).astimezone(UTC)
    assert feed[uid(extra)]["start"] == extra_start
    for changed in (cancelled, moved, extra):
        assert feed[uid(changed)]["sequence"] >= 1
    untouched = planned[0]["occurrenceId"]
    assert feed[uid(untouched)]["sequence"] == 0 and "zoom.us/j/" in feed[uid(untouched)]["url"]
    assert "zoom.us/j/" in feed[uid(extra)]["url"]  # its own standalone meeting's join link

    # the halaka's own calendar for the signed-in student is the same events
    r = client.get(f"/api/v1/halaka/{halaka_id}/calendar.ics", headers=student.headers)
    assert {str(e["UID"]) for e in Calendar.from_ical(r.data).walk("VEVENT")} == set(expected)

    assert client.delete(f"/api/v1/halaka/{halaka_id}/enroll", headers=student.headers).status_code == 200
    assert _feed(client, path) == {}
    assert client.post("/api/v1/calendar/token", headers=student.headers).status_code == 200
    assert client.get(path).status_code == 404
