"""The OpenAPI 3.1 document of the API, generated from the application's own pydantic models.

    python -m tools.openapi            print the document
    python -m tools.openapi --write    write shared/api/openapi.json (committed; served by the
                                       openapi_document function at
                                       GET /correspondence/api/v1/openapi.json)
    python -m tools.openapi --check    exit 1 when shared/api/openapi.json is out of date

Paths and methods come from the function folders (``*/function.json`` HTTP triggers, with
``host.json``'s route prefix), so every endpoint is in the document: a function this module has
no description for still gets an operation (its path parameters, the bearer scheme, the
problem responses and a ``default`` response). Request bodies are the models that validate the
requests (``shared.correspondence_models``, ``shared.attachments``); the response models below
describe the JSON the services build; the problem-details schemas describe
``shared.errors`` (business problem: ``errorCode``/``code``/``traceId``; validation problem:
``validationErrors``/``errors``). ``tests/unit/test_openapi.py`` keeps the file up to date and
``tests/e2e/test_fuzz.py`` checks the running app against it (schemathesis).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT_PATH = ROOT / "shared" / "api" / "openapi.json"
API_VERSION = "1.0"

JSON = "application/json"
PROBLEM = "application/problem+json"
OCTET = "application/octet-stream"


# --- models of what the services answer (they build dicts; these describe them) -------------
class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow")


class StatusEvent(_Doc):
    status: str
    statusText: Optional[str] = None
    statusChanged: str = Field(json_schema_extra={"format": "date-time"})


class AttachmentOverview(_Doc):
    """An attachment's metadata and current status (``GET /attachment/{id}``, upload's 200)."""

    attachmentId: str = Field(json_schema_extra={"format": "uuid"})
    resourceId: str
    sender: str
    fileName: Optional[str] = None
    displayName: Optional[str] = None
    isEncrypted: bool
    checksum: Optional[str] = None
    sendersReference: str
    expirationInDays: Optional[int] = None
    status: str = Field(description="Initialized, UploadProcessing, Published, Purged, Failed, Expired")
    statusText: Optional[str] = None
    statusChanged: str = Field(json_schema_extra={"format": "date-time"})
    correspondenceIds: list[str]
    dataType: str


class AttachmentDetails(AttachmentOverview):
    statusHistory: list[StatusEvent]


class UploadRange(_Doc):
    start: int
    end: int = Field(description="inclusive")


class UploadProgress(_Doc):
    """A chunked upload in progress (202): what has arrived so far."""

    attachmentId: str = Field(json_schema_extra={"format": "uuid"})
    status: str
    size: int
    received: int
    ranges: list[UploadRange]
    blockSize: int
    complete: bool


class CorrespondenceAttachmentOverview(_Doc):
    id: str = Field(json_schema_extra={"format": "uuid"})
    fileName: Optional[str] = None
    displayName: Optional[str] = None
    isEncrypted: bool
    checksum: Optional[str] = None
    sendersReference: str
    dataType: str
    dataLocationType: str
    created: str = Field(json_schema_extra={"format": "date-time"})
    status: Optional[str] = None
    statusText: Optional[str] = None
    statusChanged: Optional[str] = None


class CorrespondenceContentOverview(_Doc):
    messageTitle: Optional[str] = None
    messageSummary: Optional[str] = None
    messageBody: Optional[str] = None
    language: Optional[str] = None
    attachments: list[CorrespondenceAttachmentOverview]


class CorrespondenceOverview(_Doc):
    """The sender's view of one correspondence (upstream ``CorrespondenceOverviewExt``): the
    accepted ``correspondence`` object of the request plus these fields."""

    correspondenceId: str = Field(json_schema_extra={"format": "uuid"})
    resourceId: str
    sender: str
    sendersReference: str
    recipient: str
    content: CorrespondenceContentOverview
    created: str = Field(json_schema_extra={"format": "date-time"})
    requestedPublishTime: Optional[str] = None
    dueDateTime: Optional[str] = None
    status: str
    statusText: Optional[str] = None
    statusChanged: str = Field(json_schema_extra={"format": "date-time"})
    published: Optional[str] = None
    markedUnread: Optional[bool] = None
    notifications: list[dict[str, Any]]


class CorrespondenceDetails(CorrespondenceOverview):
    statusHistory: list[StatusEvent]


class HealthStatus(_Doc):
    status: str


class EventGridEvent(_Doc):
    """An Event Grid event (Event Grid schema; ``type`` of CloudEvents is accepted as well)."""

    eventType: Optional[str] = None
    data: dict[str, Any]


# --- problem details (shared/api/problems.py) ------------------------------------------------------
TRACE_ID_PATTERN = "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


class ProblemDetails(_Doc):
    """RFC 9457 problem details (protocol-level problems: 401, 403, 404, 405, 413, 415, 503...)."""

    type: str
    title: str
    status: int = Field(ge=100, le=599)
    detail: Optional[str] = None
    traceId: Optional[str] = None


class BusinessProblem(ProblemDetails):
    """A business error from the catalog: ``errorCode`` is the stable key to test on."""

    detail: str
    code: str = Field(pattern=r"^CORR-\d{5}$")
    errorCode: int
    traceId: str = Field(pattern=TRACE_ID_PATTERN)
    statusDescription: str


class ValidationError(_Doc):
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


def _request_models() -> list[tuple[type[BaseModel], str]]:
    from shared.models.attachment import InitializeAttachmentRequest
    from shared.models.correspondence import InitializeCorrespondencesRequest
    from shared.models.responses import InitializeCorrespondencesResponse

    return [
        (InitializeCorrespondencesRequest, "validation"),
        (InitializeAttachmentRequest, "validation"),
        (InitializeCorrespondencesResponse, "serialization"),
    ]


_DOC_MODELS: list[type[BaseModel]] = [
    AttachmentOverview, AttachmentDetails, UploadProgress, CorrespondenceOverview,
    CorrespondenceDetails, HealthStatus, EventGridEvent, ProblemDetails, BusinessProblem, ValidationProblem,
]


def _strip_titles(node: Any) -> Any:
    """Drop pydantic's generated titles ("Resourceid") but keep property names called title."""
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


def component_schemas() -> dict[str, Any]:
    models = _request_models() + [(model, "serialization") for model in _DOC_MODELS]
    _, top = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas = _strip_titles(top.get("$defs", {}))
    # Problem bodies always carry the members of the base shape; the doc models allow more.
    return dict(sorted(schemas.items()))


# --- operations --------------------------------------------------------------------------------
def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str, *schemas: str) -> dict[str, Any]:
    names = schemas or ("ProblemDetails",)
    schema = _ref(names[0]) if len(names) == 1 else {"anyOf": [_ref(n) for n in names]}
    return {"description": description, "content": {PROBLEM: {"schema": schema}}}


def _json(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}

# Responses every authenticated JSON operation can give (the wrapper in shared/api/http.py).
COMMON_RESPONSES: dict[str, dict[str, Any]] = {
    "401": _problem(
        "No valid bearer token (problem without errorCode), or the caller may not act for the "
        "resource's owner (errorCode 4001, 4006).",
        "BusinessProblem", "ProblemDetails",
    ),
    "403": _problem("The token lacks the required scopes."),
    "406": {
        "description": "The Accept header allows no media type this operation produces "
        "(upstream's behaviour: a plain-text sentence, not a problem).",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    "500": _problem("An unexpected error (no detail), or a failed dependency with errorCode 1032.", "BusinessProblem", "ProblemDetails"),
    "503": {**_problem("A dependency (storage, key set, resource registry) is unavailable: retry."), "headers": RETRY_AFTER},
}
BODY_RESPONSES: dict[str, dict[str, Any]] = {
    "400": _problem("A business rule failed (errorCode) or the request's shape is wrong (STD-00000).", "BusinessProblem", "ValidationProblem", "ProblemDetails"),
    "413": _problem("The request body is larger than the operation accepts."),
    "415": _problem("The Content-Type is not the one this operation consumes."),
}


@dataclass
class Operation:
    summary: str
    responses: dict[str, dict[str, Any]]
    request_body: dict[str, Any] | None = None
    parameters: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    tags: list[str] = field(default_factory=list)
    authenticated: bool = True
    has_body: bool = False
    links: dict[str, dict[str, Any]] = field(default_factory=dict)


ATTACHMENT_LINKS = {
    name: {"operationId": operation_id, "parameters": {"attachmentId": "$response.body"}}
    for name, operation_id in (
        ("GetAttachment", "get_attachment"),
        ("GetAttachmentDetails", "get_attachment_details"),
        ("UploadAttachment", "upload_attachment"),
        ("DownloadAttachment", "download_attachment"),
        ("PurgeAttachment", "purge_attachment"),
    )
}
CORRESPONDENCE_LINKS = {
    name: {"operationId": operation_id, "parameters": {"correspondenceId": "$response.body#/correspondences/0/correspondenceId"}}
    for name, operation_id in (
        ("GetCorrespondence", "get_correspondence"),
        ("GetCorrespondenceDetails", "get_correspondence_details"),
    )
}
INITIALIZE_EXAMPLE = {
    "correspondence": {
        "resourceId": "ttd-corr-1",
        "sendersReference": "fuzz-1",
        "content": {"language": "nb", "messageTitle": "Title", "messageBody": "Body"},
    },
    "recipients": ["26818099001"],
}
ATTACHMENT_EXAMPLE = {
    "resourceId": "ttd-corr-1",
    "fileName": "letter.pdf",
    "sendersReference": "fuzz-attachment-1",
    "expirationInDays": 14,
}

OPERATIONS: dict[str, Operation] = {
    "initialize_correspondence": Operation(
        summary="Initialize one correspondence per recipient (JSON; existing attachments only)",
        tags=["Correspondence"],
        has_body=True,
        request_body={
            "required": True,
            "content": {JSON: {"schema": _ref("InitializeCorrespondencesRequest"), "example": INITIALIZE_EXAMPLE}},
        },
        responses={
            "200": _json("Stored and queued for publishing.", _ref("InitializeCorrespondencesResponse")),
            "404": _problem("A recipient, dialog or notification template was not found (1029, 1054, 3001).", "BusinessProblem"),
            "409": _problem("A correspondence with this idempotentKey exists (1034).", "BusinessProblem"),
            "422": _problem("The recipient has reserved themselves (1030).", "BusinessProblem"),
        },
        links=CORRESPONDENCE_LINKS,
    ),
    "get_correspondence": Operation(
        summary="Get a correspondence (sender's overview)",
        tags=["Correspondence"],
        responses={
            "200": _json("The correspondence.", _ref("CorrespondenceOverview")),
            "404": _problem("Not found (1001).", "BusinessProblem", "ProblemDetails"),
        },
    ),
    "get_correspondence_details": Operation(
        summary="Get a correspondence with its status history",
        tags=["Correspondence"],
        responses={
            "200": _json("The correspondence and its status history.", _ref("CorrespondenceDetails")),
            "404": _problem("Not found (1001).", "BusinessProblem", "ProblemDetails"),
        },
    ),
    "initialize_attachment": Operation(
        summary="Initialize an attachment (metadata); upload its file next",
        tags=["Attachment"],
        has_body=True,
        request_body={
            "required": True,
            "content": {JSON: {"schema": _ref("InitializeAttachmentRequest"), "example": ATTACHMENT_EXAMPLE}},
        },
        responses={"200": _json("The new attachment's id.", {"type": "string", "format": "uuid"})},
        links=ATTACHMENT_LINKS,
    ),
    "get_attachment": Operation(
        summary="Get an attachment's overview",
        tags=["Attachment"],
        responses={
            "200": _json("The attachment.", _ref("AttachmentOverview")),
            "404": _problem("Not found (2001).", "BusinessProblem", "ProblemDetails"),
        },
    ),
    "get_attachment_details": Operation(
        summary="Get an attachment with its status history",
        tags=["Attachment"],
        responses={
            "200": _json("The attachment and its status history.", _ref("AttachmentDetails")),
            "404": _problem("Not found (2001).", "BusinessProblem", "ProblemDetails"),
        },
    ),
    "upload_attachment": Operation(
        summary="Upload an attachment's file: whole, or in chunks with Content-Range",
        description="The local host and Azure cap one request body at 100 MB; larger files go in "
        "chunks (docs/attachments.md). A client that sends the body too slowly gets 408 with "
        "errorCode 2022.",
        tags=["Attachment"],
        parameters=[
            {
                "name": "Content-Range",
                "in": "header",
                "required": False,
                "description": "bytes start-end/total for one chunk, or bytes */total to ask for progress.",
                "schema": {"type": "string"},
            }
        ],
        request_body={"required": True, "content": {OCTET: {"schema": {"type": "string", "format": "binary"}}}},
        responses={
            "200": _json("Uploaded: the attachment's overview.", _ref("AttachmentOverview")),
            "202": _json("A chunked upload in progress.", _ref("UploadProgress")),
            "400": _problem("A business rule failed (errorCode), or the chunk does not fit its Content-Range.", "BusinessProblem", "ProblemDetails"),
            "404": _problem("Not found (2001).", "BusinessProblem", "ProblemDetails"),
            "408": _problem("The body arrived too slowly (2022).", "BusinessProblem"),
            "413": _problem("The request body is larger than the host accepts (100 MB): send chunks."),
            "415": _problem("The Content-Type is not application/octet-stream."),
            "416": _problem("The Content-Range does not fit this upload."),
            "502": _problem("The file could not be stored (2002).", "BusinessProblem"),
        },
    ),
    "download_attachment": Operation(
        summary="Download an attachment's file (whole, or a byte range)",
        tags=["Attachment"],
        parameters=[
            {"name": "Range", "in": "header", "required": False, "description": "bytes=start-end", "schema": {"type": "string"}}
        ],
        responses={
            "200": {"description": "The file.", "content": {OCTET: {"schema": {"type": "string", "format": "binary"}}}},
            "206": {
                "description": "A part of the file.",
                "headers": {"Content-Range": {"schema": {"type": "string"}}},
                "content": {OCTET: {"schema": {"type": "string", "format": "binary"}}},
            },
            "400": _problem("Purged, expired, attached to a published correspondence (2019, 2020, 2016), or too large without a Range.", "BusinessProblem", "ProblemDetails"),
            "404": _problem("Not found (2001).", "BusinessProblem", "ProblemDetails"),
            "416": _problem("The range is not satisfiable."),
        },
    ),
    "purge_attachment": Operation(
        summary="Purge an attachment (its file and, unless linked, the attachment)",
        tags=["Attachment"],
        responses={
            "204": {"description": "Purged."},
            "400": _problem("Purged already, expired, or linked to a correspondence (2006, 2018, 2007).", "BusinessProblem", "ProblemDetails"),
            "404": _problem("Not found (2001).", "BusinessProblem", "ProblemDetails"),
        },
    ),
    "health": Operation(
        summary="Health: the application's storage answers",
        tags=["Operations"],
        authenticated=False,
        responses={"200": _json("Healthy.", _ref("HealthStatus"))},
    ),
    "malware_scan_result": Operation(
        summary="Malware-scan results (Event Grid webhook; function key, not a bearer token)",
        description="Microsoft Defender for Storage results delivered by Event Grid: the "
        "subscription-validation handshake, or a scan result for an attachment's blob. The "
        "function key authenticates (authLevel function; the local host does not enforce keys).",
        tags=["Operations"],
        authenticated=False,
        has_body=True,
        request_body={
            "required": True,
            "content": {
                JSON: {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/EventGridEvent"},
                            {"type": "array", "items": {"$ref": "#/components/schemas/EventGridEvent"}},
                        ]
                    },
                    "example": [
                        {
                            "id": "1",
                            "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                            "subject": "",
                            "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"},
                            "eventTime": "2024-01-01T00:00:00Z",
                            "dataVersion": "1",
                        }
                    ],
                }
            },
        },
        responses={
            "200": {
                "description": "Applied; for the validation handshake, the validation response.",
                "content": {JSON: {"schema": {"type": "object", "properties": {"validationResponse": {"type": "string"}}}}},
            },
            "400": _problem("Not an event this webhook handles.", "ProblemDetails"),
            "404": _problem("The attachment named by the blob URI was not found (2001).", "BusinessProblem"),
            "413": _problem("The request body is larger than 1 MiB."),
        },
    ),
    "openapi_document": Operation(
        summary="This OpenAPI document",
        tags=["Operations"],
        authenticated=False,
        responses={"200": _json("The OpenAPI 3.1 document.", {"type": "object"})},
    ),
}


# --- discovery ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpFunction:
    name: str
    path: str  # OpenAPI path template, e.g. /correspondence/api/v1/attachment/{attachmentId}
    methods: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...]  # (name, constraint) of the route's parameters
    auth_level: str = "anonymous"


_ROUTE_PARAM = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z0-9_]+)(?:\([^)]*\))?)?\??\}")


def discover(root: Path = ROOT) -> list[HttpFunction]:
    """Every HTTP-triggered function folder, as the host would route it."""
    prefix = "api"
    host_json = root / "host.json"
    if host_json.exists():
        prefix = json.loads(host_json.read_text(encoding="utf-8")).get("extensions", {}).get("http", {}).get("routePrefix", "api")
    found = []
    for function_json in sorted(root.glob("*/function.json")):
        bindings = json.loads(function_json.read_text(encoding="utf-8")).get("bindings", [])
        trigger = next((b for b in bindings if b.get("type") == "httpTrigger"), None)
        if trigger is None:
            continue
        name = function_json.parent.name
        route = (trigger.get("route") or name).strip("/")
        if prefix:
            route = f"{prefix.strip('/')}/{route}"
        params = tuple((m.group(1), m.group(2) or "") for m in _ROUTE_PARAM.finditer(route))
        path = "/" + _ROUTE_PARAM.sub(lambda m: "{" + m.group(1) + "}", route)
        methods = tuple(sorted(m.lower() for m in (trigger.get("methods") or ["get", "post", "put", "delete", "patch"])))
        found.append(HttpFunction(name, path, methods, params, str(trigger.get("authLevel") or "function").lower()))
    return found


_CONSTRAINT_SCHEMAS = {
    "guid": {"type": "string", "format": "uuid"},
    "int": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    "bool": {"type": "boolean"},
}


def _path_parameters(function: HttpFunction) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": dict(_CONSTRAINT_SCHEMAS.get(constraint.lower(), {"type": "string"}))}
        for name, constraint in function.parameters
    ]


def _generic_operation(function: HttpFunction, method: str) -> Operation:
    """A function this module does not describe yet: still documented, loosely."""
    return Operation(
        summary=function.name.replace("_", " ").capitalize(),
        description="Described from its function.json only; see the API reference for the body.",
        has_body=method in ("post", "put", "patch"),
        responses={
            "400": BODY_RESPONSES["400"],
            "404": _problem("Not found.", "BusinessProblem", "ProblemDetails"),
            "default": {"description": "See the API reference."},
        },
    )


def build_document(root: Path = ROOT) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for function in discover(root):
        for method in function.methods:
            spec = OPERATIONS.get(function.name) or _generic_operation(function, method)
            responses: dict[str, Any] = {}
            if spec.authenticated:
                responses.update(copy.deepcopy(COMMON_RESPONSES))
                if spec.has_body:
                    responses.update(copy.deepcopy(BODY_RESPONSES))
            else:
                responses["406"] = copy.deepcopy(COMMON_RESPONSES["406"])
                responses["500"] = copy.deepcopy(COMMON_RESPONSES["500"])
                responses["503"] = copy.deepcopy(COMMON_RESPONSES["503"])
            responses.update(copy.deepcopy(spec.responses))
            if spec.links:
                for status in ("200",):
                    if status in responses:
                        responses[status]["links"] = copy.deepcopy(spec.links)
            operation: dict[str, Any] = {
                "operationId": function.name if len(function.methods) == 1 else f"{function.name}_{method}",
                "summary": spec.summary,
            }
            if spec.description:
                operation["description"] = spec.description
            if spec.tags:
                operation["tags"] = list(spec.tags)
            parameters = _path_parameters(function) + copy.deepcopy(spec.parameters)
            if parameters:
                operation["parameters"] = parameters
            if spec.request_body is not None:
                operation["requestBody"] = copy.deepcopy(spec.request_body)
            if function.auth_level in ("function", "admin"):
                operation["security"] = [{"functionKey": []}]
            elif not spec.authenticated:
                operation["security"] = []
            operation["responses"] = dict(sorted(responses.items()))
            paths.setdefault(function.path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Altinn Correspondence API (sender side), Azure Functions reimplementation",
            "version": API_VERSION,
            "description": "Generated by `python -m tools.openapi --write` from the function folders "
            "and the application's pydantic models. Property names are matched case-insensitively "
            "and unknown properties are ignored on input; string lengths count UTF-16 code units. "
            "Errors are RFC 9457 problem details (see docs/reliability-and-security.md).",
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
            "schemas": component_schemas(),
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
    sys.path.insert(0, str(ROOT))
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
