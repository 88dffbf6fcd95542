"""The one wrapper every HTTP function goes through.

It applies upstream's gates in upstream's order (authentication -> Accept -> Content-Type ->
body) and turns every outcome into a response: business errors and request-shape errors into
problem details, storage or key-set outages into a quick 503 with ``Retry-After``, anything
unexpected into a 500 problem without a stack trace. Function folders only translate.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import azure.functions as func
from azure.core.exceptions import (
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from shared.api import problems
from shared.auth.caller import Caller
from shared.auth.tokens import authenticate as authenticate_caller
from shared.core import errors
from shared.core.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
MULTIPART = "multipart/form-data"

# The largest legal initialize request (500 recipients, a 30,000-character body, every
# optional part at its limit) is about 300 KB; 2 MiB leaves room without inviting abuse.
DEFAULT_MAX_JSON_BODY = 2 * 1024 * 1024
RETRY_AFTER_SECONDS = "5"

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


@dataclass(frozen=True)
class ApiOptions:
    """How ``api()`` guards a function (read by tools/openapi.py for the document)."""

    consumes: str | None
    produces: str
    max_body: int | None
    content_type_required: bool
    authenticate: bool


@dataclass
class RequestContext:
    req: func.HttpRequest
    trace_id: str
    caller: Optional[Caller] = None  # once authenticated
    extra_headers: dict[str, str] = field(default_factory=dict)

    def json_body(self) -> Any:
        """Parse the body as JSON; malformed JSON is a request-shape error, never a 500."""
        raw = self.req.get_body()
        if not raw:
            raise errors.RequestValidationError(
                [errors.FieldError("$", "A non-empty request body is required.")]
            )
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:
            message = "The request body is not valid JSON."
            if isinstance(exc, json.JSONDecodeError):
                message = f"The request body is not valid JSON (line {exc.lineno}, column {exc.colno})."
            raise errors.RequestValidationError([errors.FieldError("$", message)]) from None


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    if hasattr(body, "model_dump_json"):
        payload = body.model_dump_json(by_alias=True).encode("utf-8")
    else:
        payload = problems.dumps(body)
    return func.HttpResponse(
        payload,
        status_code=status,
        mimetype=JSON,
        charset="utf-8",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def problem_response(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        problems.dumps(body),
        status_code=status,
        mimetype=problems.PROBLEM_JSON,
        charset="utf-8",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def trace_id_of(req: func.HttpRequest) -> str:
    parent = (req.headers.get("traceparent") or "").strip().lower()
    return parent if _TRACEPARENT.match(parent) else problems.new_trace_id()


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def accepts(accept_header: str | None, produces: str) -> bool:
    """Upstream: absent Accept passes; otherwise some range must be the type or */*.

    We also accept ``application/*`` (upstream refuses it), which breaks no client.
    """
    if accept_header is None or not accept_header.strip():
        return True
    major = produces.split("/", 1)[0]
    for item in accept_header.split(","):
        media = _media_type(item)
        if media in (produces, "*/*", f"{major}/*"):
            return True
    return False


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, ServiceUnavailable):
        return True
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
        return True
    if isinstance(exc, HttpResponseError):
        status = getattr(exc, "status_code", None) or 0
        return status >= 500 or status == 429
    return False


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


def render_exception(exc: BaseException, trace_id: str) -> func.HttpResponse:
    if isinstance(exc, errors.ProblemError):
        return problem_response(problems.business_problem(exc, trace_id), exc.status)
    if isinstance(exc, errors.RequestValidationError):
        return problem_response(problems.validation_problem(exc, trace_id), 400)
    if isinstance(exc, errors.HttpProblem):
        return problem_response(problems.http_problem(exc.status, trace_id, exc.detail), exc.status, exc.headers)
    if _is_outage(exc):
        # Type and place only: SDK messages can carry URLs with request details.
        logger.warning("dependency unavailable (%s at %s) trace=%s", type(exc).__name__, _where(exc), trace_id)
        detail = getattr(exc, "client_detail", None) or "A service this API depends on is unavailable. Retry later."
        return problem_response(
            problems.http_problem(503, trace_id, detail),
            503,
            {"Retry-After": RETRY_AFTER_SECONDS},
        )
    # No stack trace and no exception message in the log: either may carry request data.
    logger.error("unhandled %s at %s trace=%s", type(exc).__name__, _where(exc), trace_id)
    return problem_response(problems.http_problem(500, trace_id), 500)


def api(
    *,
    consumes: str | None = JSON,
    produces: str = JSON,
    max_body: int | None = DEFAULT_MAX_JSON_BODY,
    content_type_required: bool = True,
    authenticate: bool = True,
) -> Callable[[Callable[[RequestContext], func.HttpResponse]], Callable[[func.HttpRequest], func.HttpResponse]]:
    """Decorate a handler ``(ctx) -> HttpResponse`` into a Functions ``main(req)``."""

    def decorator(handler: Callable[[RequestContext], func.HttpResponse]) -> Callable[[func.HttpRequest], func.HttpResponse]:
        @functools.wraps(handler)
        def main(req: func.HttpRequest) -> func.HttpResponse:
            ctx = RequestContext(req=req, trace_id=trace_id_of(req))
            try:
                if authenticate:
                    ctx.caller = authenticate_caller(req.headers.get("Authorization"))
                if not accepts(req.headers.get("Accept"), produces):
                    return func.HttpResponse(
                        f"Not acceptable. Supported media types: {produces}",
                        status_code=406,
                        headers=dict(SECURITY_HEADERS),
                    )
                if consumes is not None:
                    content_type = req.headers.get("Content-Type")
                    if content_type and _media_type(content_type) != consumes:
                        raise errors.HttpProblem(415, f"Content-Type must be {consumes}.")
                    if not content_type and content_type_required:
                        raise errors.HttpProblem(415, f"Content-Type must be {consumes}.")
                if max_body is not None and len(req.get_body() or b"") > max_body:
                    raise errors.HttpProblem(413, f"The request body is larger than {max_body} bytes.")
                response = handler(ctx)
                for name, value in ctx.extra_headers.items():
                    response.headers[name] = value
                return response
            except Exception as exc:  # noqa: BLE001 - this is the one place that maps everything
                response = _auth_response(exc, ctx.trace_id)
                if response is not None:
                    return response
                return render_exception(exc, ctx.trace_id)

        main.api_options = ApiOptions(consumes, produces, max_body, content_type_required, authenticate)  # type: ignore[attr-defined]
        return main

    return decorator


def _auth_response(exc: BaseException, trace_id: str) -> func.HttpResponse | None:
    """401/403/503 for token problems; the auth module defines the exception types."""
    status = getattr(exc, "http_status", None)
    if status is None:
        return None
    headers = dict(getattr(exc, "headers", {}) or {})
    detail = getattr(exc, "public_detail", None)
    if status == 503:
        headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    return problem_response(problems.http_problem(status, trace_id, detail), status, headers)
