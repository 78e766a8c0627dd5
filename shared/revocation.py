"""Revoked logins kept only until their refresh tokens would have expired anyway."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete

from shared.db import session_scope
from shared.models import RevokedLogin


def purge_expired(now: datetime | None = None) -> int:
    """Delete revocations whose tokens have all expired; how many rows went."""
    with session_scope() as s:
        result = s.execute(delete(RevokedLogin).where(RevokedLogin.expires_at <= (now or datetime.now(UTC))))
        return result.rowcount or 0
