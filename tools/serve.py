"""Local Functions host: ``python -m tools.serve [--host HOST] [--port PORT]``.

Azure Functions Core Tools cannot be installed everywhere, so this serves every top-level
function folder (``*/function.json``) the way the host would: HTTP triggers on their routes,
queue and timer triggers in the same process. App settings come from ``local.settings.json``
"Values"; environment variables override them. Where Core Tools exist, ``func start`` serves
the same folders unchanged. The host imports nothing of the application but its function
folders, and its own answers (no route, limits, malformed requests) carry no app error codes.

SIGINT (Ctrl-C) and SIGTERM stop it cleanly: it logs ``stopped`` and exits 0. A port that is
in use is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

from tools.localhost.app_settings import load_host_json, load_local_settings
from tools.localhost.body import BodyLimits, BodyRefused, read_body
from tools.localhost.functions import FunctionDef, discover, invoke
from tools.localhost.problems import problem
from tools.localhost.protocol import SafeServer
from tools.localhost.routes import Route, compile_route, sort_routes
from tools.localhost.storage import ConnectionNotConfigured

logger = logging.getLogger("serve")

# The Functions HTTP trigger refuses bodies over 100 MB (104,857,600 bytes).
MAX_REQUEST_BYTES = 100 * 1024 * 1024
# Request line and header limits (Kestrel's defaults: 8 KiB request line, 100 headers); a
# header may be 16 KiB, room for a large bearer token. Over them: 400 and the connection closes.
MAX_LINE_SIZE = 8190
MAX_FIELD_SIZE = 16 * 1024
MAX_HEADERS = 100
# In Azure the front end gives up on a request after 230 s (body upload and function together)
# and answers 502 while the function runs on; the local host does the same.
REQUEST_TIMEOUT_SECONDS = 230.0
# In-flight requests get this long to finish when the host stops.
SHUTDOWN_SECONDS = 5.0


class ListenError(Exception):
    """The host cannot listen where it was asked to; the message is one line for a person."""


class HttpDispatcher:
    def __init__(self, functions: list[FunctionDef], executor: ThreadPoolExecutor, route_prefix: str) -> None:
        self.executor = executor
        # Size cap, idle timeout and minimum rate for bodies (408 for a slow sender, 413).
        self.body_limits = BodyLimits.from_env(MAX_REQUEST_BYTES)
        self.request_seconds = float(os.environ.get("LOCALHOST_REQUEST_TIMEOUT_SECONDS") or REQUEST_TIMEOUT_SECONDS)
        # Invocations that outlived their request: kept referenced until they end.
        self.abandoned: set[asyncio.Future[Any]] = set()
        entries: list[tuple[Route, FunctionDef, set[str]]] = []
        for function in functions:
            trigger = function.trigger
            template = trigger.get("route") or function.name
            if route_prefix:
                template = f"{route_prefix.strip('/')}/{template.lstrip('/')}"
            methods = {m.upper() for m in trigger.get("methods") or ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]}
            entries.append((compile_route(template), function, methods))
        order = {id(route): i for i, route in enumerate(sort_routes([e[0] for e in entries]))}
        self.entries = sorted(entries, key=lambda e: order[id(e[0])])

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        response = await self._dispatch(request)
        # The raw path only: a query string may carry a key or a signature.
        path = request.rel_url.raw_path
        logger.info("%s %s %s %.1f ms", request.method, path, response.status, (time.perf_counter() - started) * 1000)
        return response

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        allowed: set[str] = set()
        for route, function, methods in self.entries:
            params = route.match(request.path)
            if params is None:
                continue
            if request.method.upper() not in methods:
                allowed |= methods
                continue
            return await self._call(request, function, params)
        if allowed:
            return problem(
                405,
                "The method is not allowed for this path.",
                request_headers=request.headers,
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        return problem(404, "No function serves this path.", request_headers=request.headers)

    async def _call(self, request: web.BaseRequest, function: FunctionDef, params: dict[str, str]) -> web.StreamResponse:
        import azure.functions as func

        deadline = time.monotonic() + self.request_seconds
        try:
            body = await read_body(request, self.body_limits, deadline)
        except BodyRefused as refused:
            return refused.response
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        http_request = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=headers,
            params=dict(request.query),
            route_params=params,
            body=body,
        )
        invocation = asyncio.ensure_future(invoke(function, http_request, self.executor))
        try:
            done, _ = await asyncio.wait({invocation}, timeout=max(deadline - time.monotonic(), 0))
        except asyncio.CancelledError:  # the client went away; the function runs on
            self._abandon(invocation)
            raise
        if not done:
            # As in Azure, the function is not stopped; only its answer is lost.
            self._abandon(invocation)
            logger.error("%s did not answer within %g s", function.name, self.request_seconds)
            return problem(
                502, f"The function did not answer within {self.request_seconds:g} s.", request_headers=request.headers
            )
        try:
            result = invocation.result()
        except Exception as exc:  # noqa: BLE001 - the host answers 500 for a function that throws
            logger.error("%s failed: %s", function.name, type(exc).__name__)
            return web.Response(status=500)
        if not isinstance(result, func.HttpResponse):
            logger.error("%s returned %s instead of an HttpResponse", function.name, type(result).__name__)
            return web.Response(status=500)
        return _to_aiohttp(result)

    def _abandon(self, invocation: asyncio.Future[Any]) -> None:
        self.abandoned.add(invocation)
        invocation.add_done_callback(self._forget)

    def _forget(self, invocation: asyncio.Future[Any]) -> None:
        self.abandoned.discard(invocation)
        if not invocation.cancelled() and invocation.exception() is not None:
            logger.error("an abandoned invocation failed: %s", type(invocation.exception()).__name__)


def _to_aiohttp(result: Any) -> web.Response:
    headers = {k: v for k, v in result.headers.items()}
    if not any(k.lower() == "content-type" for k in headers) and result.mimetype:
        content_type = result.mimetype
        if result.charset and (content_type.startswith("text/") or "json" in content_type):
            content_type = f"{content_type}; charset={result.charset}"
        headers["Content-Type"] = content_type
    return web.Response(body=result.get_body(), status=result.status_code, headers=headers)


def _listen_error(host: str, port: int, exc: OSError) -> ListenError:
    if exc.errno == errno.EADDRINUSE:
        return ListenError(
            f"port {port} is in use (another make run?); stop it (make stop) or use another port: "
            f"make run PORT={port + 1}, or --port {port + 1}"
        )
    return ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _background_tasks(functions: list[FunctionDef], host_config: dict[str, Any], executor: ThreadPoolExecutor, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    tasks = []
    for function in functions:
        if function.trigger_type == "queueTrigger":
            from tools.localhost.queue_trigger import QueueListener

            try:
                listener = QueueListener(function, host_config, executor)
            except ConnectionNotConfigured as missing:
                # The Functions host reports such a function as failing to index and serves the rest.
                logger.error("%s is not started: %s", function.name, missing)
                continue
            tasks.append(asyncio.create_task(listener.run(stop)))
        elif function.trigger_type == "timerTrigger":
            from tools.localhost.timer_trigger import TimerRunner

            tasks.append(asyncio.create_task(TimerRunner(function, executor).run(stop)))
        elif function.trigger_type != "httpTrigger":
            logger.warning("%s: trigger %s is not supported by the local host", function.name, function.trigger_type)
    return tasks


async def serve(
    root: Path, host: str, port: int, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    """Serve until ``stop`` is set (forever without one). Raises ``ListenError``."""
    load_local_settings(root)
    host_config = load_host_json(root)
    functions = discover(root)
    executor = ThreadPoolExecutor(
        max_workers=int(os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT") or 32), thread_name_prefix="fn"
    )
    route_prefix = host_config.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    http_functions = [f for f in functions if f.trigger_type == "httpTrigger"]
    dispatcher = HttpDispatcher(http_functions, executor, route_prefix)
    server = SafeServer(
        dispatcher.handle,
        handler_cancellation=True,
        access_log=None,
        max_line_size=MAX_LINE_SIZE,
        max_field_size=MAX_FIELD_SIZE,
        max_headers=MAX_HEADERS,
        # After an early answer (408, 413) the rest of the body is read and dropped for at most
        # 2 s (aiohttp's default: 10 s), so that the client sees the answer; then it closes.
        lingering_time=2.0,
    )
    runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_SECONDS)
    await runner.setup()
    stop = stop or asyncio.Event()
    background: list[asyncio.Task[None]] = []
    try:
        # Listen before starting any trigger, so that a port in use stops the host at once.
        try:
            await web.TCPSite(runner, host, port, backlog=1024).start()
        except OSError as exc:
            raise _listen_error(host, port, exc) from None
        background = _background_tasks(functions, host_config, executor, stop)
        names = ", ".join(f"{f.name} ({f.trigger_type})" for f in functions)
        logger.info("serving %d functions on http://%s:%d: %s", len(functions), host, port, names)
        if ready is not None:
            ready.set()
        await stop.wait()
        logger.info("stopping")
    finally:
        stop.set()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await runner.cleanup()
        executor.shutdown(wait=False, cancel_futures=True)


class _StopOnSignal:
    """SIGINT and SIGTERM set the stop event. Installed with ``signal.signal`` rather than the
    loop's handlers so that it stays in place after the loop closes: Ctrl-C reaches the whole
    process group and ``tools/azurite.py`` forwards it too, and a second signal must not turn
    into a KeyboardInterrupt traceback."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.event: asyncio.Event | None = None
        self.received: int | None = None

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self)

    def __call__(self, signum: int, _frame: object) -> None:
        if self.received is None:
            self.received = signum
        loop, event = self.loop, self.event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def bind(self) -> asyncio.Event:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()
        if self.received is not None:  # a signal came before the loop ran
            self.event.set()
        return self.event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--root", default=".", help="the function app folder (default: current directory)")
    args = parser.parse_args(argv)
    stopper = _StopOnSignal()
    stopper.install()
    root = Path(args.root).resolve()
    sys.path.insert(0, str(root))
    logging.basicConfig(level=os.environ.get("SERVE_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)

    async def run() -> None:
        await serve(root, args.host, args.port, stop=await stopper.bind())

    try:
        asyncio.run(run())
    except ListenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
