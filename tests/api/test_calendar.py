"""Calendar feeds over HTTP (real PostgreSQL and Redis, no worker): the secret URL and its token, who
sees which halakat, join links per visibility, conditional requests, bounded work."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import update

from shared.calendar_feed import feed_window
from shared.db import session_scope
from shared.models import Halaka, User
from tests.factories import PASSWORD, enroll, insert_user, make_halaka

FEED = "/api/v1/calendar"
HOST = "owner@zoom.test"


def feed_path(client, account) -> str:
    r = client.get(f"{FEED}/token", headers=account.headers)
    assert r.status_code == 200, r.json
    assert r.headers["Cache-Control"] == "no-store"
    return r.json["data"]["path"]


def events(response) -> list:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data).walk("VEVENT")


def halakat_in(response) -> set[int]:
    return {int(str(e["UID"]).split("-")[1]) for e in events(response)}


@pytest.fixture
def scene(make_user):
    """Two halakat of two teachers (the owner's on its own Zoom user), a student enrolled in the first."""
    accounts = {
        "owner": make_user("teacher", zoom_user_id=HOST),
        "other": make_user("teacher"),
        "student": make_user("student"),
        "outsider": make_user("student"),
        "admin": make_user("admin"),
    }
    first = make_halaka(accounts["owner"].id, meeting_ids=(81000000001, 81000000002), host=HOST)
    second = make_halaka(accounts["other"].id, meeting_ids=(81000000003,), title="Other")
    enroll(first, accounts["student"].id)
    return accounts, first, second


def test_the_token_is_shown_again_and_a_new_one_kills_the_old_url(client, scene, caplog):
    accounts, first, _ = scene
    student = accounts["student"]
    path = feed_path(client, student)
    token = path.removeprefix(f"{FEED}/").removesuffix(".ics")
    assert len(token) == 43  # 256 bits of a `secrets` seed, keyed
    shown = client.get(f"{FEED}/token", headers=student.headers).json["data"]
    assert shown["token"] == token and shown["url"].endswith(path) and shown["url"].startswith("http")
    assert halakat_in(client.get(path)) == {first}
    replaced = client.post(f"{FEED}/token", headers=student.headers)
    assert replaced.status_code == 200 and replaced.headers["Cache-Control"] == "no-store"
    new_path = replaced.json["data"]["path"]
    assert new_path != path
    gone = client.get(path)
    assert gone.status_code == 404 and gone.json == {"status": "error", "message": "Calendar feed not found"}
    assert halakat_in(client.get(new_path)) == {first}
    assert client.get(f"{FEED}/token", headers=student.headers).json["data"]["path"] == new_path
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert token not in logged and new_path not in logged  # the token is a secret: never logged


def test_token_endpoints_need_a_login_and_tokens_differ_per_user(client, scene):
    accounts, _, _ = scene
    assert client.get(f"{FEED}/token").status_code == 401
    assert client.post(f"{FEED}/token").status_code == 401
    paths = {feed_path(client, a) for a in accounts.values()}
    assert len(paths) == len(accounts)


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 64, "..", "%C3%A9"])
def test_unknown_tokens_are_404_json(client, scene, token):
    r = client.get(f"{FEED}/{token}.ics")
    assert r.status_code == 404 and r.json["status"] == "error"


@pytest.mark.parametrize("token", ["A" * 65, "%00"])
def test_a_token_no_token_can_be_is_400_naming_it(client, scene, token):
    r = client.get(f"{FEED}/{token}.ics")
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "token"


def test_a_deactivated_user_s_feed_is_404(client, scene):
    accounts, _, _ = scene
    path = feed_path(client, accounts["student"])
    with session_scope() as s:
        s.execute(update(User).where(User.id == accounts["student"].id).values(active=False))
    assert client.get(path).status_code == 404


def test_who_sees_which_halakat(client, scene):
    accounts, first, second = scene
    unapproved = insert_user("Pending", "pending@example.com", "teacher", approved=False)
    pending_halaka = make_halaka(unapproved, meeting_ids=(81000000004,))
    expected = {"owner": {first}, "other": {second}, "student": {first}, "outsider": set(), "admin": set()}
    for who, halakat in expected.items():
        assert halakat_in(client.get(feed_path(client, accounts[who]))) == halakat, who
    admin_path = feed_path(client, accounts["admin"])
    asked = client.get(admin_path, query_string=[("halakaId", first), ("halakaId", pending_halaka)])
    assert halakat_in(asked) == {first, pending_halaka}
    # asking narrows, never widens: a student asking for a halaka they are not enrolled in gets nothing of it
    student_path = feed_path(client, accounts["student"])
    assert halakat_in(client.get(student_path, query_string={"halakaId": second})) == set()
    login = client.post("/api/v1/auth/login", json={"email": "pending@example.com", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json['data']['accessToken']}"}
    path = client.get(f"{FEED}/token", headers=headers).json["data"]["path"]
    assert halakat_in(client.get(path)) == set()  # an unapproved teacher's own halaka is not theirs yet


def test_halaka_calendar_access_table(client, scene):
    accounts, first, second = scene
    table = {
        "owner": (200, 404),
        "other": (404, 200),
        "student": (200, 404),
        "outsider": (404, 404),
        "admin": (200, 200),
    }
    for who, (one, two) in table.items():
        headers = accounts[who].headers
        got = tuple(
            client.get(f"/api/v1/halaka/{h}/calendar.ics", headers=headers).status_code
            for h in (first, second)
        )
        assert got == (one, two), who
    assert client.get(f"/api/v1/halaka/{first}/calendar.ics").status_code == 401
    missing = client.get("/api/v1/halaka/424242/calendar.ics", headers=accounts["admin"].headers)
    assert missing.status_code == 404 and missing.json["message"] == "Halaka not found"


def test_join_links_follow_the_visibility_rule(client, scene):
    accounts, first, second = scene
    for who, visible in (("owner", True), ("student", True), ("admin", True), ("outsider", False)):
        r = client.get(f"/api/v1/halaka/{first}/calendar.ics", headers=accounts[who].headers)
        if not visible:
            assert r.status_code == 404
            continue
        text = r.data.replace(b"\r\n ", b"").decode()
        assert "https://zoom.example/j/81000000001" in text and "Passcode: pw0" in text, who
        assert "zak=" not in text and "/s/" not in text
    # the other teacher's halaka as its own teacher (on a shared host: join, never start)
    other = client.get(f"/api/v1/halaka/{second}/calendar.ics", headers=accounts["other"].headers)
    assert "zoom.example/j/81000000003" in other.data.replace(b"\r\n ", b"").decode()


def test_repeat_requests_get_304_and_a_change_a_new_body(client, scene):
    accounts, first, _ = scene
    path = feed_path(client, accounts["student"])
    r = client.get(path)
    tag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    assert r.headers["Cache-Control"] == "private, no-cache" and r.headers["Referrer-Policy"] == "no-referrer"
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(path).headers["Last-Modified"] == modified  # first seen, not "now"
    assert (
        client.delete(f"/api/v1/halaka/{first}/enroll", headers=accounts["student"].headers).status_code
        == 200
    )
    after = client.get(path, headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.headers["ETag"] != tag
    assert halakat_in(after) == set()  # unenrolled: its events are gone


def test_a_halaka_stored_over_ten_thousand_years_costs_milliseconds(client, scene):
    accounts, first, _ = scene
    with session_scope() as s:
        s.execute(
            update(Halaka)
            .where(Halaka.id == first)
            .values(frequency="daily", days=[], start_date=date(1, 1, 1), end_date=date(9999, 12, 31))
        )
    path = feed_path(client, accounts["student"])
    client.get(path)  # warm: the first render loads zone data
    started = time.perf_counter()
    r = client.get(path)
    elapsed = time.perf_counter() - started
    found = events(r)
    assert 350 < len(found) <= 1000  # every day of the window (30 back, a year ahead), capped
    since, until = feed_window(datetime.now(UTC))
    starts = [e.decoded("DTSTART").astimezone(UTC) for e in found]
    assert since <= min(starts) and max(starts) < until
    print(f"feed of {len(found)} events over a 0001..9999 halaka: {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0, elapsed


def test_feed_requests_are_limited_per_client_address(client, scene, monkeypatch):
    from shared.settings import Settings, get_settings

    assert Settings.model_fields["calendar_feed_rate_limit"].default == "60 per minute"
    monkeypatch.setattr(get_settings(), "calendar_feed_rate_limit", "3 per minute")
    accounts, _, _ = scene
    path = feed_path(client, accounts["student"])

    def status(address: str, forwarded: str | None = None) -> int:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return client.get(path, environ_base={"REMOTE_ADDR": address}, headers=headers).status_code

    assert [status("198.51.100.1") for _ in range(3)] == [200, 200, 200]
    limited = client.get(path, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert limited.status_code == 429 and limited.json["status"] == "error"
    assert status("198.51.100.1", forwarded="203.0.113.5") == 429  # no trusted proxy: the header is ignored
    assert status("198.51.100.2") == 200  # another address has its own bucket
    assert client.get(f"{FEED}/unknown.ics", environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 429
