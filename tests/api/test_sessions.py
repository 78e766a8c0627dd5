"""The sessions list and the single-session writes at the API (no worker: the task is only enqueued).
What reaches Zoom is tested with a real worker and the sandbox in tests/integration/test_sessions.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

import shared.sessions as single
from shared.db import session_scope
from shared.models import Halaka, SessionChange
from shared.sessions import occurrence_id_of
from shared.zoom.recurrence import sessions
from tests.factories import make_halaka


@pytest.fixture
def scene(make_user):
    teacher = make_user("teacher", zoom_user_id="own@example.com")
    halaka_id = make_halaka(teacher.id, meeting_ids=(81234567890,), host="own@example.com")
    return teacher, halaka_id


def _planned(halaka_id: int, n: int = 6) -> list[datetime]:
    with session_scope() as s:
        h = s.get(Halaka, halaka_id)
        return [x.start_utc for x in sessions(h.schedule, after=datetime.now(UTC), limit=n)]


def _list(client, who, halaka_id, query: str = "") -> list[dict]:
    r = client.get(f"/api/v1/halaka/{halaka_id}/sessions{query}", headers=who.headers)
    assert r.status_code == 200, r.json
    return r.json["data"]["sessions"]


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def test_items_carry_occurrence_id_and_status(client, scene):
    teacher, halaka_id = scene
    items = _list(client, teacher, halaka_id, "?limit=3")
    planned = _planned(halaka_id, 3)
    assert [i["occurrenceId"] for i in items] == [occurrence_id_of(p) for p in planned]
    assert {i["status"] for i in items} == {"scheduled"}
    assert all(i["cancelReason"] is None and i["originalStartUtc"] is None for i in items)


def test_cancel_move_add_and_restore_show_in_the_list(client, scene):
    teacher, halaka_id = scene
    first, second, third = (occurrence_id_of(p) for p in _planned(halaka_id, 3))
    base = f"/api/v1/halaka/{halaka_id}/sessions"
    r = client.post(f"{base}/{first}/cancel", json={"reason": "Eid"}, headers=teacher.headers)
    assert r.status_code == 200, r.json
    assert r.json["data"]["status"] == "cancelled" and r.json["data"]["pending"] is True
    again = client.post(f"{base}/{first}/cancel", json={}, headers=teacher.headers)
    assert again.status_code == 200 and again.json["message"] == "Session already cancelled"
    new_time = _planned(halaka_id, 2)[1] + timedelta(hours=3)
    r = client.patch(f"{base}/{second}", json={"startUtc": new_time.isoformat()}, headers=teacher.headers)
    assert r.status_code == 200, r.json
    day = (datetime.now(UTC) + timedelta(days=9)).date().isoformat()
    r = client.post(base, json={"date": day, "startTime": "08:00", "duration": 30}, headers=teacher.headers)
    assert r.status_code == 201, r.json
    extra = r.json["data"]["occurrenceId"]
    assert extra.startswith("x") and r.json["data"]["extra"] is True
    items = {i["occurrenceId"]: i for i in _list(client, teacher, halaka_id, "?limit=10")}
    assert items[first]["status"] == "cancelled" and items[first]["cancelReason"] == "Eid"
    assert _utc(items[second]["startUtc"]) == new_time
    assert _utc(items[second]["originalStartUtc"]) == _planned(halaka_id, 2)[1]
    assert items[extra]["duration"] == 30 and items[third]["status"] == "scheduled"
    cancelled = _list(client, teacher, halaka_id, "?status=cancelled")
    assert [i["occurrenceId"] for i in cancelled] == [first]
    r = client.post(f"{base}/{first}/restore", headers=teacher.headers)
    assert r.status_code == 200 and r.json["data"]["status"] == "scheduled" and r.json["data"]["restored"]
    with session_scope() as s:
        versions = dict(s.execute(select(SessionChange.occurrence_id, SessionChange.version)).all())
    assert versions[first] == 2 and versions[second] == 1  # the feed's SEQUENCE


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"startUtc": "2020-01-01T10:00:00Z"}, "startUtc"),
        ({"date": "2020-01-01", "startTime": "10:00"}, "date"),
        ({"date": "2099-01-01"}, "startTime"),
        ({"startTime": "10:00"}, "date"),
    ],
)
def test_a_move_into_the_past_or_half_given_is_400_naming_the_field(client, scene, body, field):
    teacher, halaka_id = scene
    first = occurrence_id_of(_planned(halaka_id, 1)[0])
    r = client.patch(f"/api/v1/halaka/{halaka_id}/sessions/{first}", json=body, headers=teacher.headers)
    assert r.status_code == 400 and field in [e["field"] for e in r.json["errors"]], r.json


def test_a_move_onto_another_sessions_slot_is_400(client, scene):
    teacher, halaka_id = scene
    first, second = _planned(halaka_id, 2)
    onto = (second + timedelta(minutes=30)).isoformat()
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}/sessions/{occurrence_id_of(first)}",
        json={"startUtc": onto},
        headers=teacher.headers,
    )
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "startUtc"
    day = second.astimezone(ZoneInfo("Africa/Cairo")).date().isoformat()
    r = client.post(
        f"/api/v1/halaka/{halaka_id}/sessions",
        json={"date": day, "startTime": "17:30"},
        headers=teacher.headers,
    )
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "date"
    # the slot a cancelled session leaves is free
    r = client.post(
        f"/api/v1/halaka/{halaka_id}/sessions/{occurrence_id_of(second)}/cancel",
        json={},
        headers=teacher.headers,
    )
    assert r.status_code == 200, r.json
    r = client.patch(
        f"/api/v1/halaka/{halaka_id}/sessions/{occurrence_id_of(first)}",
        json={"startUtc": onto},
        headers=teacher.headers,
    )
    assert r.status_code == 200, r.json


@pytest.mark.parametrize("occurrence", ["1234", "x99999", occurrence_id_of(datetime(2020, 1, 1, tzinfo=UTC))])
def test_an_unknown_session_is_404(client, scene, occurrence):
    teacher, halaka_id = scene
    base = f"/api/v1/halaka/{halaka_id}/sessions/{occurrence}"
    for r in (
        client.post(f"{base}/cancel", json={}, headers=teacher.headers),
        client.post(f"{base}/restore", headers=teacher.headers),
        client.patch(base, json={"duration": 30}, headers=teacher.headers),
    ):
        assert r.status_code == 404 and r.json["status"] == "error", r.json


def test_restore_of_a_session_never_cancelled_is_409(client, scene):
    teacher, halaka_id = scene
    first = occurrence_id_of(_planned(halaka_id, 1)[0])
    r = client.post(f"/api/v1/halaka/{halaka_id}/sessions/{first}/restore", headers=teacher.headers)
    assert r.status_code == 409


def test_single_session_writes_wait_for_a_ready_halaka(client, scene):
    teacher, halaka_id = scene
    with session_scope() as s:
        s.execute(update(Halaka).where(Halaka.id == halaka_id).values(zoom_status="updating"))
    first = occurrence_id_of(_planned(halaka_id, 1)[0])
    r = client.post(f"/api/v1/halaka/{halaka_id}/sessions/{first}/cancel", json={}, headers=teacher.headers)
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("query", "field"), [("?from=yesterday", "from"), ("?to=2027-13-01", "to"), ("?status=gone", "status")]
)
def test_bad_filters_are_400_naming_the_field(client, scene, query, field):
    teacher, halaka_id = scene
    r = client.get(f"/api/v1/halaka/{halaka_id}/sessions{query}", headers=teacher.headers)
    assert r.status_code == 400 and field in [e["field"] for e in r.json["errors"]], r.json


def test_from_to_and_include_past(client, scene):
    teacher, halaka_id = scene
    planned = _planned(halaka_id, 6)
    tz = ZoneInfo("Africa/Cairo")
    lo, hi = planned[1].astimezone(tz).date().isoformat(), planned[3].astimezone(tz).date().isoformat()
    items = _list(client, teacher, halaka_id, f"?from={lo}&to={hi}")
    assert [_utc(i["startUtc"]) for i in items] == planned[1:4]
    with session_scope() as s:  # began 30 days ago
        s.execute(
            update(Halaka).where(Halaka.id == halaka_id).values(start_date=date.today() - timedelta(days=30))
        )
    past = _list(client, teacher, halaka_id, "?includePast=true&limit=500")
    assert _utc(past[0]["startUtc"]) < datetime.now(UTC) - timedelta(days=25)
    assert _utc(_list(client, teacher, halaka_id)[0]["startUtc"]) > datetime.now(UTC) - timedelta(hours=2)


class _Counting:
    """Wraps the lazy generator: every expansion's start, and how many sessions it produced."""

    def __init__(self, real):
        self.real, self.afters, self.produced = real, [], 0

    def __call__(self, schedule, *, after=None):
        self.afters.append(after)
        for x in self.real(schedule, after=after):
            self.produced += 1
            yield x


def test_a_halaka_stored_from_year_1_to_9999_lists_cancels_and_moves_from_a_bounded_start(
    client, scene, monkeypatch
):
    teacher, halaka_id = scene
    with session_scope() as s:
        s.execute(
            update(Halaka)
            .where(Halaka.id == halaka_id)
            .values(frequency="daily", days=[], start_date=date(1, 1, 1), end_date=date(9999, 12, 31))
        )
    counting = _Counting(single.iter_sessions)
    monkeypatch.setattr(single, "iter_sessions", counting)
    floor = datetime.now(UTC) - timedelta(days=single.PAST_DAYS + 1)
    items = _list(client, teacher, halaka_id, "?limit=500&includePast=true")
    assert len(items) == 500
    first, second = items[-2]["occurrenceId"], items[-1]["occurrenceId"]
    base = f"/api/v1/halaka/{halaka_id}/sessions"
    assert client.post(f"{base}/{first}/cancel", json={}, headers=teacher.headers).status_code == 200
    moved = (_utc(items[-1]["startUtc"]) + timedelta(hours=5)).isoformat()
    r = client.patch(f"{base}/{second}", json={"startUtc": moved}, headers=teacher.headers)
    assert r.status_code == 200, r.json
    assert _list(client, teacher, halaka_id, "?status=cancelled")[0]["occurrenceId"] == first
    assert counting.afters and all(a is not None and a > floor for a in counting.afters)
    assert counting.produced < 2_000, counting.produced  # from year 1 it would be ~740,000 per call


def test_cancel_without_a_body_means_no_reason(client, scene):
    teacher, halaka_id = scene
    first = occurrence_id_of(_planned(halaka_id, 1)[0])
    r = client.post(f"/api/v1/halaka/{halaka_id}/sessions/{first}/cancel", headers=teacher.headers)
    assert r.status_code == 200, r.json
    assert r.json["data"]["status"] == "cancelled" and r.json["data"]["cancelReason"] is None
    r = client.post(
        f"/api/v1/halaka/{halaka_id}/sessions/{first}/cancel", json=["Eid"], headers=teacher.headers
    )
    assert r.status_code == 400 and r.json["status"] == "error"  # a body, but not an object


def test_a_move_onto_its_own_slot_changes_nothing_and_charges_nothing(client, make_user, monkeypatch):
    from shared import host_budget
    from shared.settings import get_settings

    monkeypatch.setattr(get_settings(), "zoom_default_host_user", "host@example.com")
    teacher = make_user("teacher")  # no Zoom user of its own: the shared host's budget
    halaka_id = make_halaka(teacher.id, meeting_ids=(81234567891,))
    first = _planned(halaka_id, 1)[0]
    url = f"/api/v1/halaka/{halaka_id}/sessions/{occurrence_id_of(first)}"
    for body in ({}, {"startUtc": first.isoformat()}, {"duration": 60}):
        r = client.patch(url, json=body, headers=teacher.headers)
        assert r.status_code == 200 and r.json["message"] == "Session unchanged", r.json
        assert r.json["data"]["pending"] is False
    with session_scope() as s:
        assert s.scalar(select(SessionChange.id)) is None
    assert host_budget.used("host@example.com", teacher.id) == 0


@pytest.mark.parametrize(
    ("method", "suffix", "body", "field"),
    [
        ("patch", "/{first}", {"startUtc": "9998-06-01T00:00:00Z"}, "startUtc"),
        ("patch", "/{first}", {"date": "2500-01-01", "startTime": "10:00"}, "date"),
        ("post", "", {"date": "9998-12-31", "startTime": "10:00"}, "date"),
    ],
)
def test_a_session_reaches_no_further_than_a_schedule_may(client, scene, method, suffix, body, field):
    teacher, halaka_id = scene
    first = occurrence_id_of(_planned(halaka_id, 1)[0])
    url = f"/api/v1/halaka/{halaka_id}/sessions" + suffix.format(first=first)
    r = getattr(client, method)(url, json=body, headers=teacher.headers)
    assert r.status_code == 400 and field in [e["field"] for e in r.json["errors"]], r.json


def test_extra_sessions_are_capped_per_halaka(client, scene, monkeypatch):
    from api.blueprints import sessions as routes

    monkeypatch.setattr(routes, "MAX_EXTRA_SESSIONS", 3)
    teacher, halaka_id = scene
    base = f"/api/v1/halaka/{halaka_id}/sessions"
    day = (datetime.now(UTC) + timedelta(days=9)).date()
    added = []
    for n in range(3):
        r = client.post(
            base,
            json={"date": day.isoformat(), "startTime": f"0{n + 1}:00", "duration": 30},
            headers=teacher.headers,
        )
        assert r.status_code == 201, r.json
        added.append(r.json["data"]["occurrenceId"])
    r = client.post(base, json={"date": day.isoformat(), "startTime": "06:00"}, headers=teacher.headers)
    assert r.status_code == 400 and r.json["errors"][0]["field"] == "date", r.json
    # a cancelled extra session still holds its place (its row stays until it is over)
    assert client.post(f"{base}/{added[0]}/cancel", headers=teacher.headers).status_code == 200
    r = client.post(base, json={"date": day.isoformat(), "startTime": "06:00"}, headers=teacher.headers)
    assert r.status_code == 400


def test_a_schedule_edit_charges_the_single_session_changes_it_writes_again(client, make_user, monkeypatch):
    """Re-planned segments hold their sessions as planned: the kept cancel and move are written to Zoom
    again and the dropped extra session's meeting deleted, each one write of the shared host's budget;
    a 429 leaves every change as it was."""
    from shared import host_budget
    from shared.settings import get_settings
    from shared.zoom.recurrence import Schedule

    monkeypatch.setattr(get_settings(), "zoom_default_host_user", "host@example.com")
    teacher = make_user("teacher")
    halaka_id = make_halaka(teacher.id, meeting_ids=(81234567892,))
    first, second = _planned(halaka_id, 2)
    base = f"/api/v1/halaka/{halaka_id}/sessions"
    assert client.post(f"{base}/{occurrence_id_of(first)}/cancel", headers=teacher.headers).status_code == 200
    r = client.patch(
        f"{base}/{occurrence_id_of(second)}",
        json={"startUtc": (second + timedelta(hours=3)).isoformat()},
        headers=teacher.headers,
    )
    assert r.status_code == 200, r.json
    tuesday = next(
        d for d in (first + timedelta(days=n) for n in range(1, 8)) if d.strftime("%A") == "Tuesday"
    )
    r = client.post(
        base,
        json={"date": tuesday.astimezone(ZoneInfo("Africa/Cairo")).date().isoformat(), "startTime": "17:00"},
        headers=teacher.headers,
    )
    assert r.status_code == 201, r.json
    with session_scope() as s:  # the extra session has a meeting of its own (as after its task)
        s.execute(
            update(SessionChange).where(SessionChange.occurrence_id.is_(None)).values(create_pending=True)
        )
        schedule = s.get(Halaka, halaka_id).schedule
    before = host_budget.used("host@example.com", teacher.id)
    new = {"days": ["monday", "tuesday", "wednesday"]}
    segments = host_budget.writes_for(Schedule(**{**schedule.__dict__, "days": tuple(new["days"])}))
    monkeypatch.setattr(get_settings(), "shared_host_teacher_daily_writes", before + segments + 2)
    r = client.patch(f"/api/v1/halaka/{halaka_id}", json={"schedule": new}, headers=teacher.headers)
    assert r.status_code == 429, r.json
    with session_scope() as s:
        assert s.get(Halaka, halaka_id).schedule == schedule
        assert not any(c.dropped for c in s.scalars(select(SessionChange)))
    monkeypatch.setattr(get_settings(), "shared_host_teacher_daily_writes", before + segments + 3)
    r = client.patch(f"/api/v1/halaka/{halaka_id}", json={"schedule": new}, headers=teacher.headers)
    assert r.status_code == 200, r.json
    assert host_budget.used("host@example.com", teacher.id) == before + segments + 3
