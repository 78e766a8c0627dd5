"""The chaos scenario of `make chaos`, shorter: faults on a timeline."""

from __future__ import annotations

from bench.chaos import run


def test_chaos_short_form_loses_and_duplicates_nothing():
    report = run(n=40, outage=6.0, pace=8.0, timeout=240.0, progress=lambda _line: None)
    assert report.ok, "\n".join(report.lines())
    assert report.segments_in_db == 44  # 36 weekly halakat x 1 meeting + 4 daily x 2
    assert len(report.events) == 5
