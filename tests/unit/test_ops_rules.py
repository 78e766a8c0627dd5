"""The Grafana dashboard and the Prometheus alert rules only name metrics the project exports.

`promtool` is not part of the suite (it is not installable from PyPI; `make ops-check` runs Debian's
`promtool check rules` / `test rules` where it is installed). Here every PromQL expression of
`ops/` is tokenised and each metric name it selects must be a family of `shared.metrics` (with a
histogram's `_bucket`/`_sum`/`_count`) or Prometheus' own `up`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from shared.metrics import family_names
from shared.zoom.rate_budget import DAILY_WRITES_PER_HOST

OPS = Path(__file__).resolve().parent.parent.parent / "ops"
PROMETHEUS_OWN = {"up"}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
KEYWORDS |= {"offset", "inf", "nan"}
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (not functions, keywords, labels or durations)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    return {name for name in _NAME.findall(text) if name.lower() not in KEYWORDS}


def exported() -> set[str]:
    names = set(PROMETHEUS_OWN)
    for family in family_names():
        names |= {family, f"{family}_bucket", f"{family}_sum", f"{family}_count"}
    return names


def alert_rules() -> list[dict]:
    rules = []
    for path in sorted((OPS / "prometheus").glob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        for group in doc.get("groups") or []:
            rules += group["rules"]
    return rules


def dashboard_exprs() -> list[tuple[str, str]]:
    exprs = []
    for path in sorted((OPS / "grafana").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            exprs += [(panel["title"], target["expr"]) for target in panel["targets"]]
    return exprs


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('up{job="halaka-worker"} == 0 or absent(up{job="halaka-worker"})', {"up"}),
        (
            "histogram_quantile(0.9, sum by (le) (rate(halaka_http_request_duration_seconds_bucket[5m])))",
            {"halaka_http_request_duration_seconds_bucket"},
        ),
        ("max(a_total) / max(b) > 0.8 unless on (x) c", {"a_total", "b", "c"}),
        ('sum(rate(x_total{outcome=~"FAILURE|failed"}[15m] offset 1h)) > 0', {"x_total"}),
    ],
)
def test_metric_names_finds_what_an_expression_selects(expr, names):
    assert metric_names(expr) == names


def test_an_unknown_metric_is_caught():
    assert metric_names("rate(halaka_no_such_thing_total[5m])") - exported() == {"halaka_no_such_thing_total"}


def test_alert_rules_name_only_exported_metrics_and_cover_the_operators_questions():
    rules = alert_rules()
    assert rules, "no alert rules found under ops/prometheus"
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= rule.keys(), rule
        assert rule["labels"]["severity"] in {"warning", "critical"}
        unknown = metric_names(rule["expr"]) - exported()
        assert not unknown, f"{rule['alert']}: {unknown} are not exported"
    used = set().union(*(metric_names(rule["expr"]) for rule in rules))
    for needed in (
        "halaka_queue_depth",
        "halaka_halakat",
        "halaka_oldest_pending_halaka_age_seconds",
        "halaka_zoom_rate_limited_total",
        "halaka_zoom_host_daily_writes_max",
        "halaka_webhook_signature_failures_total",
        "up",
    ):
        assert needed in used, f"no alert on {needed}"
    jobs = {job for rule in rules for job in re.findall(r'job="([^"]+)"', rule["expr"])}
    assert {"halaka-worker", "halaka-beat", "halaka-api"} <= jobs


def test_dashboard_names_only_exported_metrics_and_shows_every_family():
    exprs = dashboard_exprs()
    assert exprs, "no dashboard under ops/grafana"
    shown = set()
    for title, expr in exprs:
        names = metric_names(expr)
        assert names, f"{title}: {expr!r} selects no metric"
        assert not names - exported(), f"{title}: {names - exported()} are not exported"
        shown |= names
    base = {re.sub(r"_(bucket|sum|count)$", "", name) for name in shown}
    assert family_names() <= base | shown, family_names() - base - shown


def test_scrape_config_has_a_job_per_role_and_loads_the_rules():
    config = yaml.safe_load((OPS / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"halaka-api", "halaka-worker", "halaka-webhook-worker", "halaka-beat"}
    assert jobs["halaka-api"]["authorization"]["type"] == "Bearer"
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_the_daily_write_limit_matches_zoom():
    assert DAILY_WRITES_PER_HOST == 100
