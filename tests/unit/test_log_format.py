"""The one JSON line format: common fields, context ids, and scrubbing of message, extras and tracebacks."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.logging import (
    halaka_id_var,
    json_handler,
    request_id_var,
    scrub,
    scrub_value,
    server_log_config,
    task_id_var,
)

ROOT = Path(__file__).resolve().parent.parent.parent


def _log(emit) -> dict:
    stream = io.StringIO()
    logger = logging.getLogger("test.format")
    handler = json_handler(stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def test_common_fields_and_ids_only_where_they_apply():
    outside = [var.set(None) for var in (request_id_var, task_id_var, halaka_id_var)]
    try:
        line = _log(lambda log: log.info("plain %s", "line"))
    finally:
        for var, token in zip((request_id_var, task_id_var, halaka_id_var), outside, strict=True):
            var.reset(token)
    assert {"time", "level", "logger", "message", "role"} <= line.keys()
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "test.format", "plain line")
    assert line["time"].endswith("+00:00")
    assert not {"request_id", "task_id", "halaka_id"} & line.keys()

    tokens = [request_id_var.set("req-1"), task_id_var.set("task-1"), halaka_id_var.set(7)]
    try:
        line = _log(lambda log: log.warning("inside"))
    finally:
        for var, token in zip((request_id_var, task_id_var, halaka_id_var), tokens, strict=True):
            var.reset(token)
    assert (line["request_id"], line["task_id"], line["halaka_id"]) == ("req-1", "task-1", 7)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-123", "abc.def-123"),
        ("auth Basic c2FuZGJveDpzZWNyZXQ=", "c2FuZGJveDpzZWNyZXQ="),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJzdWIiOiIxIn0"),
        ("https://zoom.us/s/1?zak=ZAKVALUE&x=1", "ZAKVALUE"),
        ("https://zoom.us/j/1?pwd=PASSCODE", "PASSCODE"),
        ("redis://:brokerpass@redis:6379/0", "brokerpass"),
        ("postgresql://halaka:dbpass@postgres/halaka", "dbpass"),
        ("{'password': 'hunter2', 'x': 1}", "hunter2"),
        ('{"start_url": "https://zoom.us/s/1"}', "https://zoom.us/s/1"),
        ("client_secret=s3cr3t", "s3cr3t"),
    ],
)
def test_scrub_masks_secret_shapes(text, secret):
    assert secret not in scrub(text)


def test_scrub_keeps_ordinary_text():
    text = "zoom POST /users/{userId}/meetings failed: 429 at http://127.0.0.1:9090/v2 (ZoomRateLimited)"
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("zak", "anything", "[redacted]"),
        ("client_secret", "x", "[redacted]"),
        ("Authorization", "Bearer x", "[redacted]"),
        ("params", {"password": "p", "id": 3}, {"password": "[redacted]", "id": 3}),
        ("args", ["zak=abc", 4], ["zak=[redacted]", 4]),
        ("expires_in", 3599, 3599),
        ("tracking_id", "v=2.0;rid=1", "v=2.0;rid=1"),
    ],
)
def test_scrub_value_by_key_and_shape(key, value, expected):
    assert scrub_value(key, value) == expected


def test_extras_traceback_and_stack_are_scrubbed():
    def emit(log: logging.Logger) -> None:
        try:
            raise RuntimeError("INSERT failed [parameters: {'start_url': 'https://z/s/1?zak=TBSECRET'}]")
        except RuntimeError:
            log.exception(
                "db error", extra={"password": "EXTRASECRET", "detail": {"token": "NESTED"}}, stack_info=True
            )

    line = _log(emit)
    text = json.dumps(line)
    for secret in ("TBSECRET", "EXTRASECRET", "NESTED"):
        assert secret not in text
    assert "RuntimeError" in line["exc_info"] and line["stack_info"]


def test_server_log_config_routes_server_loggers_through_the_json_formatter():
    stream = io.StringIO()
    config = server_log_config("info", ("server.own",))
    config["handlers"]["json"]["stream"] = stream
    root = logging.getLogger()
    kept = root.handlers[:]
    logging.config.dictConfig({**config, "root": {"level": root.level}})
    root.handlers[:] = kept
    logging.getLogger("server.own").info("Listening at: http://127.0.0.1:8000")
    line = json.loads(stream.getvalue())
    assert (line["logger"], line["message"]) == ("server.own", "Listening at: http://127.0.0.1:8000")


def test_uncaught_exceptions_and_warnings_are_json_lines():
    code = (
        "import warnings; from shared.logging import configure_logging; configure_logging();"
        "warnings.warn('careful'); raise ValueError('boom password=hunter2')"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HALAKA_ROLE": "probe"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["logger"] for line in lines] == ["py.warnings", "uncaught"]
    assert all(line["role"] == "probe" for line in lines)
    assert "ValueError" in lines[1]["exc_info"] and "hunter2" not in result.stderr
