"""`GET /metrics` in-process: Prometheus text with the state gauges, refused without the right token."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from shared.settings import get_settings
from tests.conftest import METRICS_TOKEN


def test_exposition_has_request_counts_and_state(client, make_user):
    admin = make_user("admin")
    client.get("/healthz")
    r = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 200 and r.mimetype == "text/plain"
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.get_data(as_text=True))
        for s in family.samples
    }
    assert samples[
        ("halaka_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    ]
    assert samples[("halaka_halakat", (("zoom_status", "ready"),))] == 0
    assert ("halaka_oldest_pending_halaka_age_seconds", ()) in samples
    # the admin JSON reads the same state
    data = client.get("/api/v1/ops/metrics", headers=admin.headers).json["data"]
    assert data["halakatByStatus"] == {} and data["oldestPendingSeconds"] == 0


def test_unmatched_paths_share_one_route_label(client):
    for path in ("/nope/1", "/nope/2", "/api/v1/halaka/999999999/nothing"):
        assert client.get(path).status_code == 404
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)
    assert "/nope" not in text and 'route="unmatched"' in text


def test_disabled_without_a_token(client, monkeypatch):
    monkeypatch.setattr(get_settings(), "metrics_token", None)
    r = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 404 and r.json["status"] == "error"


def test_answers_from_early_hooks_are_counted(client):
    """A body refused before any view runs (415) still has its request id and its count."""
    r = client.post("/api/v1/auth/login", data="x", content_type="text/plain")
    assert r.status_code == 415 and r.headers["X-Request-ID"]
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)
    counted = 'halaka_http_requests_total{method="POST",route="/api/v1/auth/login",status="415"}'
    assert counted in text


def test_ids_do_not_outlive_their_request(client, make_user):
    from shared.logging import halaka_id_var, request_id_var

    teacher = make_user("teacher")
    client.get("/api/v1/halaka/123", headers={**teacher.headers, "X-Request-ID": "req-outliving"})
    assert request_id_var.get() is None and halaka_id_var.get() is None
