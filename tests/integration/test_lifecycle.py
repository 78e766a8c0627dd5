"""Every (state, event) pair through the real lifecycle functions on PostgreSQL: allowed transitions
happen as the table says, the others are refused and leave the row as it was."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from shared import lifecycle
from shared.db import session_scope
from shared.lifecycle import TRANSITIONS, Event, Interrupted, Outcome, Refused, Run, State
from shared.models import Halaka
from tests.factories import insert_user, make_halaka

PAIRS = [(s, e, p) for s in State for e in Event if e is not Event.CREATED for p in (False, True)]
LATER = datetime(2100, 1, 1, tzinfo=UTC)


def _row(state: State, provisioned: bool) -> int:
    teacher = insert_user("T", f"t-{state}-{provisioned}-{datetime.now().timestamp()}@example.com", "teacher")
    halaka_id = make_halaka(teacher, status=state.value)
    with session_scope() as s:
        s.execute(
            update(Halaka)
            .where(Halaka.id == halaka_id)
            .values(applied_version=int(provisioned), schedule_version=2, attempts=1, next_attempt_at=LATER)
        )
    return halaka_id


def _read(halaka_id: int) -> Halaka | None:
    with session_scope() as s:
        return s.get(Halaka, halaka_id)


def _api(change, halaka_id: int) -> bool:
    with session_scope() as s:
        h = lifecycle.lock(s, halaka_id)
        try:
            change(h)
        except Refused:
            return False
    return True


def _reason(host: str | None) -> str:
    return f"boom for {host}"


def _fire(event: Event, halaka_id: int) -> bool:
    """Perform `event` with the function that owns it; True when it happened, False when refused."""
    version = 2
    if event is Event.REQUEST_SYNC:
        return _api(lifecycle.request_sync, halaka_id)
    if event is Event.RETRY:
        return _api(lifecycle.retry, halaka_id)
    if event is Event.REQUEST_DELETE:
        return _api(lifecycle.request_delete, halaka_id)
    if event is Event.RELEASE:
        with session_scope() as s:
            lifecycle.release(s, halaka_id)
        return _read(halaka_id).next_attempt_at < LATER
    if event is Event.LEASE:  # due only as seen from LATER: a reconciler running now leaves it alone
        return halaka_id in {i for i, _ in lifecycle.lease_due(now=LATER)}
    if event in (Event.START, Event.START_DELETE):
        run = Run.SYNC if event is Event.START else Run.DELETE
        return lifecycle.start(halaka_id, run, lambda h: h.id) == halaka_id
    if event is Event.CALL:
        try:
            with lifecycle.zoom_call(halaka_id, version):
                return True
        except Interrupted:
            return False
    if event in (Event.DEFER, Event.DEFER_DELETE):
        run = Run.SYNC if event is Event.DEFER else Run.DELETE
        outcome, _ = lifecycle.defer(halaka_id, run, wait=lambda _n: 1.0, reason=_reason, version=version)
        return outcome is Outcome.RETRYING
    if event in (Event.FAIL, Event.FAIL_DELETE):
        run = Run.SYNC if event is Event.FAIL else Run.DELETE
        return lifecycle.fail(halaka_id, run, reason=_reason, version=version) in (
            Outcome.FAILED,
            Outcome.DEFERRED,
        )
    if event is Event.FINISH:
        return lifecycle.finish(halaka_id, version) is Outcome.READY
    if event is Event.FORGET:
        return lifecycle.forget(halaka_id) is Outcome.DELETED
    raise AssertionError(f"no function performs {event}")


@pytest.mark.parametrize(("state", "event", "provisioned"), PAIRS)
def test_every_state_event_pair(state, event, provisioned):
    halaka_id = _row(state, provisioned)
    if event is Event.LEASE:  # due at LATER
        with session_scope() as s:
            s.execute(
                update(Halaka).where(Halaka.id == halaka_id).values(next_attempt_at=LATER - timedelta(days=1))
            )
    before = _read(halaka_id)
    happened = _fire(event, halaka_id)
    after = _read(halaka_id)
    allowed = event in TRANSITIONS[state]
    assert happened == allowed, (state, event)
    if not allowed:
        assert after is not None
        assert (after.zoom_status, after.attempts, after.zoom_error, after.next_attempt_at) == (
            before.zoom_status,
            before.attempts,
            before.zoom_error,
            before.next_attempt_at,
        )
        return
    expected = lifecycle.next_state(state, event, provisioned)
    if expected is None:
        assert after is None
    else:
        assert after.zoom_status == expected


def test_created_starts_pending_with_a_lease():
    teacher = insert_user("T", "created@example.com", "teacher")
    h = Halaka(title="x", teacher_id=teacher)
    lifecycle.created(h)
    assert h.zoom_status == State.pending and h.attempts == 0 and h.zoom_error is None
    assert h.next_attempt_at > datetime.now(UTC)


def test_a_stale_failure_does_not_fail_the_newer_schedule():
    halaka_id = _row(State.updating, True)
    assert lifecycle.fail(halaka_id, Run.SYNC, reason=_reason, version=1) is Outcome.CHANGED
    h = _read(halaka_id)
    assert h.zoom_status == State.updating and h.next_attempt_at <= datetime.now(UTC)


def test_budget_spent_fails_with_the_reason_and_uncounted_defers_give_the_attempt_back(monkeypatch):
    from shared.settings import get_settings

    monkeypatch.setattr(get_settings(), "provision_max_attempts", 3)
    halaka_id = _row(State.provisioning, False)
    outcome, _ = lifecycle.defer(halaka_id, Run.SYNC, wait=lambda _n: 1, reason=_reason, counted=False)
    assert outcome is Outcome.RETRYING and _read(halaka_id).attempts == 0
    with session_scope() as s:
        s.execute(update(Halaka).where(Halaka.id == halaka_id).values(attempts=3))
    outcome, _ = lifecycle.defer(halaka_id, Run.SYNC, wait=lambda _n: 1, reason=_reason, version=2)
    h = _read(halaka_id)
    assert outcome is Outcome.FAILED and h.zoom_status == State.failed
    assert h.zoom_error == "gave up after 3 attempts: boom for host@example.com"
    assert h.next_attempt_at is None


@pytest.mark.parametrize("wait", [1e12, float("inf"), float("nan"), 10**30, -5.0])
def test_any_wait_is_clamped_to_a_day_and_an_hour(wait):
    halaka_id = _row(State.provisioning, False)
    outcome, seconds = lifecycle.defer(halaka_id, Run.SYNC, wait=lambda _n: wait, reason=_reason, version=2)
    h = _read(halaka_id)
    assert 0 <= seconds <= lifecycle.MAX_WAIT.total_seconds()
    assert h.next_attempt_at <= datetime.now(UTC) + lifecycle.MAX_WAIT + timedelta(minutes=5)
    assert h.zoom_error.startswith("boom for")
    assert outcome in (Outcome.RETRYING, Outcome.DEFERRED)


def test_a_deletion_waits_for_the_zoom_call_in_progress():
    halaka_id = _row(State.provisioning, False)
    order: list[str] = []
    entered = threading.Event()

    def delete() -> None:
        entered.wait(5)
        _api(lifecycle.request_delete, halaka_id)
        order.append("delete committed")

    thread = threading.Thread(target=delete)
    thread.start()
    with lifecycle.zoom_call(halaka_id, 2):
        entered.set()
        thread.join(0.5)
        order.append("zoom call done")
    thread.join(5)
    assert order == ["zoom call done", "delete committed"]
    with pytest.raises(Interrupted) as stop, lifecycle.zoom_call(halaka_id, 2):
        pass
    assert stop.value.outcome is Outcome.STOPPED


def test_a_newer_schedule_interrupts_the_run_before_its_next_call():
    halaka_id = _row(State.updating, True)
    with pytest.raises(Interrupted) as stop, lifecycle.zoom_call(halaka_id, 1):
        pass
    assert stop.value.outcome is Outcome.CHANGED
