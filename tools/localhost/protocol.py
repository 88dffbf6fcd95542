"""The HTTP server of the local host: aiohttp's, with errors answered and logged safely.

aiohttp answers a request it cannot parse (a header folded onto a second line, a header line
without a colon, a control character in a value, a line over the size limits) with a 400
whose text body quotes the offending line, and logs it with a traceback. That line may be an
``Authorization`` header: a whole bearer token, signature included, would end up in the
response and in the log. Here every error the server itself answers (400 malformed, 500 and
504 from the server machinery) gets a fixed problem document and one log line naming the
status and the error's class, never its message.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from tools.localhost.problems import problem

logger = logging.getLogger("serve.http")

_DETAILS = {
    400: "The request is malformed.",
    500: "The local host failed to handle the request.",
    504: "The local host gave up waiting for the request handler.",
}


class SafeRequestHandler(RequestHandler):
    """One connection. Only the error paths differ from aiohttp's own handler."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,  # aiohttp's text, which quotes the request: not used
    ) -> web.StreamResponse:
        what = "malformed request" if status == 400 else "request failed"
        logger.warning("%d %s (%s)", status, what, type(exc).__name__ if exc is not None else "no exception")
        if request.writer.output_size > 0:
            # Part of a response is out already: nothing more can be said on this connection.
            raise ConnectionError("the response was already started")
        return problem(status, _DETAILS.get(status, "The request failed."), close=True)

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        # aiohttp's other error logs carry a traceback whose text may quote the request.
        exc = kwargs.get("exc_info")
        name = type(exc).__name__ if isinstance(exc, BaseException) else "no exception"
        logger.error("request handling failed (%s)", name)


class SafeServer(web.Server):
    """``web.Server`` whose connections use ``SafeRequestHandler``."""

    def __call__(self) -> RequestHandler:
        return SafeRequestHandler(self, loop=self._loop, **self._kwargs)
