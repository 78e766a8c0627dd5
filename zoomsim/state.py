"""All sandbox state, in memory, behind one lock."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter
from typing import Any

from zoomsim.config import Config, ServerSettings, user_id_for
from zoomsim.faults import FaultQueue
from zoomsim.meetings import StoredMeeting, User
from zoomsim.ratelimit import DailyLimiter, PerSecondLimiter
from zoomsim.webhooks import WebhookSender

CATEGORIES = ("light", "medium", "heavy")


class SandboxState:
    """Users, meetings, tokens, request log, stats and faults; ``lock`` guards every field."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        self.webhooks = WebhookSender()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.config = Config()
            self.config.update(
                {"webhook_url": self.settings.webhook_url, "webhook_secret": self.settings.webhook_secret}
            )
            self.webhooks.reset()
            self.rng = random.Random()
            self.users: dict[str, User] = {}
            for email in self.settings.users:
                self.add_user(User(id=user_id_for(email), email=email))
            self.meetings: dict[int, StoredMeeting] = {}
            self.tokens: dict[str, float] = {}
            self.start_tokens: dict[str, float] = {}
            self.page_tokens: dict[str, tuple[str, int]] = {}
            self.faults = FaultQueue()
            self.limiter = PerSecondLimiter()
            self.daily = DailyLimiter()
            self.log: list[dict[str, Any]] = []
            self.seq = 0
            self.token_requests = 0
            self.tokens_issued = 0
            self.requests: Counter[str] = Counter({c: 0 for c in CATEGORIES})
            self.responses: Counter[str] = Counter()
            self.rate_limit_violations = 0
            self.daily_limit_hits = 0
            self.faults_injected = 0
            self.zak_wrong_type = 0
            self.cancellation_emails: Counter[str] = Counter({"host": 0, "registrants": 0})

    def update_config(self, changes: Any) -> None:
        with self.lock:
            self.config.update(changes)
            if isinstance(changes, dict) and changes.get("seed") is not None:
                self.rng.seed(changes["seed"])

    def send_webhook(self, event: dict[str, Any]) -> bool:
        """Queue an event for delivery; False when no webhook URL and secret are configured."""
        with self.lock:
            url, secret = self.config["webhook_url"], self.config["webhook_secret"]
            scale, timeout = self.config["webhook_delay_scale"], self.config["webhook_timeout_seconds"]
        if not url or not secret:
            return False
        self.webhooks.send(event, url, secret, scale, timeout)
        return True

    def chance(self, probability: float) -> bool:
        with self.lock:
            return probability > 0 and self.rng.random() < probability

    def find_user(self, key: str) -> User | None:
        with self.lock:
            if key in self.users:
                return self.users[key]
            lowered = key.lower()
            return next((u for u in self.users.values() if u.email.lower() == lowered), None)

    def add_user(self, user: User) -> None:
        with self.lock:
            existing = self.find_user(user.email)
            if existing is not None:
                del self.users[existing.id]
            self.users[user.id] = user

    def remove_user(self, key: str) -> bool:
        with self.lock:
            user = self.find_user(key)
            if user is None:
                return False
            del self.users[user.id]
            return True

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = time.time() + self.config["token_ttl"]
            self.tokens_issued += 1
        return token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            expiry = self.tokens.get(token)
            return expiry is not None and expiry > time.time()

    def issue_start_token(self) -> str:
        """A ``zak`` for a start link, valid ``start_url_ttl`` seconds (Zoom: two hours)."""
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = time.time()
            self.start_tokens = {t: e for t, e in self.start_tokens.items() if e > now}
            self.start_tokens[token] = now + self.config["start_url_ttl"]
        return token

    def start_token_expires_in(self, token: str) -> float:
        """Seconds left on a start link's token; 0 when expired or unknown."""
        with self.lock:
            return max(0.0, self.start_tokens.get(token, 0.0) - time.time())

    def revoke_tokens(self) -> int:
        with self.lock:
            count = len(self.tokens)
            self.tokens.clear()
            return count

    def new_meeting_id(self) -> int:
        with self.lock:
            while True:
                candidate = self.rng.randint(81_000_000_000, 99_999_999_999)
                if candidate not in self.meetings:
                    return candidate

    def start_log(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append a request to the log (status filled in when it completes) and number it."""
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
            return entry

    def requests_since(self, since: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(e) for e in self.log if e["seq"] > since]

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "token_requests": self.token_requests,
                "tokens_issued": self.tokens_issued,
                "requests": dict(self.requests),
                "responses": dict(self.responses),
                "rate_limit_violations": self.rate_limit_violations,
                "daily_limit_hits": self.daily_limit_hits,
                "max_requests_in_any_second": {
                    c: self.limiter.max_in_any_second.get(c, 0) for c in CATEGORIES
                },
                "faults_injected": self.faults_injected,
                "zak_wrong_type": self.zak_wrong_type,
                "cancellation_emails": dict(self.cancellation_emails),
            }
