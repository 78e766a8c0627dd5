"""Attendance rules, as pure functions: which scheduled session an instance is, how a participant's
intervals merge, and whether they were present, late or absent (DESIGN.md 4.5; README "Attendance")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

PRESENT, LATE, ABSENT = "present", "late", "absent"


def nearest_start(starts: Sequence[datetime], at: datetime) -> datetime | None:
    """The scheduled start closest to `at` (the earlier one on a tie); None without any."""
    return min(starts, key=lambda start: (abs(start - at), start), default=None)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


def merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined into one (a rejoin, or the same person on two devices)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if span.end < span.start:
            continue
        if merged and span.start <= merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def minutes(spans: Iterable[Span]) -> int:
    """Whole minutes covered by the spans once merged (rounded to the nearest minute)."""
    seconds = sum((s.end - s.start).total_seconds() for s in merge(spans))
    return int(seconds / 60 + 0.5)


@dataclass(frozen=True)
class Rules:
    late_minutes: int
    min_presence_percent: int


def status(
    *,
    first_join: datetime,
    attended_minutes: int,
    reference_start: datetime,
    session_minutes: int,
    ended: bool,
    rules: Rules,
) -> str:
    """`absent` once the session has ended when attendance is below the minimum share of the session;
    `late` when the first join came more than `late_minutes` after the reference start; else `present`.
    While the session runs, nobody who joined is absent yet."""
    if ended and attended_minutes * 100 < rules.min_presence_percent * session_minutes:
        return ABSENT
    if first_join > reference_start + timedelta(minutes=rules.late_minutes):
        return LATE
    return PRESENT
