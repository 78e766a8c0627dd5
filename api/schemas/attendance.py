from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import ApiModel, Envelope


class AttendanceQuery(ApiModel):
    format: Literal["json", "csv"] = Field(default="json", description="csv: the same rows as a download")


class AttendeeOut(ApiModel):
    user_id: int | None = Field(description="null for a guest (not matched to an account)")
    name: str
    minutes: int
    joined_at: datetime | None
    left_at: datetime | None
    status: Literal["present", "late", "absent"]


class SessionAttendanceOut(ApiModel):
    start_utc: datetime
    status: Literal["scheduled", "live", "ended", "cancelled"]
    started_at: datetime | None
    ended_at: datetime | None
    attendees: list[AttendeeOut]


class AttendanceOut(ApiModel):
    sessions: list[SessionAttendanceOut]


class AttendanceEnvelope(Envelope[AttendanceOut]):
    pass
