"""The OpenAPI 3.1 document of the API, generated from the application itself.

    python -m tools.openapi            print the document
    python -m tools.openapi --write    write shared/api/openapi.json (committed; served by the
                                       openapi_document function at
                                       GET /correspondence/api/v1/openapi.json)
    python -m tools.openapi --check    exit 1 when shared/api/openapi.json is out of date

Nothing here describes an operation by hand. For every HTTP function folder:

* the path, methods and path parameters come from its ``function.json`` (parsed by the local
  host's own route parser, ``tools.localhost.routes``) and ``host.json``'s route prefix;
* what the wrapper does (token, ``Accept``, ``Content-Type``, body cap) comes from the options
  of its ``api()`` decorator (``main.api_options``): 401/403, 406, 415, 413, 500, 503;
* summary, request model, answers (response models) and the business errors it can answer
  come from the ``OPERATION`` declared next to its use case (``shared.use_cases.<folder>``,
  ``shared.core.operations``); errors are grouped by status, each with its ``errorCode`` and
  fixed message from the catalog;
* the schemas are the pydantic models themselves (``shared.models``, ``shared.api.problems``).

``tests/unit/test_openapi.py`` keeps the file up to date and ``tests/e2e/test_fuzz.py`` checks
the running app against it (schemathesis).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.api.http import ApiOptions  # noqa: E402
from shared.api.problems import PROBLEM_MODELS  # noqa: E402
from shared.core.errors import CatalogEntry  # noqa: E402
from shared.core.operations import Answer, Operation  # noqa: E402
from tools.localhost.app_settings import load_host_json  # noqa: E402
from tools.localhost.functions import FunctionDef, discover  # noqa: E402
from tools.localhost.routes import openapi_path, parameters  # noqa: E402

DOCUMENT_PATH = ROOT / "shared" / "api" / "openapi.json"
API_VERSION = "1.0"
JSON = "application/json"
PROBLEM = "application/problem+json"
# The Functions host refuses a larger request body before any function runs.
HOST_MAX_BODY = 100 * 1024 * 1024

_CONSTRAINT_SCHEMAS = {
    "guid": {"type": "string", "format": "uuid"},
    "int": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    "bool": {"type": "boolean"},
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}


@dataclass(frozen=True)
class HttpFunction:
    name: str
    path: str  # OpenAPI path template
    methods: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...]
    auth_level: str
    options: ApiOptions
    operation: Operation
    extra_models: tuple[type[BaseModel], ...] = ()


def http_functions(root: Path = ROOT) -> list[HttpFunction]:
    """Every HTTP-triggered function folder with its use case's declaration."""
    prefix = load_host_json(root).get("extensions", {}).get("http", {}).get("routePrefix", "api")
    found = []
    for function in discover(root):
        if function.trigger_type != "httpTrigger":
            continue
        # A page, not an operation (swagger_ui: the explorer of this document).
        if getattr(importlib.import_module(f"shared.use_cases.{function.name}"), "IN_OPENAPI_DOCUMENT", True) is False:
            continue
        found.append(_describe(function, prefix))
    return sorted(found, key=lambda f: f.name)


def _describe(function: FunctionDef, prefix: str) -> HttpFunction:
    trigger = function.trigger
    route = (trigger.get("route") or function.name).strip("/")
    if prefix:
        route = f"{prefix.strip('/')}/{route}"
    use_case = importlib.import_module(f"shared.use_cases.{function.name}")
    operation = getattr(use_case, "OPERATION", None)
    if not isinstance(operation, Operation):
        raise SystemExit(f"shared/use_cases/{function.name}.py declares no OPERATION")
    options = getattr(function.load(), "api_options", None)
    if not isinstance(options, ApiOptions):
        raise SystemExit(f"{function.name}/__init__.py: main is not wrapped by shared.api.http.api()")
    methods = tuple(sorted(m.lower() for m in (trigger.get("methods") or ["get", "post", "put", "delete", "patch"])))
    return HttpFunction(
        name=function.name,
        path=openapi_path(route),
        methods=methods,
        parameters=tuple(parameters(route)),
        auth_level=str(trigger.get("authLevel") or "function").lower(),
        options=options,
        operation=operation,
        extra_models=tuple(getattr(use_case, "REQUEST_MODELS", ())),
    )


# --- schemas -----------------------------------------------------------------------------
def _strip_titles(node: Any) -> Any:
    """Drop pydantic's generated titles ("Resourceid") but keep properties called title."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                continue
            if key == "properties" and isinstance(value, dict):
                result[key] = {name: _strip_titles(schema) for name, schema in value.items()}
            else:
                result[key] = _strip_titles(value)
        return result
    if isinstance(node, list):
        return [_strip_titles(item) for item in node]
    return node


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def component_schemas(functions: list[HttpFunction]) -> dict[str, Any]:
    models: dict[tuple[type[BaseModel], str], None] = {}
    for function in functions:
        op = function.operation
        if _is_model(op.request):
            models[(op.request, "validation")] = None
        for model in function.extra_models:
            models[(model, "validation")] = None
        for answer in op.answers:
            if _is_model(answer.model):
                models[(answer.model, "serialization")] = None
    for model in PROBLEM_MODELS:
        models[(model, "serialization")] = None
    _, top = models_json_schema(list(models), ref_template="#/components/schemas/{model}")
    return dict(sorted(_strip_titles(top.get("$defs", {})).items()))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schema_of(model: Any) -> dict[str, Any]:
    return _ref(model.__name__) if _is_model(model) else dict(model)


def _problem(description: str, *schemas: str) -> dict[str, Any]:
    names = schemas or ("ProblemDetails",)
    schema = _ref(names[0]) if len(names) == 1 else {"anyOf": [_ref(n) for n in names]}
    return {"description": description, "content": {PROBLEM: {"schema": schema}}}


# --- responses -----------------------------------------------------------------------------
def _answer(answer: Answer) -> dict[str, Any]:
    response: dict[str, Any] = {"description": answer.description}
    if answer.model is not None:
        response["content"] = {answer.media_type: {"schema": _schema_of(answer.model)}}
    if answer.headers:
        response["headers"] = {name: {"description": text, "schema": {"type": "string"}} for name, text in answer.headers}
    return response


def _errors_by_status(entries: tuple[CatalogEntry, ...]) -> dict[int, list[CatalogEntry]]:
    grouped: dict[int, list[CatalogEntry]] = {}
    for entry in entries:
        if entry not in grouped.setdefault(entry.status, []):
            grouped[entry.status].append(entry)
    return grouped


def _error_lines(entries: list[CatalogEntry]) -> str:
    return "; ".join(f"{e.error_code}: {e.message}" for e in entries)


def responses_of(function: HttpFunction) -> dict[str, Any]:
    op, options = function.operation, function.options
    responses: dict[str, Any] = {}
    for answer in op.answers:
        responses[str(answer.status)] = _answer(answer)
    # Protocol and business problems, merged per status.
    descriptions: dict[int, list[str]] = {}
    schemas: dict[int, list[str]] = {}

    def add(status: int, description: str, *names: str) -> None:
        descriptions.setdefault(status, []).append(description)
        for name in names or ("ProblemDetails",):
            if name not in schemas.setdefault(status, []):
                schemas[status].append(name)

    has_shape = _is_model(op.request) or op.query is not None or op.bound_to is not None
    if has_shape:
        add(400, "The request's shape is wrong: STD-00000 lists every failing field with its path.", "ValidationProblem")
    for status, entries in _errors_by_status(op.errors).items():
        add(status, f"errorCode {_error_lines(entries)}", "BusinessProblem")
    for status, description in op.problems:
        add(status, description)
    if function.parameters:
        add(404, "No function serves this path (a path parameter that does not fit its route, e.g. not a GUID).")
    if options.authenticate:
        add(401, "No valid bearer token (no errorCode), or the caller's organisation cannot be determined "
                 "(errorCode 4006: Could not determine caller).", "ProblemDetails", "BusinessProblem")
        add(403, "The token lacks the required scopes.")
    if options.consumes is not None:
        add(415, f"The Content-Type is not {options.consumes}.")
    if op.request is not None:  # a body the operation reads (a GET's body is not part of the contract)
        limit = options.max_body if options.max_body is not None else HOST_MAX_BODY
        add(413, f"The request body is larger than {limit} bytes"
                 + (" (the Functions host's limit)." if options.max_body is None else "."))
    add(500, "An unexpected error (no detail).")
    add(503, "A dependency (storage, key set, resource registry) is unavailable: retry after Retry-After seconds.")
    for status in sorted(descriptions):
        response = _problem(" ".join(descriptions[status]), *schemas[status])
        if status == 503:
            response["headers"] = dict(RETRY_AFTER)
        responses[str(status)] = response
    responses["406"] = {
        "description": f"The Accept header allows no media type this operation produces ({options.produces}); "
        "upstream's behaviour: a plain-text sentence, not a problem.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    if op.links and "200" in responses:
        responses["200"]["links"] = json.loads(json.dumps(op.links))
    return dict(sorted(responses.items()))


# --- operations ----------------------------------------------------------------------------
def _parameters(function: HttpFunction) -> list[dict[str, Any]]:
    found = [
        {"name": name, "in": "path", "required": True,
         "schema": dict(_CONSTRAINT_SCHEMAS.get(constraint.lower(), {"type": "string"}))}
        for name, constraint in function.parameters
    ]
    query = function.operation.query
    if query is not None:
        for name, info in query.model_fields.items():
            parameter: dict[str, Any] = {"name": info.alias or name, "in": "query", "required": info.is_required(),
                                         "schema": {"type": "string"}}
            if info.description:
                parameter["description"] = info.description
            if info.examples:  # Swagger UI's "Try it out" starts from it
                parameter["example"] = info.examples[0]
            found.append(parameter)
    for name, description in function.operation.headers:
        found.append({"name": name, "in": "header", "required": False, "description": description,
                      "schema": {"type": "string"}})
    return found


def _request_body(op: Operation) -> dict[str, Any] | None:
    if op.request is None:
        return None
    if _is_model(op.request):
        media_type, schema = JSON, _ref(op.request.__name__)
    else:
        media_type, schema = op.request
    content: dict[str, Any] = {"schema": schema}
    if op.request_example is not None:
        content["example"] = op.request_example
    return {"required": True, "content": {media_type: content}}


def build_document(root: Path = ROOT) -> dict[str, Any]:
    functions = http_functions(root)
    paths: dict[str, dict[str, Any]] = {}
    for function in functions:
        op = function.operation
        for method in function.methods:
            operation: dict[str, Any] = {
                "operationId": function.name if len(function.methods) == 1 else f"{function.name}_{method}",
                "summary": op.summary,
            }
            if op.description:
                operation["description"] = op.description
            if op.tags:
                operation["tags"] = list(op.tags)
            parameters_ = _parameters(function)
            if parameters_:
                operation["parameters"] = parameters_
            body = _request_body(op)
            if body is not None:
                operation["requestBody"] = body
            if function.auth_level in ("function", "admin"):
                operation["security"] = [{"functionKey": []}]
            elif not function.options.authenticate:
                operation["security"] = []
            operation["responses"] = responses_of(function)
            paths.setdefault(function.path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Altinn Correspondence API (sender side), Azure Functions reimplementation",
            "version": API_VERSION,
            "description": "Generated by `python -m tools.openapi --write` from the function folders, the "
            "operations declared next to their use cases and the application's pydantic models. Property "
            "names are matched case-insensitively and unknown properties are ignored on input; string "
            "lengths count UTF-16 code units. Errors are RFC 9457 problem details; business errors carry "
            "a stable errorCode (docs/behaviour.md).",
        },
        "servers": [{"url": "http://localhost:7071", "description": "make run"}],
        "security": [{"bearerAuth": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An Altinn platform token (scope altinn:correspondence.write) or a "
                    "Maskinporten token (also altinn:serviceowner), RS256.",
                },
                "functionKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-functions-key",
                    "description": "The function key (or the code query parameter), for the webhook "
                    "Event Grid calls. Enforced by the Functions host in Azure, not by the local host.",
                },
            },
            "schemas": component_schemas(functions),
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the OpenAPI document.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"write {DOCUMENT_PATH.relative_to(ROOT)}")
    group.add_argument("--check", action="store_true", help="exit 1 when the committed document is out of date")
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.write:
        DOCUMENT_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {DOCUMENT_PATH.relative_to(ROOT)}")
        return 0
    if args.check:
        current = DOCUMENT_PATH.read_text(encoding="utf-8") if DOCUMENT_PATH.exists() else ""
        if current != text:
            print(f"{DOCUMENT_PATH.relative_to(ROOT)} is out of date: run python -m tools.openapi --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
