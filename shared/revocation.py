"""Revoked logins kept only until their refresh tokens would have expired anyway."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete

from shared.db import session_scope
from shared.models import RevokedLogin


def purge_expired(now: datetime | None = None) -> int:
    """Delete revocations whose tokens have all expired; how many rows went."""
    with session_scope() as s:
        statement = delete(RevokedLogin).where(RevokedLogin.expires_at <= (now or datetime.now(UTC)))
        result = cast(CursorResult[Any], s.execute(statement))  # a DML statement's result has a rowcount
        return result.rowcount or 0
