"""Local Functions host: ``python -m tools.serve [--host HOST] [--port PORT]``.

Azure Functions Core Tools cannot be installed everywhere, so this serves every top-level
function folder (``*/function.json``) the way the host would: HTTP triggers on their routes,
queue and timer triggers in the same process. App settings come from ``local.settings.json``
"Values"; environment variables override them. Where Core Tools exist, ``func start`` serves
the same folders unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

from tools.localhost.app_settings import load_host_json, load_local_settings
from tools.localhost.body import BodyLimits, BodyRefused, read_body
from tools.localhost.functions import FunctionDef, discover, invoke
from tools.localhost.routes import Route, compile_route, sort_routes

logger = logging.getLogger("serve")

# The Functions HTTP trigger refuses bodies over 100 MB (104,857,600 bytes).
MAX_REQUEST_BYTES = 100 * 1024 * 1024
# Request line and header limits (Kestrel's defaults: 8 KiB request line, 100 headers); a
# header may be 16 KiB, room for a large bearer token. Over them: 400 and the connection closes.
MAX_LINE_SIZE = 8190
MAX_FIELD_SIZE = 16 * 1024
MAX_HEADERS = 100


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return web.Response(
        body=json.dumps(body).encode(), status=status, content_type="application/problem+json", headers=headers
    )


class HttpDispatcher:
    def __init__(self, functions: list[FunctionDef], executor: ThreadPoolExecutor, route_prefix: str) -> None:
        self.executor = executor
        # Size cap, idle timeout and minimum rate for bodies (408/2022 for a slow sender).
        self.body_limits = BodyLimits.from_env(MAX_REQUEST_BYTES)
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

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        response = await self._dispatch(request)
        logger.info("%s %s %s %.1f ms", request.method, request.path, response.status, (time.perf_counter() - started) * 1000)
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
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
            return _problem(405, "Method Not Allowed", f"{request.method} is not allowed here.", {"Allow": ", ".join(sorted(allowed))})
        return _problem(404, "Not Found", "No function serves this path.")

    async def _call(self, request: web.Request, function: FunctionDef, params: dict[str, str]) -> web.StreamResponse:
        import azure.functions as func

        try:
            body = await read_body(request, self.body_limits)
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
        try:
            result = await invoke(function, http_request, self.executor)
        except Exception as exc:  # noqa: BLE001 - the host answers 500 for a function that throws
            logger.error("%s failed: %s", function.name, type(exc).__name__)
            return web.Response(status=500)
        if not isinstance(result, func.HttpResponse):
            logger.error("%s returned %s instead of an HttpResponse", function.name, type(result).__name__)
            return web.Response(status=500)
        return _to_aiohttp(result)


def _to_aiohttp(result: Any) -> web.Response:
    headers = {k: v for k, v in result.headers.items()}
    if not any(k.lower() == "content-type" for k in headers) and result.mimetype:
        content_type = result.mimetype
        if result.charset and (content_type.startswith("text/") or "json" in content_type):
            content_type = f"{content_type}; charset={result.charset}"
        headers["Content-Type"] = content_type
    return web.Response(body=result.get_body(), status=result.status_code, headers=headers)


async def serve(root: Path, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    load_local_settings(root)
    host_config = load_host_json(root)
    functions = discover(root)
    executor = ThreadPoolExecutor(
        max_workers=int(os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT") or 32), thread_name_prefix="fn"
    )
    route_prefix = host_config.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    http_functions = [f for f in functions if f.trigger_type == "httpTrigger"]
    dispatcher = HttpDispatcher(http_functions, executor, route_prefix)
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.router.add_route("*", "/{tail:.*}", dispatcher.handle)

    stop = asyncio.Event()
    background = []
    for function in functions:
        if function.trigger_type == "queueTrigger":
            from tools.localhost.queue_trigger import QueueListener

            background.append(asyncio.create_task(QueueListener(function, host_config, executor).run(stop)))
        elif function.trigger_type == "timerTrigger":
            from tools.localhost.timer_trigger import TimerRunner

            background.append(asyncio.create_task(TimerRunner(function, executor).run(stop)))
        elif function.trigger_type != "httpTrigger":
            logger.warning("%s: trigger %s is not supported by the local host", function.name, function.trigger_type)

    runner = web.AppRunner(
        app,
        access_log=None,
        handler_cancellation=True,
        max_line_size=MAX_LINE_SIZE,
        max_field_size=MAX_FIELD_SIZE,
        max_headers=MAX_HEADERS,
        # After an early answer (408, 413) the rest of the body is read and dropped for at most
        # 2 s (aiohttp's default: 10 s), so that the client sees the answer; then it closes.
        lingering_time=2.0,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    names = ", ".join(f"{f.name} ({f.trigger_type})" for f in functions)
    logger.info("serving %d functions on http://%s:%d: %s", len(functions), host, port, names)
    if ready is not None:
        ready.set()
    try:
        await asyncio.Event().wait()
    finally:
        stop.set()
        for task in background:
            task.cancel()
        await runner.cleanup()
        executor.shutdown(wait=False, cancel_futures=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--root", default=".", help="the function app folder (default: current directory)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    sys.path.insert(0, str(root))
    logging.basicConfig(level=os.environ.get("SERVE_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(root, args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
