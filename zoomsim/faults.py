"""One-shot faults queued over the control API and applied to the next matching requests.

Kinds: ``429`` (answer 429), ``error`` (answer 500/502/503), ``commit_then_fail`` (do the work,
then answer 500 or drop the connection), ``hold`` (wait, then do the work normally), ``hang``
(wait, then drop the connection; nothing done), ``malformed`` (a 2xx whose body is ``{}``: valid
against the spec, useless to a client; nothing done). ``match`` ``any`` matches every ``/v2`` request
but not the token endpoint, which only ``token`` matches.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

OPERATIONS = ("create", "update", "delete", "get", "list", "zak", "token", "any")
KINDS = ("429", "error", "commit_then_fail", "hold", "hang", "malformed")
_DEFAULT_MATCH = {"commit_then_fail": "create", "hold": "create"}
_RETRY_AFTER_FORMS = ("seconds", "http-date", "none")


@dataclass
class Fault:
    kind: str
    count: int = 1
    match: str = "any"
    status: int = 500
    retry_after: str = "seconds"
    value: float = 1
    mode: str = "500"
    seconds: float = 1.0

    def matches(self, operation: str) -> bool:
        if self.match == "any":
            return operation != "token"
        return self.match == operation

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _number(raw: dict[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a non-negative number")
    return value


def parse_fault(raw: Any, hang_seconds: float) -> Fault:
    """A :class:`Fault` from its JSON form; ``ValueError`` with a readable reason if malformed."""
    if not isinstance(raw, dict):
        raise ValueError("a fault is a JSON object")
    kind = str(raw.get("kind", ""))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    unknown = set(raw) - {"kind", "count", "match", "status", "retry_after", "value", "mode", "seconds"}
    if unknown:
        raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
    count = raw.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive integer")
    match = raw.get("match", _DEFAULT_MATCH.get(kind, "any"))
    if match not in OPERATIONS:
        raise ValueError(f"match must be one of {', '.join(OPERATIONS)}")
    status = raw.get("status", 500)
    if status not in (500, 502, 503):
        raise ValueError("status must be 500, 502 or 503")
    retry_after = raw.get("retry_after", "seconds")
    if retry_after not in _RETRY_AFTER_FORMS:
        raise ValueError("retry_after must be seconds, http-date or none")
    mode = str(raw.get("mode", "500"))
    if mode not in ("500", "drop"):
        raise ValueError("mode must be 500 or drop")
    default_seconds = hang_seconds if kind == "hang" else 1.0
    return Fault(
        kind=kind,
        count=count,
        match=match,
        status=status,
        retry_after=retry_after,
        value=_number(raw, "value", 1),
        mode=mode,
        seconds=_number(raw, "seconds", default_seconds),
    )


class FaultQueue:
    """FIFO of pending faults; callers hold the sandbox lock."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self, operation: str) -> Fault | None:
        """The first pending fault matching ``operation``, consuming one of its ``count``."""
        for fault in self._faults:
            if fault.matches(operation):
                fault.count -= 1
                if fault.count == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [fault.to_json() for fault in self._faults]

    def clear(self) -> None:
        self._faults.clear()
