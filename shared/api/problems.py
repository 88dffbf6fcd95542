"""Problem details (RFC 9457): the one place error bodies are rendered.

Business errors carry ``type``, ``title``, ``status``, ``detail``, ``code`` (``CORR-0nnnn``),
``errorCode``, ``traceId`` and ``statusDescription`` (upstream's ``ProblemDetailsHelper``);
request-shape errors are 400 ``STD-00000`` with ``validationErrors`` and the legacy ``errors``
dictionary; protocol problems (404 route, 405, 406, 413, 415, 503) have no ``errorCode``.
"""

from __future__ import annotations

import json
import secrets
from http import HTTPStatus
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from shared.core.errors import ProblemError, RequestValidationError

PROBLEM_JSON = "application/problem+json"

_TYPE_URLS = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    406: "https://tools.ietf.org/html/rfc9110#section-15.5.7",
    408: "https://tools.ietf.org/html/rfc9110#section-15.5.9",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    416: "https://tools.ietf.org/html/rfc9110#section-15.5.17",
    422: "https://tools.ietf.org/html/rfc9110#section-15.5.21",
    451: "https://tools.ietf.org/html/rfc7725#section-3",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    502: "https://tools.ietf.org/html/rfc9110#section-15.6.3",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}


TRACE_ID_PATTERN = "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


# --- the shapes rendered below (the OpenAPI document's problem schemas) -------------------
class ProblemDetails(BaseModel):
    """RFC 9457 problem details (protocol-level problems: 401, 403, 404, 405, 413, 415, 503...)."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int = Field(ge=100, le=599)
    detail: Optional[str] = None
    traceId: Optional[str] = None


class BusinessProblem(ProblemDetails):
    """A business error from the catalog: ``errorCode`` is the stable key to test on. Extension
    members (RFC 9457 §3.2) may follow, e.g. ``existingCorrespondenceId`` on a 1034."""

    model_config = ConfigDict(extra="allow")

    detail: str
    code: str = Field(pattern=r"^CORR-\d{5}$")
    errorCode: int
    traceId: str = Field(pattern=TRACE_ID_PATTERN)
    statusDescription: str


class ValidationError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    title: str
    paths: list[str]


class ValidationProblem(ProblemDetails):
    """A request-shape failure (400, ``STD-00000``): every failing field with its JSON path."""

    code: str = Field(pattern=r"^STD-00000$")
    traceId: str = Field(pattern=TRACE_ID_PATTERN)
    statusDescription: str
    validationErrors: list[ValidationError]
    errors: dict[str, list[str]]


PROBLEM_MODELS = (ProblemDetails, BusinessProblem, ValidationProblem)


# --- rendering ----------------------------------------------------------------------------
def new_trace_id() -> str:
    """W3C traceparent form, as upstream puts in its problem bodies."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def _base(status: int) -> dict[str, object]:
    title = HTTPStatus(status).phrase
    return {
        "type": _TYPE_URLS.get(status, "about:blank"),
        "title": title,
        "status": status,
    }


def business_problem(error: ProblemError, trace_id: str) -> dict[str, object]:
    body = _base(error.status)
    body.update(
        {
            "detail": error.detail,
            "code": f"CORR-{error.entry.error_code:05d}",
            "traceId": trace_id,
            "statusDescription": HTTPStatus(error.status).phrase,
            "errorCode": error.entry.error_code,
        }
    )
    body.update(error.extensions)
    return body


def validation_problem(error: RequestValidationError, trace_id: str) -> dict[str, object]:
    body = _base(400)
    grouped: dict[str, list[str]] = {}
    for item in error.errors:
        grouped.setdefault(item.message, []).append(item.path)
    legacy: dict[str, list[str]] = {}
    for item in error.errors:
        legacy.setdefault(item.path, []).append(item.message)
    body.update(
        {
            "code": "STD-00000",
            "traceId": trace_id,
            "statusDescription": "Bad Request",
            "validationErrors": [
                {"code": "CORR.VLD-00000", "title": message, "paths": paths}
                for message, paths in grouped.items()
            ],
            "errors": legacy,
        }
    )
    return body


def http_problem(status: int, trace_id: str, detail: str | None = None) -> dict[str, object]:
    body = _base(status)
    if detail:
        body["detail"] = detail
    body["traceId"] = trace_id
    return body


def dumps(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


