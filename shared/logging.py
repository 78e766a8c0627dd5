"""One JSON log format for every process (API, worker, beat, Flower, the sandbox, the servers' own loggers).

Each line is a JSON object with `time` (ISO 8601, UTC), `level`, `logger`, `message`, `role` (the
process role from `HALAKA_ROLE`) and, where they apply, `request_id`, `task_id` and `halaka_id`, taken
from the record or from the context variables below.

Secrets never reach the logs: nothing logs request bodies or headers, and as a second line of defence the
formatter scrubs every value of the line — message, extras, traceback and stack — masking anything shaped
like a bearer or basic credential, a JWT, a URL password, a ZAK/`zak=` or `pwd=` query value, or a
password/secret/token field, and drops whole values whose key names a secret.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import sys
import threading
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any, cast

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
task_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("task_id", default=None)
halaka_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("halaka_id", default=None)
CONTEXT_FIELDS = (("request_id", request_id_var), ("task_id", task_id_var), ("halaka_id", halaka_id_var))
COMMON_FIELDS = ("time", "level", "logger", "message")
REDACTED = "[redacted]"

_SECRET_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"), r"\1\2" + REDACTED),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
    (
        re.compile(
            r"(?i)((?:zak|token|access_token|refresh_token|pwd|password|passcode|secret|start_url)"
            r"[\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"
        ),
        r"\1" + REDACTED,
    ),
]
_SECRET_KEY = re.compile(r"(?i)(password|passwd|passcode|secret|token|zak|authorization|cookie|start_url)")


def scrub(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def scrub_value(key: str, value: Any) -> Any:
    """`value` with secrets masked; a value whose key names a secret is dropped whole."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: scrub_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [scrub_value(key, v) for v in value]
    return scrub(value if isinstance(value, str) else str(value))


class JsonLogFormatter(JsonFormatter):
    """The project's line format, also for `dictConfig` (`"()": "shared.logging.JsonLogFormatter"`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"role": os.environ.get("HALAKA_ROLE", "app")},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_data, record, message_dict)
        for name, var in CONTEXT_FIELDS:
            value = log_data.get(name)
            if value is None:
                value = var.get()
            if value is None:
                log_data.pop(name, None)
            else:
                log_data[name] = value

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: value if key in _TRUSTED else scrub_value(key, value) for key, value in log_data.items()}


_TRUSTED = {"time", "level", "logger", "role", "request_id", "task_id", "halaka_id"}


def json_handler(stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing one JSON object per line, with ids added and secrets scrubbed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    return handler


def server_log_config(level: str = "INFO", loggers: tuple[str, ...] = ()) -> dict[str, Any]:
    """A `dictConfig` for an HTTP server's own loggers (granian, gunicorn): the same JSON lines on stderr.
    The root logger is left to `configure_logging`, which the app runs in each server worker."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonLogFormatter"}},
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "root": {"level": level.upper(), "handlers": []},
        "loggers": {
            name: {"handlers": ["json"], "level": level.upper(), "propagate": False} for name in loggers
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """Idempotent: one JSON handler on the root logger; warnings and uncaught exceptions go through it."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    logging.captureWarnings(True)
    if any(getattr(h, "_halaka_json", False) for h in root.handlers):
        return
    handler = json_handler()
    handler._halaka_json = True  # type: ignore[attr-defined]  # our mark on a stdlib handler: see above
    root.addHandler(handler)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sys.excepthook = _log_uncaught
    threading.excepthook = lambda args: _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def _log_uncaught(exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc or exc_type(), tb)
        return
    # `exc` is None only from threading.excepthook (its exc_value is optional); logging formats that too
    info = cast("tuple[type[BaseException], BaseException, TracebackType | None]", (exc_type, exc, tb))
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=info)


def write_signal_safe(
    message: str, stream: IO[str] | None = sys.__stderr__, logger: str = "celery.worker"
) -> None:
    """One JSON line written with a bare `os.write` (no logging lock): usable inside a signal handler, where
    Celery prints its shutdown messages."""
    record = logging.LogRecord(logger, logging.INFO, __file__, 0, message.strip(), None, None)
    if stream is None:  # a process started without stderr
        return
    with contextlib.suppress(OSError, ValueError):  # best effort, like the message it replaces
        os.write(stream.fileno(), (JsonLogFormatter().format(record) + "\n").encode())
