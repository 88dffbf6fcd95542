"""POST /correspondence/api/v1/attachment against Azurite (behaviour §6.2)."""

from __future__ import annotations

import uuid

import pytest

from shared.storage import attachment_store
from tests.support import attachments as att

pytestmark = pytest.mark.usefixtures("app_env")


def test_initialize_returns_the_new_id_as_a_json_string_and_stores_initialized(token_issuer):
    response = att.initialize(token_issuer, checksum="0123456789abcdef0123456789abcdef", expirationInDays=30)
    assert response.status == 200
    assert response.raw.mimetype == "application/json"
    attachment_id = uuid.UUID(response.json())
    record = attachment_store.read(attachment_id)
    assert record is not None
    assert record.sender == "urn:altinn:organization:identifier-no:991825827"
    assert record.resourceId == "ttd-corr-1"
    assert record.status == "Initialized"
    assert record.statusHistory[0].statusText == "Initialized"
    assert record.dataType == "application/pdf"
    assert record.expirationInDays == 30


def test_urn_prefixed_resource_id_and_ignored_sender_and_case_insensitive_names(token_issuer):
    body = {
        "ResourceId": "urn:altinn:resource:ttd-generic-1",
        "Sender": "urn:altinn:organization:identifier-no:310000000",
        "FILENAME": "data.CSV",
        "sendersreference": "x",
    }
    response = att.initialize(token_issuer, body=body)
    assert response.status == 200, response.body
    record = attachment_store.read(uuid.UUID(response.json()))
    assert record.resourceId == "ttd-generic-1"
    assert record.sender.endswith(":991825827")
    assert record.dataType == "text/csv"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"resourceId": "does-not-exist"}, 400, 1036),
        ({"resourceId": "no-owner-1"}, 400, 1036),
        ({"resourceId": att.OTHER_ORG_RESOURCE}, 401, 4001),
        ({"resourceId": "ttd-broker-1"}, 400, 4009),
        ({"resourceId": "ttd-app-1"}, 400, 4009),
        ({"fileName": ""}, 400, 2010),
        ({"fileName": "   "}, 400, 2010),
        ({"fileName": None}, 400, 2010),
        ({"fileName": "a.exe"}, 400, 2013),
        ({"fileName": "a//b"}, 400, 2013),
        ({"fileName": "a<b.txt"}, 400, 2012),
        ({"fileName": "CON.txt"}, 400, 2021),
        ({"fileName": "lpt1.pdf"}, 400, 2021),
        ({"expirationInDays": 0}, 400, 2017),
        ({"expirationInDays": -3}, 400, 2017),
    ],
)
def test_business_rules(token_issuer, fields, status, code):
    response = att.initialize(token_issuer, **fields)
    assert response.status == status, response.body
    assert response.json()["errorCode"] == code


def test_2013_and_4001_details_say_what_is_wrong(token_issuer):
    """Upstream's codes and statuses, with details that help (README, Differences)."""
    refused = att.initialize(token_issuer, fileName="report.exe").json()
    assert (refused["status"], refused["errorCode"]) == (400, 2013)
    assert "'.exe'" in refused["detail"] and ".pdf" in refused["detail"] and "docs/attachments.md" in refused["detail"]
    foreign = att.initialize(token_issuer, resourceId=att.OTHER_ORG_RESOURCE).json()
    assert (foreign["status"], foreign["errorCode"]) == (401, 4001)
    assert "does not own" in foreign["detail"] and "Altinn token" not in foreign["detail"]


def test_rule_order_registry_before_access_before_type_before_file_name(token_issuer):
    # every rule fails: the registry's 1036 wins; then access; then type; then the name
    assert att.initialize(token_issuer, resourceId="nope", fileName="CON.exe", expirationInDays=0).json()["errorCode"] == 1036
    assert att.initialize(token_issuer, resourceId=att.OTHER_ORG_RESOURCE, fileName="a.exe").json()["errorCode"] == 4001
    assert att.initialize(token_issuer, resourceId="ttd-broker-1", fileName="a.exe").json()["errorCode"] == 4009
    assert att.initialize(token_issuer, fileName="a.exe", expirationInDays=0).json()["errorCode"] == 2013


def test_minimum_expiration_is_configurable_and_14_in_production(token_issuer, monkeypatch):
    monkeypatch.setenv("AZURE_FUNCTIONS_ENVIRONMENT", "Production")
    response = att.initialize(token_issuer, expirationInDays=13)
    assert response.json()["errorCode"] == 2017
    assert "14" in response.json()["detail"]
    assert att.initialize(token_issuer, expirationInDays=14).status == 200
    monkeypatch.setenv("ATTACHMENT_MIN_EXPIRATION_DAYS", "3")
    assert att.initialize(token_issuer, expirationInDays=2).json()["errorCode"] == 2017
    assert att.initialize(token_issuer, expirationInDays=3).status == 200


@pytest.mark.parametrize(
    "fields",
    [
        {"checksum": "ABCDEF0123456789ABCDEF0123456789"},  # upper case
        {"checksum": "abc"},  # not 32
        {"sendersReference": ""},
        {"sendersReference": ...},  # missing
        {"fileName": "a" * 256 + ".pdf"},  # > 255: 400-VAL before 2011
        {"displayName": "d" * 256},
        {"resourceId": ...},
        {"isEncrypted": "yes"},
    ],
)
def test_request_shape_errors_are_400_validation(token_issuer, fields):
    response = att.initialize(token_issuer, **fields)
    assert response.status == 400, response.body
    body = response.json()
    assert body["code"] == "STD-00000" and "errorCode" not in body


def test_gates(token_issuer):
    from tests.support.functions import call

    assert call("initialize_attachment", method="POST", url=att.BASE, body=att.attachment_body()).status == 401
    response = call(
        "initialize_attachment",
        method="POST",
        url=att.BASE,
        raw_body=b"{}",
        headers={**token_issuer.authorization(), "Content-Type": "text/plain"},
    )
    assert response.status == 415
    read_only = token_issuer.authorization(scopes="altinn:correspondence.read")
    assert call("initialize_attachment", method="POST", url=att.BASE, body=att.attachment_body(), headers=read_only).status == 403


def test_a_resource_id_with_surrounding_whitespace_is_stored_and_shown_stripped(token_issuer):
    """Issue #18 row 5, for attachments: validated, looked up, stored and shown the same."""
    attachment_id = att.create(token_issuer, resourceId="  urn:altinn:resource:ttd-corr-1\t")
    assert attachment_store.read(uuid.UUID(attachment_id)).resourceId == "ttd-corr-1"
    assert att.overview(token_issuer, attachment_id).json()["resourceId"] == "ttd-corr-1"


@pytest.mark.parametrize(
    ("resource_id", "says"),
    [(".", "'.' or '..'"), ("..", "'.' or '..'"), ("urn:altinn:resource:..", "'.' or '..'"), ("a/../b", "may contain only")],
)
def test_path_steps_are_refused_as_resource_ids_before_any_lookup(token_issuer, monkeypatch, resource_id, says):
    """Issue #18 row 4: '..' reached the registry as /resource/..; now 400 naming the rule."""
    from shared.integrations import resource_registry

    looked_up = []
    monkeypatch.setattr(resource_registry, "_file_lookup", lambda *a: looked_up.append(a))
    response = att.initialize(token_issuer, resourceId=resource_id)
    assert response.status == 400 and response.json()["code"] == "STD-00000"
    assert says in str(response.json()["validationErrors"])
    assert looked_up == []
