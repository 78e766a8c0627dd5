"""The Zoom API endpoints production calls: one table of (method, path template, Zoom rate category).

`shared.zoom.client` builds every request from an entry here and `shared.zoom.rate_budget` takes the
slot of its category, so adding a Zoom call starts with one line in this table. The categories are
Zoom's (https://developers.zoom.us/docs/api/rate-limits/); the path templates are the ones in Zoom's
OpenAPI document, and the metrics and logs name a call by its template (never the concrete path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote

Category = Literal["light", "medium", "heavy"]
CATEGORIES: Final[tuple[Category, ...]] = ("light", "medium", "heavy")


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str  # Zoom's path template, relative to the API base (`/users/{userId}/meetings`)
    category: Category

    def path(self, params: Mapping[str, object]) -> str:
        """The concrete path: each parameter percent-encoded as one path segment."""
        return self.template.format(**{k: quote(str(v), safe="") for k, v in params.items()})

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


CREATE_MEETING: Final = Endpoint("POST", "/users/{userId}/meetings", "light")
LIST_MEETINGS: Final = Endpoint("GET", "/users/{userId}/meetings", "medium")
GET_MEETING: Final = Endpoint("GET", "/meetings/{meetingId}", "light")
UPDATE_MEETING: Final = Endpoint("PATCH", "/meetings/{meetingId}", "light")
DELETE_MEETING: Final = Endpoint("DELETE", "/meetings/{meetingId}", "light")
GET_ZAK: Final = Endpoint("GET", "/users/{userId}/token", "light")  # Zoom's Users API, `?type=zak`

ENDPOINTS: Final[tuple[Endpoint, ...]] = (
    CREATE_MEETING,
    LIST_MEETINGS,
    GET_MEETING,
    UPDATE_MEETING,
    DELETE_MEETING,
    GET_ZAK,
)
