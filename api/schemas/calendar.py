from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.common import MAX_ID, ApiModel, Envelope

MAX_ASKED_HALAKAT = 50


class FeedPath(ApiModel):
    token: str = Field(min_length=1, max_length=64, description="the secret of the feed URL")


class FeedQuery(ApiModel):
    halaka_id: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None,
        max_length=MAX_ASKED_HALAKAT,
        description="only these halakat (repeat the parameter); an admin's feed holds only the halakat "
        "asked for this way",
    )


class CalendarTokenOut(ApiModel):
    token: str = Field(description="the feed URL's secret: whoever has it reads the feed")
    path: str = Field(description="the feed's path, `/api/v1/calendar/{token}.ics`")
    url: str = Field(description="the feed's absolute URL as this server was reached")
    created_at: datetime


class CalendarTokenEnvelope(Envelope[CalendarTokenOut]):
    pass
