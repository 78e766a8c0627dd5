"""What can happen to a halaka: its Zoom states, the events that move it, and the only code that writes
`zoom_status`, `attempts`, `next_attempt_at` and `zoom_error` (a test enforces it).

    state         event            next state       who
    (new)         created          pending          API POST
    pending, provisioning, updating  request_sync  (same)   API PATCH (schedule changed): a new version
    ready         request_sync     updating
    failed        request_sync     pending|updating         "|": never provisioned | provisioned before
    failed        retry            pending|updating API POST …/zoom/retry (only from failed)
    any           request_delete   deleting         API DELETE (deleting itself: refused, 409)
    pending, provisioning, updating  start  provisioning|updating   worker: a sync pass begins (attempt +1)
    provisioning, updating  call   (same)           worker: around each Zoom call; refused once deleting
    provisioning, updating  defer  (same)           worker: transient failure, next attempt stored
    provisioning, updating  fail   failed           worker: permanent failure or attempt budget spent
    provisioning, updating  finish ready            worker: the latest schedule is on Zoom
    deleting      start_delete, defer_delete, fail_delete  deleting   (a failing deletion retries hourly)
    deleting      forget           (row removed)    worker: every meeting is gone from Zoom
    active        lease, release   (same)           reconciler / API: work taken for a lease / due now

A halaka is *active* (the reconciler watches it) while pending, provisioning, updating or deleting.
`ready` and `failed` are at rest; `failed` waits for a retry or a schedule change. There is no stored
`deleted`: a deleted halaka is a row that no longer exists (404).

API side — the caller holds the row lock (`lock()`) and commits: `created`, `request_sync`, `retry`,
`request_delete`, then `release` if the enqueue failed. A refused transition raises `Refused`.
Worker side — each call is its own transaction on a locked row and answers an `Outcome`, never raises
for a refused transition: `start`, `defer`, `fail`, `finish`, `forget`, `lease_due`; and `zoom_call`,
a context manager a sync run wraps each Zoom call in (it raises `Interrupted` when the halaka is being
deleted or has a newer schedule, and holds a share lock so a deletion commits only between calls).
A sync run's `defer`/`fail`/`finish` never touch a halaka that is being deleted, and a failure of a run
whose schedule was replaced meanwhile does not fail the halaka: the new schedule gets its own run.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Literal, TypeGuard, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.models import Halaka, ZoomStatus
from shared.outcomes import announce
from shared.settings import get_settings
from shared.task_queue import lease

State = ZoomStatus
T = TypeVar("T")

#: Celery countdowns stay short (docs/architecture.md); a longer wait is stored for the reconciler.
MAX_COUNTDOWN = 600.0
#: The longest any wait can be (the daily limit resets within a day): no value freezes a halaka.
MAX_WAIT = timedelta(hours=25)
#: A deletion that keeps failing is tried again this often.
DELETE_RETRY = timedelta(hours=1)


class Event(enum.StrEnum):
    CREATED = "created"
    REQUEST_SYNC = "request_sync"
    RETRY = "retry"
    REQUEST_DELETE = "request_delete"
    START = "start"
    CALL = "call"
    DEFER = "defer"
    FAIL = "fail"
    FINISH = "finish"
    START_DELETE = "start_delete"
    DEFER_DELETE = "defer_delete"
    FAIL_DELETE = "fail_delete"
    FORGET = "forget"
    LEASE = "lease"
    RELEASE = "release"


class Run(enum.Enum):
    """Which worker run reports: its events differ (a sync run must never touch a deleting halaka)."""

    SYNC = "sync"
    DELETE = "delete"


class Outcome(enum.StrEnum):
    """What a worker call (and so a task) ended with."""

    READY = "ready"
    CHANGED = "changed again; re-run"
    NOTHING = "nothing to do"
    BUSY = "busy"
    RETRYING = "retrying"
    DEFERRED = "deferred"
    FAILED = "failed"
    STOPPED = "stopped: being deleted"
    DELETED = "deleted"


class Refused(Exception):
    """A transition the table does not allow (the API answers 409)."""

    def __init__(self, state: str | None, event: Event) -> None:
        super().__init__(f"{event} is not allowed while the halaka is {state or 'gone'}")
        self.state, self.event = state, event


P, S, U, R, F, D = (
    State.pending,
    State.provisioning,
    State.updating,
    State.ready,
    State.failed,
    State.deleting,
)


class _Same(enum.Enum):
    SAME = "same"


SAME = _Same.SAME  # the state does not change
AGAIN = (P, U)  # (never provisioned before, provisioned before)
RUNNING = (S, U)
GONE = None  # the row is removed
E = Event
Target = State | tuple[State, State] | Literal[_Same.SAME] | None
_RUNNING_SYNC: dict[Event, Target] = {
    E.REQUEST_SYNC: SAME, E.REQUEST_DELETE: D, E.START: RUNNING, E.CALL: SAME,
    E.DEFER: SAME, E.FAIL: F, E.FINISH: R, E.LEASE: SAME, E.RELEASE: SAME,
}  # fmt: skip

#: state -> {event: next state}; an event missing from a state's row is refused.
TRANSITIONS: dict[State | None, dict[Event, Target]] = {
    None: {E.CREATED: P},
    P: {E.REQUEST_SYNC: SAME, E.REQUEST_DELETE: D, E.START: RUNNING, E.LEASE: SAME, E.RELEASE: SAME},
    S: _RUNNING_SYNC,
    U: _RUNNING_SYNC,
    R: {E.REQUEST_SYNC: U, E.REQUEST_DELETE: D},
    F: {E.REQUEST_SYNC: AGAIN, E.RETRY: AGAIN, E.REQUEST_DELETE: D},
    D: {
        E.START_DELETE: SAME, E.DEFER_DELETE: SAME, E.FAIL_DELETE: SAME, E.FORGET: GONE,
        E.LEASE: SAME, E.RELEASE: SAME,
    },
}  # fmt: skip
ACTIVE = (P, S, U, D)


def next_state(state: str | None, event: Event, provisioned: bool) -> State | None:
    """The state `event` leads to from `state` (None: the row goes); `Refused` if the table has no entry."""
    current = State(state) if state is not None else None
    row = TRANSITIONS[current]
    if event not in row:
        raise Refused(state, event)
    target = row[event]
    if target is SAME:
        return current
    if isinstance(target, tuple):
        return target[1] if provisioned else target[0]
    return target


def _now() -> datetime:
    return datetime.now(UTC)


def _move(h: Halaka, event: Event) -> None:
    """Apply the table to a locked row (raises `Refused`); `status_changed_at` follows the status."""
    target = next_state(h.zoom_status, event, h.applied_version > 0)
    if target is not None and target != h.zoom_status:
        h.zoom_status, h.status_changed_at = target, _now()


def _allowed(h: Halaka | None, event: Event) -> TypeGuard[Halaka]:
    return h is not None and event in TRANSITIONS[State(h.zoom_status)]


# --- API side: the caller's session, a locked row, the caller commits ---------------------------------


def lock(session: Session, halaka_id: int) -> Halaka | None:
    """The halaka re-read under a row lock held until the caller's transaction ends."""
    return session.get(Halaka, halaka_id, with_for_update={"of": Halaka}, populate_existing=True)


def _first_state() -> State:
    state = next_state(None, Event.CREATED, False)
    if state is None:  # pragma: no cover - the table creates every halaka in a state
        raise RuntimeError("TRANSITIONS creates no row")
    return state


def created(h: Halaka) -> None:
    """A new halaka: pending, its first schedule version waiting for a worker."""
    h.zoom_status, h.status_changed_at = _first_state(), _now()
    h.schedule_version, h.applied_version, h.create_pending = 1, 0, False
    h.attempts, h.zoom_error, h.plan_after = 0, None, _now()
    h.next_attempt_at = _now() + lease()


def _queued(h: Halaka, event: Event) -> None:
    _move(h, event)
    h.attempts, h.zoom_error = 0, None
    h.next_attempt_at = _now() + lease()


def request_sync(h: Halaka) -> None:
    """A new schedule (already stored on the locked row) must reach Zoom: a new version."""
    _queued(h, Event.REQUEST_SYNC)
    h.schedule_version += 1


def retry(h: Halaka) -> None:
    """Try a failed halaka again from a clean attempt budget."""
    _queued(h, Event.RETRY)


def request_delete(h: Halaka) -> None:
    """Delete its Zoom meetings, then the halaka; a sync run in progress stops before its next Zoom call."""
    _move(h, Event.REQUEST_DELETE)
    h.attempts, h.zoom_error = 0, None
    h.next_attempt_at = _now() + lease()


def release(session: Session, halaka_id: int) -> None:
    """Work could not be enqueued: make it due now, so the reconciler enqueues it."""
    session.execute(
        update(Halaka)
        .where(Halaka.id == halaka_id, Halaka.zoom_status.in_(ACTIVE))
        .values(next_attempt_at=_now())
    )


# --- worker side: one transaction each, on a locked row ------------------------------------------------


def _locked(s: Session, halaka_id: int) -> Halaka | None:
    return s.get(Halaka, halaka_id, with_for_update={"of": Halaka}, populate_existing=True)


def start(halaka_id: int, run: Run, read: Callable[[Halaka], T]) -> T | Outcome:
    """Begin a pass (attempt counted, lease taken) and return `read(halaka)`, or why there is none."""
    event = Event.START if run is Run.SYNC else Event.START_DELETE
    with session_scope() as s:
        h = _locked(s, halaka_id)
        if not _allowed(h, event):
            return Outcome.STOPPED if h is not None and h.zoom_status == D else Outcome.NOTHING
        _move(h, event)
        h.attempts += 1
        h.next_attempt_at = _now() + lease()
        return read(h)


class Interrupted(Exception):
    """A sync run must stop before its next Zoom call; `outcome` says why (`STOPPED` or `CHANGED`)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


@contextmanager
def zoom_call(halaka_id: int, version: int) -> Iterator[None]:
    """Around one Zoom call of a sync run of `version`: raise `Interrupted` before it when the halaka
    is being deleted (or gone) or has a newer schedule; during it hold a share lock on the row, so a
    deletion (which locks the row for update) is committed only between two calls, never during one.
    Write nothing to the halaka inside the block (it would wait for this very lock)."""
    with session_scope() as s:
        h = s.get(Halaka, halaka_id, with_for_update={"of": Halaka, "read": True}, populate_existing=True)
        if not _allowed(h, Event.CALL):
            raise Interrupted(Outcome.STOPPED)
        if h.schedule_version != version:
            raise Interrupted(Outcome.CHANGED)
        yield


def _announces(record: Callable[..., T]) -> Callable[..., T]:
    """After a worker recorded an outcome (its transaction committed), wake `Prefer: wait` requests."""

    @wraps(record)
    def recorded(halaka_id: int, *args: object, **kwargs: object) -> T:
        outcome = record(halaka_id, *args, **kwargs)
        announce(halaka_id)
        return outcome

    return recorded


@_announces
def finish(halaka_id: int, version: int) -> Outcome:
    """A sync pass applied `version`: `READY`, or `CHANGED` when a newer schedule arrived meanwhile."""
    with session_scope() as s:
        h = _locked(s, halaka_id)
        if not _allowed(h, Event.FINISH):
            return Outcome.STOPPED
        h.applied_version, h.create_pending = version, False
        if h.schedule_version != version:
            return Outcome.CHANGED
        _move(h, Event.FINISH)
        h.zoom_error, h.attempts, h.next_attempt_at = None, 0, None
        return Outcome.READY


def _stale(h: Halaka, run: Run, version: int | None) -> bool:
    """A sync run's report about a schedule that has been replaced since it started."""
    return run is Run.SYNC and version is not None and h.schedule_version != version


@_announces
def defer(
    halaka_id: int,
    run: Run,
    *,
    wait: Callable[[int], float],
    reason: Callable[[str | None], str],
    version: int | None = None,
    counted: bool = True,
) -> tuple[Outcome, float]:
    """A transient failure: try again after `wait(attempts)` seconds (clamped to `MAX_WAIT`).

    `reason(host)` becomes `zoomError`. A counted failure that has spent `PROVISION_MAX_ATTEMPTS` fails
    instead; an uncounted one (a rate limit: the shared budget's job) gives its attempt back. Answers
    `RETRYING` (retry after the returned seconds with a Celery countdown), `DEFERRED` (the reconciler
    enqueues it when due), `FAILED`, `CHANGED` or `STOPPED` (a sync run's halaka is being deleted).
    """
    event = Event.DEFER if run is Run.SYNC else Event.DEFER_DELETE
    with session_scope() as s:
        h = _locked(s, halaka_id)
        if not _allowed(h, event):
            return Outcome.STOPPED, 0.0
        attempts = h.attempts if counted else max(0, h.attempts - 1)
        if counted and attempts >= get_settings().provision_max_attempts and not _stale(h, run, version):
            return _failed(h, run, f"gave up after {attempts} attempts: {reason(h.zoom_host)}"), 0.0
        _move(h, event)
        seconds = float(wait(attempts))
        seconds = (
            min(max(seconds, 0.0), MAX_WAIT.total_seconds())
            if math.isfinite(seconds)
            else MAX_WAIT.total_seconds()
        )
        h.attempts = attempts
        h.zoom_error = (
            f"{reason(h.zoom_host)} (attempt {attempts}, retrying)" if counted else reason(h.zoom_host)
        )
        due = _now() + timedelta(seconds=seconds)
        if seconds > MAX_COUNTDOWN:
            h.next_attempt_at = due
            return Outcome.DEFERRED, seconds
        h.next_attempt_at = due + lease()  # Celery retries it then; the lease covers that
        return Outcome.RETRYING, seconds


@_announces
def fail(
    halaka_id: int, run: Run, *, reason: Callable[[str | None], str], version: int | None = None
) -> Outcome:
    """A permanent failure: `failed` with `reason(host)` as `zoomError` (a deletion is retried hourly).

    A sync run whose schedule was replaced meanwhile does not fail the halaka: it is due again at once.
    """
    event = Event.FAIL if run is Run.SYNC else Event.FAIL_DELETE
    with session_scope() as s:
        h = _locked(s, halaka_id)
        if not _allowed(h, event):
            return Outcome.STOPPED
        if _stale(h, run, version):
            h.zoom_error, h.next_attempt_at = reason(h.zoom_host), _now()
            return Outcome.CHANGED
        return _failed(h, run, reason(h.zoom_host))


def _failed(h: Halaka, run: Run, message: str) -> Outcome:
    _move(h, Event.FAIL if run is Run.SYNC else Event.FAIL_DELETE)
    h.zoom_error = message
    h.next_attempt_at = _now() + DELETE_RETRY if run is Run.DELETE else None
    return Outcome.FAILED if run is Run.SYNC else Outcome.DEFERRED


def forget(halaka_id: int) -> Outcome:
    """Every meeting of a deleting halaka is gone from Zoom: remove the row (and its children)."""
    with session_scope() as s:
        h = _locked(s, halaka_id)
        if not _allowed(h, Event.FORGET):
            return Outcome.NOTHING
        next_state(h.zoom_status, Event.FORGET, False)
        s.delete(h)
        return Outcome.DELETED


def lease_due(limit: int = 500, now: datetime | None = None) -> list[tuple[int, State]]:
    """Active halakat whose work is due (never enqueued, lease expired, deferred until `now`), leased."""
    now = now or _now()
    with session_scope() as s:
        rows = s.scalars(
            select(Halaka)
            .where(Halaka.zoom_status.in_(ACTIVE))
            .where((Halaka.next_attempt_at.is_(None)) | (Halaka.next_attempt_at <= now))
            .order_by(Halaka.next_attempt_at.nulls_first())
            .limit(limit)
            .with_for_update(skip_locked=True, of=Halaka)
        ).all()
        for h in rows:
            _move(h, Event.LEASE)
            h.next_attempt_at = now + lease()
        return [(h.id, State(h.zoom_status)) for h in rows]
