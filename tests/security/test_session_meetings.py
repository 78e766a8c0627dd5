"""Restored and extra sessions' own Zoom meetings follow the same signature and visibility rules as the
halaka's segment meetings: for every role, halaka and signature role, the answer for a standalone meeting
is the answer for the segment (the access matrix fixes the segment's answers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.db import session_scope
from shared.models import SessionChange, ZoomMeeting
from shared.sessions import occurrence_id_of
from tests.security.world import ROLES, build_world

KINDS = ("restored", "extra")


def _standalone(halaka_id: int, kind: str, meeting_id: int) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5, hours=3)
    with session_scope() as s:
        change = SessionChange(
            halaka_id=halaka_id,
            occurrence_id=occurrence_id_of(start) if kind == "restored" else None,
            planned_start=start if kind == "restored" else None,
            start_utc=start,
            duration=60,
            occurrence_deleted=kind == "restored",
            version=1,
            applied_version=1,
        )
        s.add(change)
        s.flush()
        s.add(
            ZoomMeeting(
                halaka_id=halaka_id,
                segment_index=-change.id,
                session_change_id=change.id,
                meeting_id=meeting_id,
                password="pw-own",
                join_url=f"https://zoom.example/j/{meeting_id}",
                first_start=start,
                last_start=start,
                occurrence_count=1,
                occurrence_ids=[],
            )
        )


@pytest.fixture
def world(app):
    w = build_world(app)
    standalone = {}
    for n, halaka_id in enumerate((w.own, w.other, w.relinked, w.unapproved)):
        for k, kind in enumerate(KINDS):
            meeting_id = 50_000_000_000 + w.meetings[halaka_id] % 1_000_000 * 10 + n * 2 + k
            _standalone(halaka_id, kind, meeting_id)
            standalone[(halaka_id, kind)] = meeting_id
    return w, standalone


def _sign(client, who, meeting_id: int, role: int) -> int:
    headers = who.headers if who is not None else {}
    r = client.post(
        "/api/v1/zoom/signature", json={"meetingNumber": str(meeting_id), "role": role}, headers=headers
    )
    return r.status_code


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_signatures_for_a_sessions_own_meeting_are_those_of_its_segment(client, world, role, kind):
    w, standalone = world
    who = w.outsider if role == "outsider" else w.as_role(role)
    for halaka_id in (w.own, w.other, w.relinked, w.unapproved):
        for sig_role in (0, 1):
            segment = _sign(client, who, w.meetings[halaka_id], sig_role)
            own = _sign(client, who, standalone[(halaka_id, kind)], sig_role)
            assert own == segment, (role, kind, halaka_id, sig_role, own, segment)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"] + ["outsider"])
def test_a_sessions_own_meeting_shows_its_secrets_to_whom_the_segment_shows_them(client, world, role):
    w, standalone = world
    who = w.outsider if role == "outsider" else w.as_role(role)
    for halaka_id in (w.own, w.other, w.relinked, w.unapproved):
        r = client.get(f"/api/v1/halaka/{halaka_id}", headers=who.headers)
        assert r.status_code == 200, r.json
        meetings = {m["meetingId"]: m for m in r.json["data"]["zoomMeetings"]}
        segment = meetings[str(w.meetings[halaka_id])]
        for kind in KINDS:
            own = meetings[str(standalone[(halaka_id, kind)])]
            assert own["segment"] < 0 <= segment["segment"]
            for secret in ("password", "joinUrl", "startUrl"):
                assert (secret in own) == (secret in segment), (role, kind, secret)
