"""Request and response bodies of the single-session routes (`/halaka/{id}/sessions…`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from api.schemas.common import ApiModel, CreatedEnvelope, Envelope, IdPath
from api.schemas.halaka import HHMM, _date_part, _hhmm

SessionStatus = Literal["scheduled", "live", "ended", "cancelled"]
_WHEN = (
    "a date (YYYY-MM-DD, that day in the halaka's time zone) or an ISO date-time (without an offset: "
    "local to the halaka)"
)


class SessionsQuery(ApiModel):
    limit: int = Field(default=50, ge=1, le=500)
    from_: str | None = Field(
        default=None,
        alias="from",
        max_length=40,
        description=f"earliest start: {_WHEN}; clamped to 90 days before now",
    )
    to: str | None = Field(default=None, max_length=40, description=f"latest start: {_WHEN}")
    status: SessionStatus | None = None
    include_past: bool = Field(
        default=False, description="also the sessions of the last 90 days (default: from the one running now)"
    )


class SessionPath(IdPath):
    occurrence_id: str = Field(
        alias="occurrence_id",  # the route's variable: flask-openapi3 documents the path by alias
        min_length=1,
        max_length=32,
        pattern=r"^(x?[0-9]{1,15})$",
        description="`occurrenceId` of a session (Zoom's occurrence id; `x…` for an extra session)",
    )


class SessionCancel(ApiModel):
    """`{reason?}`; no body at all is the same as `{}` (no reason)."""

    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="before")
    @classmethod
    def _absent_is_empty(cls, v: object) -> object:
        return {} if v is None else v


class _LocalTime(ApiModel):
    """`date` (YYYY-MM-DD; a date-time's date part) and `startTime` (HH:MM), local to the halaka."""

    @field_validator("on_date", mode="before", check_fields=False)
    @classmethod
    def _date(cls, v: object) -> object:
        return _date_part(v)

    @field_validator("start_time", mode="before", check_fields=False)
    @classmethod
    def _time(cls, v: object) -> object:
        return _hhmm(v)


class SessionMove(_LocalTime):
    start_utc: datetime | None = Field(default=None, description="the new start (an offset, or UTC)")
    on_date: date | None = Field(
        default=None, alias="date", description="the new local date (with startTime)"
    )
    start_time: HHMM | None = None
    duration: int | None = Field(default=None, ge=1, le=1440, description="minutes")


class SessionAdd(_LocalTime):
    on_date: date = Field(alias="date", description="local date in the halaka's time zone")
    start_time: HHMM
    duration: int | None = Field(default=None, ge=1, le=1440, description="minutes (default: the halaka's)")


class SessionOut(ApiModel):
    occurrence_id: str = Field(description="Zoom's occurrence id of a planned session; `x…` for an extra one")
    start_local: str
    start_utc: datetime
    duration: int
    meeting_id: str | None
    status: SessionStatus = Field(
        description="cancelled (on the platform or its occurrence deleted in Zoom), live while a Zoom "
        "instance of it runs, ended once one ran"
    )
    cancel_reason: str | None = None
    original_start_utc: datetime | None = Field(
        default=None, description="the planned start of a moved session"
    )
    extra: bool = False
    restored: bool = Field(default=False, description="held by a standalone Zoom meeting of its own")
    pending: bool = Field(default=False, description="the change has not reached Zoom yet")


class SessionsOut(ApiModel):
    timezone: str
    sessions: list[SessionOut]


class SessionsEnvelope(Envelope[SessionsOut]):
    pass


class SessionEnvelope(Envelope[SessionOut]):
    pass


class SessionCreatedEnvelope(CreatedEnvelope[SessionOut]):
    pass
