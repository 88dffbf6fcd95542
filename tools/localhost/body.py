"""Reading a request body in the local host, with the limits a front end would apply.

The local host reads the whole body before it invokes a function (as the Functions host
does). Without limits a client that sends slowly, or stops sending, would hold the connection
and its buffer for as long as it likes. So the body is read with:

* a size cap (``max_bytes``; a declared ``Content-Length`` above it is refused at once): 413;
* an idle timeout: no byte for ``idle_seconds``: 408;
* a minimum transfer rate: after ``grace_seconds``, fewer than ``min_rate`` bytes a second on
  average since the body started: 408 (Kestrel's ``MinRequestBodyDataRate`` works the same
  way; its defaults are 240 bytes/s after 5 s);
* a deadline for the whole request (``serve.py``: 230 s, Azure's front-end timeout): 408 when
  it passes while the body is still arriving.

The answers are the host's plain problem documents (``problems.py``), and the connection is
closed after them. What Azure answers instead is in docs/reliability-and-security.md.

Settings (environment, for tests and odd networks): ``LOCALHOST_BODY_IDLE_SECONDS`` (10),
``LOCALHOST_BODY_GRACE_SECONDS`` (10), ``LOCALHOST_BODY_MIN_RATE`` (1024 bytes/s).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

from aiohttp import web

from tools.localhost.problems import problem


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


def too_large(request: web.BaseRequest, max_bytes: int) -> BodyRefused:
    detail = f"The request body is larger than {max_bytes} bytes."
    return BodyRefused(problem(413, detail, request_headers=request.headers, close=True))


def too_slow(request: web.BaseRequest, why: str) -> BodyRefused:
    detail = f"The request body arrived too slowly ({why})."
    return BodyRefused(problem(408, detail, request_headers=request.headers, close=True))


async def read_body(request: web.BaseRequest, limits: BodyLimits, deadline: float | None = None) -> bytes:
    """The whole body, or ``BodyRefused`` (413, 408) when it breaks a limit. ``deadline`` is
    a ``time.monotonic()`` instant by which the body must have arrived."""
    declared = request.content_length
    if declared is not None and declared > limits.max_bytes:
        raise too_large(request, limits.max_bytes)
    if not request.body_exists:
        return b""
    stream = request.content
    body = bytearray()
    started = last_data = time.monotonic()
    final = float("inf") if deadline is None else deadline

    def too_slow_now(now: float) -> BodyRefused | None:
        if now - last_data >= limits.idle_seconds:
            return too_slow(request, f"no data for {limits.idle_seconds:g} s")
        elapsed = now - started
        if limits.min_rate > 0 and elapsed >= limits.grace_seconds and len(body) < limits.min_rate * elapsed:
            return too_slow(request, f"less than {limits.min_rate:g} bytes/s")
        if now >= final:
            return too_slow(request, "the request took longer than the host's request timeout")
        return None

    while True:
        # Wake up at the idle deadline, when the average rate would drop below the minimum,
        # or at the request's deadline, whichever comes first.
        wake = min(last_data + limits.idle_seconds, final)
        if limits.min_rate > 0:
            wake = min(wake, started + max(limits.grace_seconds, len(body) / limits.min_rate))
        try:
            chunk = await asyncio.wait_for(stream.readany(), timeout=max(wake - time.monotonic(), 0.01))
        except asyncio.TimeoutError:
            refused = too_slow_now(time.monotonic())
            if refused is not None:
                raise refused from None
            continue
        if not chunk:
            if time.monotonic() >= final:
                raise too_slow(request, "the request took longer than the host's request timeout")
            return bytes(body)
        body += chunk
        last_data = time.monotonic()
        if len(body) > limits.max_bytes:
            raise too_large(request, limits.max_bytes)
        refused = too_slow_now(last_data)
        if refused is not None:
            raise refused
