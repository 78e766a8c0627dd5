from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from api.schemas.common import MAX_ID, NON_BLANK, ApiModel, CreatedEnvelope, Envelope, Page, PageQuery
from shared.models import ZoomStatus
from shared.zoom.recurrence import WEEKDAYS, Frequency, Schedule, Weekday

_HHMM_PATTERN = r"^([01]\d|2[0-3]):([0-5]\d)$"
_HHMM = re.compile(_HHMM_PATTERN)
# Documented as what is accepted (`HH:MM`), not as an OpenAPI `time` (which would promise `17:00:00Z`).
HHMM = Annotated[
    time,
    WithJsonSchema(
        {"type": "string", "pattern": _HHMM_PATTERN, "description": "HH:MM (24-hour), local to `timezone`"}
    ),
]


def _date_part(value: object) -> object:
    """Dates as YYYY-MM-DD; an ISO date-time is accepted and its date part is used."""
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]
    return value


def _hhmm(value: object) -> object:
    if isinstance(value, str):
        if not _HHMM.match(value):
            raise ValueError("must be HH:MM (24-hour)")
        return time(int(value[:2]), int(value[3:]))
    return value


class ScheduleFields(ApiModel):
    """Schedule fields with no defaults: the base of the full schedule and of a partial update."""

    @field_validator("start_date", "end_date", mode="before", check_fields=False)
    @classmethod
    def _dates(cls, v: object) -> object:
        return _date_part(v)

    @field_validator("start_time", mode="before", check_fields=False)
    @classmethod
    def _time(cls, v: object) -> object:
        return _hhmm(v)

    @field_validator("days", check_fields=False)
    @classmethod
    def _days(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        return sorted(set(v), key=WEEKDAYS.index)


class ScheduleIn(ScheduleFields):
    frequency: Frequency
    days: list[Weekday] = Field(default_factory=list, max_length=7)
    start_time: HHMM
    duration: int = Field(ge=1, le=1440, description="minutes")
    start_date: date = Field(
        description="no earlier than SCHEDULE_PAST_DAYS (366) before today, no later than "
        "SCHEDULE_HORIZON_DAYS (731) after it"
    )
    end_date: date = Field(
        description="on or after startDate, at most SCHEDULE_MAX_SPAN_DAYS (1827) after it; at most 1,000 "
        "upcoming sessions"
    )
    timezone: str = Field(min_length=1, max_length=64, description="IANA name, e.g. Africa/Cairo")

    def to_schedule(self) -> Schedule:
        """The API's schedule → the one form (``shared.zoom.recurrence.Schedule``)."""
        return Schedule(**self.model_dump())


class SchedulePatch(ScheduleFields):
    """The fields a PATCH sets; :meth:`applied_to` merges them into the stored schedule."""

    frequency: Frequency | None = None
    days: list[Weekday] | None = Field(default=None, max_length=7)
    start_time: HHMM | None = None
    duration: int | None = Field(default=None, ge=1, le=1440)
    start_date: date | None = None
    end_date: date | None = None
    timezone: str | None = Field(default=None, min_length=1, max_length=64)

    def applied_to(self, current: Schedule) -> Schedule:
        """``current`` with the fields this PATCH sent (an explicit null reaches validation as None)."""
        return dataclasses.replace(current, **self.model_dump(exclude_unset=True))


class HalakaCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200, pattern=NON_BLANK)
    description: str = Field(default="", max_length=2000)
    schedule: ScheduleIn
    teacher_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="admins only: the teacher it is for"
    )

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        return v.strip()  # NON_BLANK already refused blank titles


class HalakaPatch(ApiModel):
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=NON_BLANK)
    description: str | None = Field(default=None, max_length=2000)
    schedule: SchedulePatch | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, v: str | None) -> str | None:
        return v.strip() if v is not None else None


class HalakaQuery(PageQuery):
    teacher_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    mine: bool = False
    enrolled: bool = False
    zoom_status: ZoomStatus | None = None


class PreferHeader(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prefer: str | None = Field(default=None, max_length=200, description="`wait=N` (N ≤ 30 seconds)")


class TeacherOut(ApiModel):
    id: int
    name: str


class ScheduleOut(ApiModel):
    frequency: Frequency
    days: list[Weekday]
    start_time: str
    duration: int
    start_date: date
    end_date: date
    timezone: str

    @classmethod
    def of(cls, schedule: Schedule) -> ScheduleOut:
        """The one form → the API's schedule (``startTime`` as HH:MM)."""
        fields = dataclasses.asdict(schedule)
        return cls(
            **{**fields, "days": list(schedule.days), "start_time": schedule.start_time.strftime("%H:%M")}
        )


class MeetingOut(ApiModel):
    """Fields a viewer may not see are absent (not null)."""

    meeting_id: str
    segment: int
    first_session: datetime
    last_session: datetime
    occurrences: int
    password: str | None = None
    join_url: str | None = None
    start_url: str | None = None


class HalakaOut(ApiModel):
    id: int
    title: str
    description: str
    teacher: TeacherOut
    schedule: ScheduleOut
    zoom_status: ZoomStatus
    zoom_error: str | None = None  # only for the halaka's teacher and admins (absent for others)
    zoom_meeting: MeetingOut | None
    zoom_meetings: list[MeetingOut]
    enrolled: bool
    created_at: datetime
    updated_at: datetime


class StartOut(ApiModel):
    start_url: str
    meeting_id: str
    expires_at: datetime


class StartEnvelope(Envelope[StartOut]):
    pass


class HalakaEnvelope(Envelope[HalakaOut]):
    pass


class HalakaCreatedEnvelope(CreatedEnvelope[HalakaOut]):
    pass


class HalakaPage(Page[HalakaOut]):
    pass


class HalakaPageEnvelope(Envelope[HalakaPage]):
    pass
