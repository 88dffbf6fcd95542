"""The committed OpenAPI document: up to date, complete, and true to the error contract."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.api import problems
from shared.core import errors
from tools import openapi

DOCUMENT = json.loads(openapi.DOCUMENT_PATH.read_text(encoding="utf-8"))


def test_committed_document_is_up_to_date() -> None:
    current = openapi.DOCUMENT_PATH.read_text(encoding="utf-8")
    assert current == openapi.render(openapi.build_document()), (
        "shared/api/openapi.json is out of date: run `python -m tools.openapi --write` and commit it"
    )


def test_every_http_function_is_an_operation() -> None:
    functions = openapi.http_functions()
    assert len(functions) >= 11
    for function in functions:
        assert function.path in DOCUMENT["paths"], function.name
        for method in function.methods:
            operation = DOCUMENT["paths"][function.path][method]
            assert operation["responses"], function.name
            for name, _ in function.parameters:
                assert any(p["in"] == "path" and p["name"] == name for p in operation["parameters"]), (function.name, name)


def test_document_is_openapi_3_1_with_bearer_security() -> None:
    assert DOCUMENT["openapi"] == "3.1.0"
    assert DOCUMENT["components"]["securitySchemes"]["bearerAuth"] == {
        **DOCUMENT["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    assert DOCUMENT["security"] == [{"bearerAuth": []}]
    anonymous = {
        path for path, methods in DOCUMENT["paths"].items() for op in methods.values() if op.get("security") == []
    }
    assert anonymous == {"/health", "/correspondence/api/v1/openapi.json"}


def test_schemathesis_loads_every_operation() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    operations = [result.ok() for result in schema.get_all_operations()]
    count = sum(len(methods) for methods in DOCUMENT["paths"].values())
    assert len(operations) == count


def _validator(name: str):
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
    return jsonschema_rs.validator_for(schema)


def test_problem_schemas_describe_what_errors_py_renders() -> None:
    trace = problems.new_trace_id()
    business = problems.business_problem(errors.ATTACHMENT_NOT_FOUND.error(), trace)
    validation = problems.validation_problem(
        errors.RequestValidationError([errors.FieldError("$.recipients", "Recipients can not be empty")]), trace
    )
    protocol = problems.http_problem(413, trace, "The request body is larger than 2097152 bytes.")
    timeout = problems.business_problem(errors.UPLOAD_TIMED_OUT.error(), trace)
    assert _validator("BusinessProblem").is_valid(business)
    assert _validator("BusinessProblem").is_valid(timeout)
    assert _validator("ValidationProblem").is_valid(validation)
    assert _validator("ProblemDetails").is_valid(protocol)
    assert not _validator("BusinessProblem").is_valid(protocol)  # no errorCode
    assert not _validator("ValidationProblem").is_valid(business)


def test_request_examples_are_valid_requests() -> None:
    from shared.models.attachment import InitializeAttachmentRequest
    from shared.models.binding import validate_model
    from shared.models.correspondence import parse_initialize_request
    from shared.use_cases import initialize_attachment, initialize_correspondence

    parse_initialize_request(initialize_correspondence.OPERATION.request_example)
    validate_model(InitializeAttachmentRequest, initialize_attachment.OPERATION.request_example)
    body = DOCUMENT["paths"]["/correspondence/api/v1/correspondence"]["post"]["requestBody"]["content"]["application/json"]
    assert _validator("InitializeCorrespondencesRequest").is_valid(body["example"])


def test_every_request_body_and_required_query_parameter_has_an_example() -> None:
    """Swagger UI's "Try it out" (GET /swagger) starts from these; a file's bytes have none."""
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                if media_type != "application/octet-stream":
                    assert "example" in content, (path, method, media_type)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["required"]:
                    assert "example" in parameter, (path, method, parameter["name"])


def test_swagger_ui_is_a_page_not_an_operation() -> None:
    assert "swagger_ui" not in {function.name for function in openapi.http_functions()}
    assert not any(path.startswith("/swagger") for path in DOCUMENT["paths"])


def test_request_schema_carries_the_limits() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    request = schemas["InitializeCorrespondencesRequest"]["properties"]
    assert request["recipients"]["maxItems"] == 500
    assert request["recipients"]["minItems"] == 1
    assert request["existingAttachments"]["maxItems"] == 1000
    assert schemas["BaseCorrespondence"]["properties"]["replyOptions"]["maxItems"] == 100
    assert schemas["CorrespondenceContent"]["properties"]["messageBody"]["maxLength"] == 30_000
    notification = schemas["Notification-Input"]["properties"]
    custom = notification["customRecipients"]["anyOf"][0]
    assert custom["maxItems"] == 100
    assert notification["customNotificationRecipients"]["anyOf"][0]["maxItems"] == 100


def test_response_examples_conform() -> None:
    overview = {
        "correspondences": [
            {"correspondenceId": str(uuid.uuid4()), "status": "Initialized", "recipient": "urn:altinn:person:identifier-no:26818099001", "notifications": None}
        ],
        "attachmentIds": [],
    }
    assert _validator("InitializeCorrespondencesResponse").is_valid(overview)


def test_every_business_error_a_use_case_raises_is_declared() -> None:
    """The declaration next to each use case lists the catalog entries the module raises itself
    (``errors.X.error()`` in its source), so the document cannot silently miss one."""
    import ast
    import importlib
    import inspect

    for function in openapi.http_functions():
        module = importlib.import_module(f"shared.use_cases.{function.name}")
        raised = set()
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "error"
                    and isinstance(node.func.value, ast.Attribute) and isinstance(node.func.value.value, ast.Name)
                    and node.func.value.value.id == "errors"):
                raised.add(getattr(errors, node.func.value.attr))
        declared = set(function.operation.errors)
        assert raised <= declared, (function.name, sorted(e.error_code for e in raised - declared))


def test_business_errors_are_listed_with_their_code_under_their_status() -> None:
    upload = DOCUMENT["paths"]["/correspondence/api/v1/attachment/{attachmentId}/upload"]["post"]["responses"]
    assert "2008: Checksum mismatch" in upload["400"]["description"]
    assert "2002:" in upload["502"]["description"]
    assert "2001:" in upload["404"]["description"]
    initialize = DOCUMENT["paths"]["/correspondence/api/v1/correspondence"]["post"]["responses"]
    assert "1034:" in initialize["409"]["description"] and "STD-00000" in initialize["400"]["description"]


def test_response_models_refuse_fields_they_do_not_declare() -> None:
    from pydantic import ValidationError

    from shared.models.responses import HealthStatus

    with pytest.raises(ValidationError):
        HealthStatus(status="Healthy", extra="x")
    assert DOCUMENT["components"]["schemas"]["AttachmentOverview"]["additionalProperties"] is False
