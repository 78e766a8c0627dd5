"""Structured JSON logs for every process, with a request/task id and secret scrubbing.

Secrets never reach the logs: nothing logs request bodies or headers, and as a second line of defence
this filter masks anything shaped like a bearer token, a JWT, a ZAK/`zak=` query value or a password field.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from typing import IO

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (
        re.compile(r"(?i)((?:zak|token|access_token|pwd|password|secret)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"),
        r"\1[redacted]",
    ),
]


def scrub(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Adds the current request/task id and scrubs secrets from the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing one JSON object per line, with ids added and secrets scrubbed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(level: str = "INFO") -> None:
    """Idempotent: one JSON handler on the root logger."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if any(getattr(h, "_halaka_json", False) for h in root.handlers):
        return
    handler = json_handler()
    handler._halaka_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
