"""Request/response schemas shared by every blueprint: the JSON envelope and the base model.

The same pydantic models validate requests and generate the OpenAPI document (flask-openapi3).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, ClassVar, Generic, Literal, TypeVar

from flask_openapi3.request import _validate_request
from flask_openapi3.types import ResponseDict
from flask_openapi3.utils import parse_parameters
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

T = TypeVar("T")
# The characters `str.isspace()` and `str.strip()` count as whitespace, for use inside `[...]`. Spelled
# out because `\s` differs between Python (`\x1c`-`\x1f` are space), JSON Schema/ECMA (`\x85` is not)
# and Rust (pydantic's engine), so the OpenAPI document and the server agree on every character.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# "Not only whitespace", for fields that are stripped before use: one character `str.strip()` keeps.
NON_BLANK = rf"[^{WHITESPACE}]"
MAX_ID = 2_147_483_647  # ids are PostgreSQL `integer`: a larger one would reach the database and fail there

_REGISTRY: dict[str, type[ApiModel]] = {}
# PostgreSQL text cannot hold NUL, and an unpaired surrogate (JSON allows "\udc00") is not encodable text.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
    required_message: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """400 for text no database or client can store, rather than a 500 from the driver."""
        if isinstance(value, str) and _UNSTORABLE.search(value):
            raise ValueError("must not contain NUL characters or unpaired surrogates")
        return value


def model_named(name: str) -> type[ApiModel] | None:
    return _REGISTRY.get(name)


class FieldError(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    status: Literal["error"] = "error"
    message: str
    errors: list[FieldError] | None = None


class Envelope(BaseModel, Generic[T]):
    status: Literal["success"] = "success"
    message: str
    data: T


class CreatedEnvelope(BaseModel, Generic[T]):
    status: Literal["created"] = "created"
    message: str
    data: T


class MessageResponse(BaseModel):
    status: Literal["success"] = "success"
    message: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    per_page: int = Field(alias="perPage")
    total: int

    model_config = ConfigDict(populate_by_name=True)


class PageQuery(ApiModel):
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=20, ge=1, le=100)


class IdPath(ApiModel):
    id: int = Field(ge=1, le=MAX_ID)


def validated(view: Callable) -> Callable:
    """Validate the request (path, query, headers, body) where this decorator sits, not before the view.

    flask-openapi3 validates before any decorator of the view runs, so a request without a token (or
    from a role that may not call the operation) but with a bad body got 400 and the validation details
    instead of 401/403. Put this below `auth_required`/`jwt_required`: auth first, then validation.
    (flask-openapi3's own `validate_request` does the same but rebuilds the models' JSON Schemas on
    every request; the models are resolved once here.)

    The one use of a private flask-openapi3 function (`_validate_request`, what its public decorator
    calls), by keyword; `tests/unit/test_library_seams.py` fails if its parameters change.
    """
    header, cookie, path, query, form, body, raw = parse_parameters(view, doc_ui=False)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        view_kwargs = _validate_request(
            header=header,
            cookie=cookie,
            path=path,
            query=query,
            form=form,
            body=body,
            raw=raw,  # type: ignore[arg-type]  # parse_parameters types it RawModel, this as BaseModel
            path_kwargs=kwargs,
        )
        view_kwargs.update(kwargs)
        return view(*args, **view_kwargs)

    wrapper.__delay_validate_request__ = True  # type: ignore[attr-defined]  # flask-openapi3: skip its own
    return wrapper


ERROR_RESPONSES: dict[int, type[BaseModel]] = {
    400: ErrorResponse,
    401: ErrorResponse,
    403: ErrorResponse,
    404: ErrorResponse,
    409: ErrorResponse,
    413: ErrorResponse,
    415: ErrorResponse,
    429: ErrorResponse,
    500: ErrorResponse,
    502: ErrorResponse,
    503: ErrorResponse,
}


def responses(ok: dict[int, type[BaseModel]], *errors: int) -> ResponseDict:
    """The documented responses of one operation: its success body plus the listed error codes."""
    documented: ResponseDict = {code: model for code, model in ok.items()}
    documented.update({code: ERROR_RESPONSES[code] for code in (400, 500, *errors)})
    return documented
