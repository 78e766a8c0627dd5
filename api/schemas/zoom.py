from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from api.schemas.common import WHITESPACE, ApiModel, CreatedEnvelope
from shared.zoom.signature import DEFAULT_EXPIRATION_SECONDS, MAX_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS

MEETING_NUMBER_PATTERN = r"^ *[0-9](?: ?[0-9]){8,19} *$"
"""9 to 20 digits; single spaces between them are allowed (Zoom shows numbers as "812 3456 7890")."""
_DIGITS = re.compile(MEETING_NUMBER_PATTERN)
ZOOM_USER_PATTERN = rf"^[^{WHITESPACE}/?#%\\]+$"
"""A Zoom user id or e-mail: one path segment, no whitespace (Zoom could not route anything else)."""


def _absent_as_missing(data: object, *names: str) -> object:
    """A required field sent as null or blank counts as missing (the seed's `if (!meetingNumber …)`)."""
    if isinstance(data, dict) and any(_blank(data.get(name)) for name in names if name in data):
        return {k: v for k, v in data.items() if not (k in names and _blank(v))}
    return data


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _zero_or_one(value: object) -> object:
    """0/1, also as "0"/"1" (what many web clients send); booleans are not roles."""
    if isinstance(value, bool):
        raise ValueError("must be 0 or 1")
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    return value


def _string_or_number(schema: dict[str, Any]) -> None:
    """Both forms the server accepts (the field's own `type: string` would refuse the JSON number)."""
    schema.pop("type", None)
    schema["anyOf"] = [
        {"type": "string", "pattern": MEETING_NUMBER_PATTERN},
        {"type": "integer", "minimum": 100_000_000, "maximum": 99_999_999_999_999_999_999},
    ]


class SignatureBody(ApiModel):
    required_message = "meetingNumber and role are required"

    meeting_number: str = Field(
        description="Zoom meeting number: 9 to 20 digits, as a string or a JSON number",
        json_schema_extra=_string_or_number,
    )
    role: Literal[0, 1] = Field(description="0 attendee, 1 host")
    expiration_seconds: int = Field(
        default=DEFAULT_EXPIRATION_SECONDS, ge=MIN_EXPIRATION_SECONDS, le=MAX_EXPIRATION_SECONDS
    )
    video_webrtc_mode: Literal[0, 1] | None = Field(default=None, alias="videoWebRtcMode")

    @model_validator(mode="before")
    @classmethod
    def _missing(cls, data: object) -> object:
        return _absent_as_missing(data, "meetingNumber", "meeting_number", "role")

    @field_validator("meeting_number", mode="before")
    @classmethod
    def _meeting_number(cls, value: object) -> object:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON does not tell 6117091235.0 from 6117091235 (nor does the schema)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            if not _DIGITS.match(value):
                raise ValueError("must be a Zoom meeting number: 9 to 20 digits")
            value = value.replace(" ", "")
        return value

    @field_validator("role", "video_webrtc_mode", mode="before")
    @classmethod
    def _roles(cls, value: object) -> object:
        return _zero_or_one(value)


class SignatureOut(ApiModel):
    signature: str
    sdk_key: str
    customer_key: str = Field(
        description="The caller's stable opaque key (at most 35 characters): pass it as the SDK join's "
        "customerKey so that Zoom's participant events name this user (attendance)"
    )


class SignatureEnvelope(CreatedEnvelope[SignatureOut]):
    pass


class ZakBody(ApiModel):
    required_message = "userId is required"

    user_id: str = Field(
        min_length=1, max_length=320, pattern=ZOOM_USER_PATTERN, description="Zoom user id or e-mail"
    )

    @model_validator(mode="before")
    @classmethod
    def _missing(cls, data: object) -> object:
        return _absent_as_missing(data, "userId", "user_id")


class WebhookAck(BaseModel):
    """The acknowledgement of a verified delivery; `endpoint.url_validation` also gets Zoom's two fields."""

    status: Literal["success"] = "success"
    message: str
    plainToken: str | None = None
    encryptedToken: str | None = None


class ZakResponse(BaseModel):
    """As the original API answered: the token at the top level."""

    status: Literal["success"] = "success"
    message: str
    zak: str
