from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import EmailStr, Field, field_validator, model_validator

from api.schemas.common import NON_BLANK, ApiModel, CreatedEnvelope, Envelope, Page, PageQuery
from shared.models import Role, User


class UserOut(ApiModel):
    id: int
    name: str
    email: str
    role: Role
    active: bool
    approved: bool
    zoom_user_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls.model_validate(user, from_attributes=True)


class ZoomWriteBudgetOut(ApiModel):
    """A teacher's Zoom writes today on a shared host (SHARED_HOST_TEACHER_DAILY_WRITES)."""

    host: str
    limit: int
    used: int
    remaining: int


class MeOut(UserOut):
    zoom_write_budget: ZoomWriteBudgetOut | None = None

    @field_validator("zoom_write_budget", mode="before")
    @classmethod
    def _budget(cls, v: Any) -> Any:
        if v is None or isinstance(v, dict | ZoomWriteBudgetOut):
            return v
        return {"host": v.host, "limit": v.limit, "used": v.used, "remaining": v.remaining}


class RegisterBody(ApiModel):
    name: str = Field(min_length=1, max_length=200, pattern=NON_BLANK)
    email: EmailStr
    password: str = Field(min_length=8, max_length=128)
    role: Literal[Role.teacher, Role.student]

    @field_validator("name")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()  # NON_BLANK already refused blank names


class LoginBody(ApiModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=128)


class LogoutBody(ApiModel):
    model_config = {**ApiModel.model_config, "openapi_extra": {"required": False}}  # type: ignore[typeddict-unknown-key]  # flask-openapi3's key
    refresh_token: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="before")
    @classmethod
    def _optional(cls, data: object) -> object:
        """The body is optional: `POST /auth/logout` with no body revokes the bearer token only."""
        return {} if data is None else data


class TokensOut(ApiModel):
    access_token: str
    refresh_token: str
    user: UserOut


class AccessTokenOut(ApiModel):
    access_token: str


class UserPatch(ApiModel):
    role: Role | None = None
    active: bool | None = None
    approved: bool | None = None
    zoom_user_id: str | None = Field(default=None, min_length=1, max_length=320, pattern=NON_BLANK)
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NON_BLANK)


class UserQuery(PageQuery):
    role: Role | None = None
    email: str | None = Field(default=None, max_length=320)


class UserEnvelope(Envelope[UserOut]):
    pass


class MeEnvelope(Envelope[MeOut]):
    pass


class UserCreatedEnvelope(CreatedEnvelope[UserOut]):
    pass


class TokensEnvelope(Envelope[TokensOut]):
    pass


class AccessTokenEnvelope(Envelope[AccessTokenOut]):
    pass


class UserPage(Page[UserOut]):
    pass


class UserPageEnvelope(Envelope[UserPage]):
    pass
