"""The lifecycle table as data: its rules, and that no other module writes the lifecycle columns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.lifecycle import ACTIVE, SAME, TRANSITIONS, Event, Refused, State, next_state

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = {"zoom_status", "attempts", "next_attempt_at", "zoom_error"}
SYNC_RUN = {Event.START, Event.CALL, Event.DEFER, Event.FAIL, Event.FINISH}
DELETE_RUN = {Event.START_DELETE, Event.DEFER_DELETE, Event.FAIL_DELETE, Event.FORGET}

# (state, event, provisioned before) -> expected; written out, not derived from the table.
EXPECTED = {
    (None, Event.CREATED, False): State.pending,
    (State.pending, Event.START, False): State.provisioning,
    (State.provisioning, Event.FINISH, False): State.ready,
    (State.updating, Event.FINISH, True): State.ready,
    (State.ready, Event.REQUEST_SYNC, True): State.updating,
    (State.provisioning, Event.REQUEST_SYNC, False): State.provisioning,
    (State.updating, Event.START, True): State.updating,
    (State.failed, Event.RETRY, False): State.pending,
    (State.failed, Event.RETRY, True): State.updating,
    (State.failed, Event.REQUEST_SYNC, True): State.updating,
    (State.provisioning, Event.FAIL, False): State.failed,
    (State.updating, Event.DEFER, True): State.updating,
    (State.ready, Event.REQUEST_DELETE, True): State.deleting,
    (State.failed, Event.REQUEST_DELETE, False): State.deleting,
    (State.provisioning, Event.REQUEST_DELETE, False): State.deleting,
    (State.deleting, Event.FAIL_DELETE, True): State.deleting,
    (State.deleting, Event.FORGET, True): None,
}
REFUSED = [
    (State.ready, Event.RETRY),
    (State.pending, Event.RETRY),
    (State.deleting, Event.REQUEST_DELETE),
    (State.deleting, Event.REQUEST_SYNC),
    (State.ready, Event.START),
    (State.failed, Event.START),
    (State.pending, Event.FINISH),
    (State.ready, Event.FORGET),
    (State.provisioning, Event.FORGET),
    (State.ready, Event.CREATED),
]


@pytest.mark.parametrize(("state", "event", "provisioned"), list(EXPECTED))
def test_expected_transitions(state, event, provisioned):
    assert next_state(state, event, provisioned) == EXPECTED[(state, event, provisioned)]


@pytest.mark.parametrize(("state", "event"), REFUSED)
def test_refused_transitions(state, event):
    with pytest.raises(Refused):
        next_state(state, event, True)


def test_every_state_has_a_row_and_every_target_is_a_state():
    assert set(TRANSITIONS) == {None, *State}
    for row in TRANSITIONS.values():
        for target in row.values():
            targets = target if isinstance(target, tuple) else (target,)
            assert all(t in (None, SAME, *State) for t in targets)


def test_no_sync_run_event_touches_a_deleting_halaka_and_deletion_is_final():
    assert not SYNC_RUN & set(TRANSITIONS[State.deleting])
    for state, row in TRANSITIONS.items():
        if state is not State.deleting:
            assert not DELETE_RUN & set(row), state
    for event in Event:
        for provisioned in (False, True):
            try:
                target = next_state(State.deleting, event, provisioned)
            except Refused:
                continue
            assert target in (State.deleting, None)


def test_every_active_state_can_be_leased_and_resting_states_cannot():
    for state in State:
        assert (Event.LEASE in TRANSITIONS[state]) == (state in ACTIVE)


def test_there_is_no_stored_deleted_state():
    assert "deleted" not in {s.value for s in State}


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    """Assignments to an attribute named like a lifecycle column, and such keywords or dict keys in calls."""
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Attribute) and leaf.attr in COLUMNS:
                    found.append((node.lineno, leaf.attr))
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for kw in node.keywords:
                if kw.arg in COLUMNS and name in ("Halaka", "values", "update", "insert"):
                    found.append((node.lineno, kw.arg))
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.lower()
            if "update halakat" in text or "insert into halakat" in text:
                found.append((node.lineno, "SQL writing halakat"))
    return found


def test_no_module_but_the_lifecycle_writes_the_lifecycle_columns():
    offenders = {}
    for folder in ("api", "shared", "workers", "stack"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "shared" / "lifecycle.py":
                continue
            writes = _writes(ast.parse(path.read_text(), str(path)))
            if writes:
                offenders[str(path.relative_to(ROOT))] = writes
    assert offenders == {}


def test_the_writer_check_sees_each_kind_of_write():
    source = (
        "h.zoom_status = 'x'\nh.attempts += 1\nh.a, h.zoom_error = 1, 2\n"
        "Halaka(next_attempt_at=None)\nupdate(Halaka).values(zoom_status='x')\n"
        "s.execute('UPDATE halakat SET zoom_status = 1')\n"
    )
    assert [w[1] for w in _writes(ast.parse(source))] == [
        "zoom_status",
        "attempts",
        "zoom_error",
        "next_attempt_at",
        "zoom_status",
        "SQL writing halakat",
    ]
