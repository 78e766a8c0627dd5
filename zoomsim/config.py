"""Startup settings (credentials, users) and the runtime config changed over ``/_sandbox/config``."""

from __future__ import annotations

import base64
import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ACCOUNT_ID = "sandbox-account"
DEFAULT_CLIENT_ID = "sandbox-client-id"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
DEFAULT_USERS = ("teacher@example.com", "host@example.com")

DEFAULT_CONFIG: dict[str, Any] = {
    "rate_limits": {"light": 30, "medium": 20, "heavy": 10},
    "daily_limit": 100,
    "latency_ms": 0,
    "error_rate": 0.0,
    "timeout_rate": 0.0,
    "hang_seconds": 30.0,
    "outage": False,
    "token_ttl": 3600,
    "start_url_ttl": 7200,
    "seed": None,
    "webhook_url": None,
    "webhook_secret": None,
    "webhook_delay_scale": 1.0,
    "webhook_timeout_seconds": 3.0,
}


def user_id_for(email: str) -> str:
    """A stable Zoom-looking user id (22 url-safe characters) derived from the email."""
    digest = hashlib.sha256(email.lower().encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class ServerSettings:
    account_id: str = DEFAULT_ACCOUNT_ID
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    users: tuple[str, ...] = DEFAULT_USERS
    log_requests: bool = True
    webhook_url: str | None = None
    webhook_secret: str | None = None


@dataclass
class Config:
    values: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULT_CONFIG))

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def to_json(self) -> dict[str, Any]:
        return copy.deepcopy(self.values)

    def update(self, changes: Any) -> None:
        """Apply a partial update after checking every key; ``ValueError`` leaves it unchanged."""
        if not isinstance(changes, dict):
            raise ValueError("config must be a JSON object")
        new = copy.deepcopy(self.values)
        for key, value in changes.items():
            if key not in DEFAULT_CONFIG:
                raise ValueError(f"unknown config key: {key}")
            new[key] = _checked(key, value, new[key])
        self.values = new


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked(key: str, value: Any, current: Any) -> Any:
    if key == "rate_limits":
        if not isinstance(value, dict) or set(value) - {"light", "medium", "heavy"}:
            raise ValueError("rate_limits is an object with keys light, medium, heavy")
        for category, limit in value.items():
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(f"rate_limits.{category} must be a positive integer")
        return {**current, **value}
    if key == "outage":
        if not isinstance(value, bool):
            raise ValueError("outage must be a boolean")
        return value
    if key in ("webhook_url", "webhook_secret"):
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(f"{key} must be a non-empty string or null")
        if key == "webhook_url" and value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("webhook_url must be an http(s) URL")
        return value
    if key == "seed":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("seed must be an integer or null")
        return value
    if key in ("daily_limit", "token_ttl", "start_url_ttl"):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (0 if key == "daily_limit" else 1)
        ):
            raise ValueError(
                f"{key} must be a {'non-negative' if key == 'daily_limit' else 'positive'} integer"
            )
        return value
    if not _is_number(value) or value < 0:
        raise ValueError(f"{key} must be a non-negative number")
    if key in ("error_rate", "timeout_rate") and value > 1:
        raise ValueError(f"{key} must be between 0 and 1")
    return value
