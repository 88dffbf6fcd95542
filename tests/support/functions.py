"""Call a function folder's ``main`` in-process with a real ``azure.functions.HttpRequest``."""

from __future__ import annotations

import importlib
import json
from typing import Any

import azure.functions as func

from tests.support.builders import baseline_request

RESOURCE = "ttd-corr-1"
OTHER_ORG_RESOURCE = "other-corr-1"


def valid_request(**overrides: Any) -> dict[str, Any]:
    """The upstream baseline request for our local registry's resource."""
    return baseline_request(correspondence__resourceId=RESOURCE, **overrides)


class Response:
    def __init__(self, raw: func.HttpResponse) -> None:
        self.raw = raw
        self.status = raw.status_code
        self.headers = raw.headers
        self.body = raw.get_body()

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    function: str,
    *,
    method: str = "GET",
    url: str = "http://localhost/",
    body: Any = None,
    raw_body: bytes | None = None,
    headers: dict[str, str] | None = None,
    route_params: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> Response:
    payload = raw_body if raw_body is not None else (b"" if body is None else json.dumps(body).encode())
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    request = func.HttpRequest(
        method=method, url=url, headers=all_headers, params=params or {}, route_params=route_params or {}, body=payload
    )
    main = importlib.import_module(function).main
    return Response(main(request))
