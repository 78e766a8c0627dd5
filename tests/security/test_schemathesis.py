"""Schemathesis against the published OpenAPI document, in-process through the WSGI app (README, Benchmarks).

Every operation of `/api/v1/openapi.json` is fuzzed with positive and negative data (examples, coverage
and fuzzing phases) as an admin, a teacher and a student, each with a valid access token. Each response
must:

- not be a 5xx (`not_a_server_error`);
- use a documented status code, content type and headers and match the documented schema
  (schemathesis' default checks, incl. `response_schema_conformance`);
- be the envelope of docs/api.md (`envelope` below: `status`/`message`, `data` or `errors` in shape,
  `zak` top level only on the ZAK success);
- accept schema-valid data (`positive_data_acceptance`) and reject invalid data (`negative_data_rejection`);
- answer 401 when the token is missing, whatever else is wrong with the request (`missing_required_header`).

Decisions, each narrow:
- Some rules cannot be written in JSON Schema (a schedule whose end precedes its start, an unknown IANA
  zone, no upcoming session, an admin creating a halaka without `teacherId`, a reserved e-mail domain).
  For the operations in `SEMANTIC_400` a schema-valid request may get 400, but only naming a listed
  field; any other 400 still fails.
- Unknown query parameters and body fields are ignored by design, so adding one is not negative data.
- NUL is never valid text here (PostgreSQL cannot store it): not generated as valid data; the hostile-input
  tests check every string field answers 400 for it.
- HEAD and Flask's automatic OPTIONS answer with an empty body (and `Allow`); that is not a body outside
  the envelope. A calendar feed's 200 is `text/calendar` (it must parse) and its 304 is empty. Every
  other response, 404/405/413/415 included, must be the envelope.
- Defects this suite found are pinned by regression tests at the end of the module.

The Zoom side is the sandbox (`zoom_configured`), so the ZAK endpoint answers like Zoom would; no Celery
worker runs, so a created halaka stays `pending` (its message waits in Redis). `Prefer: wait=N` is capped
at 1 s here so a generated header cannot stall the run.

Bounded and reproducible: a fixed seed, deterministic generation, `MAX_EXAMPLES` (50) per operation and
phase, a 5 s per-example deadline; about a minute for the three roles. Deeper runs with other seeds:
`FUZZ_MAX_EXAMPLES=300 FUZZ_SEED=2 pytest tests/security/test_schemathesis.py -q`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from icalendar import Calendar
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import create_app

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))
TEACHER_ZOOM_USER = "teacher@example.com"  # in the sandbox's user directory

# operation -> fields a schema-valid request may still be refused for (rules JSON Schema cannot express)
SEMANTIC_400: dict[str, tuple[str, ...]] = {
    "POST /api/v1/auth/register": ("email",),  # reserved/special-use domains (`.test`, `.invalid`…) refused
    "POST /api/v1/halaka/": ("schedule", "teacherId"),
    "PATCH /api/v1/halaka/{id}": ("schedule",),
}

BODYLESS_METHODS = {"HEAD", "OPTIONS"}
CALENDAR = "text/calendar"  # calendar feeds answer RFC 5545, not the JSON envelope

config = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # Unknown query parameters are ignored by design (cache busters and the like), as are unknown
            # body fields (`ApiModel` has extra="ignore"), so adding one is not "invalid data".
            "allow-extra-parameters": False,
            # Text with NUL cannot be stored in PostgreSQL: every string field answers 400 for it (see
            # `ApiModel._storable_text`, and test_hostile_input.py), so it is not generated as valid data.
            "allow-x00": False,
        },
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app(), config=config)


@schemathesis.check
def envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """docs/api.md: every body is `{status, message, data?}` or `{status: "error", message, errors?}`."""
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    if case.method.upper() in BODYLESS_METHODS and not response.content:
        return None  # HEAD never has a body; Flask's automatic OPTIONS answers 200 + Allow, empty
    if response.status_code == 304 and not response.content:
        return None  # a feed not modified since the client's copy
    if response.status_code == 200 and response.headers.get("Content-Type", "").startswith(CALENDAR):
        Calendar.from_ical(response.content)  # a feed (documented as text/calendar) must parse
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{where}: body is not JSON: {response.text[:200]!r}") from None
    assert isinstance(body, dict), f"{where}: body is not a JSON object: {response.text[:200]!r}"
    assert isinstance(body.get("message"), str) and body["message"], "message must be a non-empty string"
    status = body.get("status")
    code = response.status_code
    if code >= 400:
        assert status == "error", f"{code} with status {status!r}"
        assert set(body) <= {"status", "message", "errors"}, f"unexpected keys {sorted(body)}"
        for error in body.get("errors") or []:
            assert set(error) == {"field", "message"}, error
            assert all(isinstance(v, str) for v in error.values()), error
        assert "Traceback" not in response.text, "stack trace in the body"
    else:
        expected = "created" if code == 201 else "success"
        assert status == expected, f"{code} with status {status!r}"
        extra = {"zak"} if case.operation.label == "POST /api/v1/zoom/zak-token" else {"data"}
        assert set(body) <= {"status", "message"} | extra, f"unexpected keys {sorted(body)}"


def _semantic_rejection_allowed(case: Any, response: Any) -> bool:
    label = case.operation.label
    fields = SEMANTIC_400.get(label)
    if fields is None or response.status_code != 400:
        return False
    errors = response.json().get("errors") or []
    return bool(errors) and all(e["field"].split(".")[0] in fields for e in errors)


def check_case(case: Any, token: str) -> None:
    """Send the case with a valid token where schemathesis put a well-formed bearer header.

    A missing header or a malformed value (`Basic …`, no scheme) is a deliberate negative case: sent as is.
    """
    auth = (case.headers or {}).get("Authorization")
    if isinstance(auth, str) and auth.startswith("Bearer "):
        case.headers["Authorization"] = f"Bearer {token}"
    response = case.call()
    excluded = [positive_data_acceptance] if _semantic_rejection_allowed(case, response) else []
    case.validate_response(response, additional_checks=[envelope], excluded_checks=excluded)


@pytest.fixture
def fuzz_env(zoom_configured, webhook_secret, monkeypatch):
    """The sandbox as Zoom (its directory holds `TEACHER_ZOOM_USER`), `Prefer: wait` capped at 1 s, and a
    webhook secret (the fuzzer's unsigned webhooks then get 401, as in production)."""
    import api.blueprints.halaka as halaka_module

    monkeypatch.setattr(halaka_module, "MAX_WAIT_SECONDS", 1)
    return zoom_configured


@pytest.fixture
def admin(fuzz_env, make_user):
    return make_user("admin")


@pytest.fixture
def teacher(fuzz_env, make_user):
    return make_user("teacher", zoom_user_id=TEACHER_ZOOM_USER)


@pytest.fixture
def student(fuzz_env, make_user):
    return make_user("student")


HYPOTHESIS = settings(
    deadline=timedelta(seconds=5),
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one account per operation, shared by its examples
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@schema.parametrize()
@HYPOTHESIS
def test_api_as_admin(case, admin):
    check_case(case, admin.token)


@schema.parametrize()
@HYPOTHESIS
def test_api_as_teacher(case, teacher):
    check_case(case, teacher.token)


@schema.parametrize()
@HYPOTHESIS
def test_api_as_student(case, student):
    check_case(case, student.token)


# --- Regression tests for defects this suite found ----------------------------------------------------


def test_signature_without_token_is_401_even_with_a_bad_body(client):
    r = client.post("/api/v1/zoom/signature", json={"meetingNumber": "", "role": 7})
    assert r.status_code == 401, r.json


def test_zak_user_id_with_slash_is_not_a_500(client, make_user, zoom_configured):
    admin = make_user("admin")
    r = client.post("/api/v1/zoom/zak-token", json={"userId": "a/b"}, headers=admin.headers)
    assert r.status_code in (400, 404), r.json


MEETING_NUMBERS = [
    "85746065432",
    "812 3456 7890",
    " 123456789 ",
    "123456789",
    "1" * 20,
    "1" * 21,
    "12345678",
    "1  23456789",
    "12a456789",
    "",
    "٩" * 10,
    123456789,
    6117091235.0,
    7.5,
    99_999_999_999_999_999_999,
    12345678,
    -123456789,
]


@pytest.mark.parametrize("value", MEETING_NUMBERS, ids=repr)
def test_signature_meeting_number_format_is_documented(client, make_user, value):
    """The published schema of meetingNumber accepts exactly the values the server accepts."""
    from jsonschema import Draft202012Validator

    spec = client.get("/api/v1/openapi.json").json
    schema = spec["components"]["schemas"]["SignatureBody"]["properties"]["meetingNumber"]
    documented = Draft202012Validator(schema).is_valid(value)
    student = make_user("student")
    r = client.post(
        "/api/v1/zoom/signature", json={"meetingNumber": value, "role": 0}, headers=student.headers
    )
    refused = r.status_code == 400 and any(e["field"] == "meetingNumber" for e in r.json.get("errors", []))
    assert documented is not refused, (value, documented, r.status_code, r.json)
