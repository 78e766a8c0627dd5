"""Rate budget: the spacing math, the acquire loop, and the Lua script's answers (on the test Redis)."""

from __future__ import annotations

import pytest

from shared.zoom.endpoints import CATEGORIES, ENDPOINTS, LIST_MEETINGS
from shared.zoom.errors import ZoomRateLimited
from shared.zoom.rate_budget import (
    DEFAULT_SAFETY,
    RateBudget,
    RateBudgetTimeout,
    emission_interval_us,
    tolerance_us,
)
from tests.zoom_spec import has_operation


@pytest.mark.parametrize(
    ("rate", "safety", "interval"), [(10, 1.0, 100_000), (10, 0.9, 111_112), (30, 0.9, 37_038)]
)
def test_emission_interval_rounds_up(rate, safety, interval):
    assert emission_interval_us(rate, safety) == interval


def test_fractional_rates_are_fine():
    assert emission_interval_us(0.5, 1.0) == 2_000_000
    assert emission_interval_us(2.5, 1.0) == 400_000


@pytest.mark.parametrize("rate", [1, 2, 3, 5, 10, 20, 30, 60, 80, 100])
def test_never_more_than_rate_in_any_one_second_window(rate):
    """rate+1 admissions span at least rate*T - tolerance: more than a second, with ~80 ms to spare."""
    interval = emission_interval_us(rate, DEFAULT_SAFETY)
    shortest_span_us = rate * interval - tolerance_us(interval)
    assert shortest_span_us - 1_000_000 >= 75_000, "too little margin for network jitter"


def test_tolerance_is_small():
    assert tolerance_us(111_112) == 5_000
    assert tolerance_us(20_000) == 2_000


def test_every_endpoint_is_zoom_s_with_zoom_s_category():
    """Zoom's rate-limit page: listing a user's meetings is Medium, the other calls Light."""
    assert {e.category for e in ENDPOINTS} <= set(CATEGORIES)
    assert LIST_MEETINGS.category == "medium"
    assert {e.category for e in ENDPOINTS if e is not LIST_MEETINGS} == {"light"}
    assert len({(e.method, e.template) for e in ENDPOINTS}) == len(ENDPOINTS)
    for endpoint in ENDPOINTS:
        assert has_operation(endpoint.method, endpoint.template), endpoint


def test_invalid_arguments(rds):
    with pytest.raises(ValueError):
        emission_interval_us(0)
    with pytest.raises(ValueError):
        RateBudget(rds, {"light": 10}, safety=1.5)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scripted_budget(rds, answers: list[tuple[float, bool]]) -> tuple[RateBudget, FakeTime]:
    fake = FakeTime()
    budget = RateBudget(rds, {"light": 10}, sleep=fake.sleep, clock=fake.clock)
    budget.try_acquire = lambda category: answers.pop(0)  # type: ignore[method-assign]
    return budget, fake


def test_acquire_sleeps_for_the_wait_and_asks_again(rds):
    budget, fake = scripted_budget(rds, [(0.25, False), (0.1, False), (0.0, False)])
    assert budget.acquire("light", timeout=1.0) == pytest.approx(0.35)
    assert fake.sleeps == [0.25, 0.1]


def test_acquire_gives_up_at_once_when_the_next_slot_is_beyond_the_timeout(rds):
    budget, fake = scripted_budget(rds, [(0.5, False), (4.0, True)])
    with pytest.raises(RateBudgetTimeout) as info:
        budget.acquire("light", timeout=2.0)
    assert isinstance(info.value, ZoomRateLimited)
    assert info.value.retry_after == 4.0
    assert "paused" in str(info.value)
    assert fake.sleeps == [0.5]


def test_acquire_without_timeout_waits_as_long_as_needed(rds):
    budget, _ = scripted_budget(rds, [(30.0, True), (0.0, False)])
    assert budget.acquire("light") == 30.0


def test_script_spaces_grants_by_the_emission_interval(rds):
    budget = RateBudget(rds, {"light": 10, "medium": 10}, scope="unit", safety=1.0)
    assert budget.try_acquire("light") == (0.0, False)
    wait, paused = budget.try_acquire("light")
    assert not paused
    assert 0.09 <= wait <= 0.1 - tolerance_us(100_000) / 1e6 + 1e-6
    assert budget.try_acquire("medium") == (0.0, False), "categories are independent"
    assert RateBudget(rds, {"light": 10}, scope="other").try_acquire("light") == (0.0, False)


def test_pause_stops_the_category_for_everyone_and_never_shortens(rds):
    budget = RateBudget(rds, {"light": 10, "medium": 10}, scope="unit")
    other_process = RateBudget(rds, {"light": 10, "medium": 10}, scope="unit")
    budget.pause("light", 2.0)
    budget.pause("light", 0.5)
    wait, paused = other_process.try_acquire("light")
    assert paused and 1.9 < wait <= 2.0
    assert 1.9 < other_process.paused_for("light") <= 2.0
    assert other_process.try_acquire("medium") == (0.0, False)
    budget.pause("light", 5.0)
    assert budget.paused_for("light") > 4.9


def test_state_keys_expire_by_themselves(rds):
    budget = RateBudget(rds, {"light": 10}, scope="unit")
    budget.try_acquire("light")
    assert 0 < rds.pttl("zoom:rate:unit:light:tat") <= 1_112
