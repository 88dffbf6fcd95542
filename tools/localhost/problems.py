"""The local host's own answers (no route, wrong method, body limits, malformed requests).

A plain RFC 9457 problem document: ``type``, ``title``, ``status``, ``detail`` and a
``traceId``, nothing else. The host knows nothing of the application, so there is no
``errorCode`` or ``code``: those belong to the function app's own answers. The detail is a
fixed sentence chosen by the host; nothing the client sent is echoed into it.
"""

from __future__ import annotations

import json
import re
import secrets
from http import HTTPStatus
from typing import Mapping

from aiohttp import web

PROBLEM_JSON = "application/problem+json"

# The RFC 9110 sections ASP.NET Core (the Functions host's web stack) uses as problem types.
_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    408: "https://tools.ietf.org/html/rfc9110#section-15.5.9",
    413: "https://tools.ietf.org/html/rfc9110#section-15.5.14",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    502: "https://tools.ietf.org/html/rfc9110#section-15.6.3",
    504: "https://tools.ietf.org/html/rfc9110#section-15.6.5",
}
# Only a well-formed W3C traceparent is carried over (so a client can correlate); anything
# else is replaced, so no client-chosen text reaches the body.
_TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def trace_id(headers: Mapping[str, str] | None = None) -> str:
    parent = ((headers or {}).get("traceparent") or "").strip().lower()
    if _TRACEPARENT.match(parent):
        return parent
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def problem(
    status: int,
    detail: str,
    *,
    request_headers: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    close: bool = False,
) -> web.Response:
    """A problem response; ``close`` also closes the connection (after 408, 413, 400)."""
    body = {
        "type": _TYPES.get(status, "about:blank"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "traceId": trace_id(request_headers),
    }
    response_headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", **(headers or {})}
    if close:
        response_headers["Connection"] = "close"
    response = web.Response(
        body=json.dumps(body).encode("utf-8"), status=status, content_type=PROBLEM_JSON, headers=response_headers
    )
    if close:
        response.force_close()
    return response
