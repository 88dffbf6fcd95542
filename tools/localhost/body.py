"""Reading a request body in the local host, with the limits a front end would apply.

The local host reads the whole body before it invokes a function (as the Functions host
does). Without limits a client that sends slowly, or stops sending, would hold the connection
and its buffer for as long as it likes. So the body is read with:

* a size cap (``max_bytes``; a declared ``Content-Length`` above it is refused at once): 413;
* an idle timeout: no byte for ``idle_seconds``: 408;
* a minimum transfer rate: after ``grace_seconds``, fewer than ``min_rate`` bytes a second on
  average since the body started: 408 (Kestrel's ``MinRequestBodyDataRate`` works the same
  way; its defaults are 240 bytes/s after 5 s).

The 408 is a problem document with errorCode 2022 ("Upload timed out because data arrived too
slowly", the code upstream gives a slow upload); the connection is closed after it. In Azure the
platform's front end applies its own limits (see docs/reliability-and-security.md).

Settings (environment, for tests and odd networks): ``LOCALHOST_BODY_IDLE_SECONDS`` (10),
``LOCALHOST_BODY_GRACE_SECONDS`` (10), ``LOCALHOST_BODY_MIN_RATE`` (1024 bytes/s).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from dataclasses import dataclass

from aiohttp import web

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int
    idle_seconds: float = 10.0
    grace_seconds: float = 10.0
    min_rate: float = 1024.0  # bytes per second, averaged from the start of the body

    @classmethod
    def from_env(cls, max_bytes: int) -> "BodyLimits":
        def number(name: str, default: float) -> float:
            value = os.environ.get(name)
            return float(value) if value else default

        return cls(
            max_bytes=max_bytes,
            idle_seconds=number("LOCALHOST_BODY_IDLE_SECONDS", cls.idle_seconds),
            grace_seconds=number("LOCALHOST_BODY_GRACE_SECONDS", cls.grace_seconds),
            min_rate=number("LOCALHOST_BODY_MIN_RATE", cls.min_rate),
        )


class BodyRefused(Exception):
    """The body broke a limit; ``response`` is the answer (the connection is then closed)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _trace_id(request: web.Request) -> str:
    parent = (request.headers.get("traceparent") or "").strip().lower()
    parts = parent.split("-")
    if len(parts) == 4 and [len(p) for p in parts] == [2, 32, 16, 2]:
        return parent
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def _problem(request: web.Request, status: int, body: dict[str, object]) -> web.Response:
    body.setdefault("traceId", _trace_id(request))
    response = web.Response(
        body=json.dumps(body).encode("utf-8"),
        status=status,
        content_type=PROBLEM_JSON,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Connection": "close"},
    )
    response.force_close()
    return response


def too_large(request: web.Request, max_bytes: int) -> BodyRefused:
    return BodyRefused(
        _problem(
            request,
            413,
            {
                "type": "https://tools.ietf.org/html/rfc9110#section-15.5.14",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"The request body is larger than {max_bytes} bytes.",
            },
        )
    )


def too_slow(request: web.Request, why: str) -> BodyRefused:
    return BodyRefused(
        _problem(
            request,
            408,
            {
                "type": "https://tools.ietf.org/html/rfc9110#section-15.5.9",
                "title": "Request Timeout",
                "status": 408,
                "detail": f"Upload timed out because data arrived too slowly ({why}).",
                "code": "CORR-02022",
                "statusDescription": "Request Timeout",
                "errorCode": 2022,
            },
        )
    )


async def read_body(request: web.Request, limits: BodyLimits) -> bytes:
    """The whole body, or ``BodyRefused`` (413, 408) when it breaks a limit."""
    declared = request.content_length
    if declared is not None and declared > limits.max_bytes:
        raise too_large(request, limits.max_bytes)
    if not request.body_exists:
        return b""
    stream = request.content
    body = bytearray()
    started = last_data = time.monotonic()

    def too_slow_now(now: float) -> BodyRefused | None:
        if now - last_data >= limits.idle_seconds:
            return too_slow(request, f"no data for {limits.idle_seconds:g} s")
        elapsed = now - started
        if limits.min_rate > 0 and elapsed >= limits.grace_seconds and len(body) < limits.min_rate * elapsed:
            return too_slow(request, f"less than {limits.min_rate:g} bytes/s")
        return None

    while True:
        # Wake up at the idle deadline or when the average rate would drop below the minimum.
        deadline = last_data + limits.idle_seconds
        if limits.min_rate > 0:
            deadline = min(deadline, started + max(limits.grace_seconds, len(body) / limits.min_rate))
        try:
            chunk = await asyncio.wait_for(stream.readany(), timeout=max(deadline - time.monotonic(), 0.01))
        except asyncio.TimeoutError:
            refused = too_slow_now(time.monotonic())
            if refused is not None:
                raise refused from None
            continue
        if not chunk:
            return bytes(body)
        body += chunk
        last_data = time.monotonic()
        if len(body) > limits.max_bytes:
            raise too_large(request, limits.max_bytes)
        refused = too_slow_now(last_data)
        if refused is not None:
            raise refused
