"""POST /correspondence/api/v1/correspondence/upload against Azurite (behaviour §3.10): the JSON
endpoint's shared rules through form fields, plus the multipart-specific ones."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from urllib3.filepost import encode_multipart_formdata

from shared.storage import attachment_store
from shared.use_cases import publish_correspondence as publishing
from shared.storage import correspondence_store as store
from tests.support import attachments as att
from tests.support import requests
from tests.support import scan_events
from tests.support.functions import call, valid_request
from shared.storage import blocks
from shared.use_cases import initialize_correspondence_upload

pytestmark = pytest.mark.usefixtures("app_env")

URL = "http://localhost/correspondence/api/v1/correspondence/upload"


# --- helpers -------------------------------------------------------------------------------
def form_fields(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A JSON request as form fields named by model path (``propertyList`` as ``[key]``)."""
    if isinstance(value, dict):
        result = []
        for key, item in value.items():
            if prefix.endswith("propertyList"):
                result += form_fields(item, f"{prefix}[{key}]")
            else:
                result += form_fields(item, f"{prefix}.{key}" if prefix else key)
        return result
    if isinstance(value, list):
        return [pair for i, item in enumerate(value) for pair in form_fields(item, f"{prefix}[{i}]")]
    if value is None:
        return []
    if isinstance(value, bool):
        return [(prefix, "true" if value else "false")]
    return [(prefix, str(value))]


def meta(file_name: str, **fields: Any) -> dict[str, Any]:
    return {"fileName": file_name, "sendersReference": "1234", "isEncrypted": False, **fields}


def request_with(files_meta: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    resource = overrides.pop("correspondence__resourceId", None)
    body = valid_request(**overrides)
    if resource is not None:
        body["correspondence"]["resourceId"] = resource
    body["correspondence"]["content"]["attachments"] = files_meta or []
    return body


def encode(fields: list[tuple[str, str]], files: list[tuple[str, bytes]], file_field: str = "attachments"):
    parts: list[tuple[str, Any]] = list(fields)
    parts += [(file_field, (name, data, "application/octet-stream")) for name, data in files]
    return encode_multipart_formdata(parts)


def post(token_issuer, body: bytes, content_type: str | None, **token_args):
    headers = token_issuer.authorization(**token_args)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return call("initialize_correspondence_upload", method="POST", url=URL, raw_body=body, headers=headers)


def upload(token_issuer, request: dict[str, Any] | list[tuple[str, str]], files=(), **token_args):
    fields = request if isinstance(request, list) else form_fields(request)
    body, content_type = encode(fields, list(files))
    return post(token_issuer, body, content_type, **token_args)


def error_code(response) -> int | None:
    return response.json().get("errorCode")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def stored(monkeypatch):
    """Counts attachments created and requests committed (to prove "nothing stored")."""
    counts = {"attachments": 0, "requests": 0}
    create, store_new = initialize_correspondence_upload.create_attachment, store.store_new

    def counting_create(*args, **kwargs):
        counts["attachments"] += 1
        return create(*args, **kwargs)

    def counting_store(*args, **kwargs):
        counts["requests"] += 1
        return store_new(*args, **kwargs)

    monkeypatch.setattr(initialize_correspondence_upload, "create_attachment", counting_create)
    monkeypatch.setattr(store, "store_new", counting_store)
    return counts


# --- success ------------------------------------------------------------------------------
def test_two_files_become_published_attachments_of_every_correspondence(token_issuer) -> None:
    one, two = b"first file\n" * 100, b"%PDF-1.4 second"
    body = request_with([meta("one.txt", displayName="One", checksum=md5(one)), meta("two.pdf", expirationInDays=3)],
                        recipients=["0192:991825827", "07827199405"])
    response = upload(token_issuer, body, [("one.txt", one), ("two.pdf", two)])
    assert response.status == 200, response.body
    result = response.json()
    assert [c["status"] for c in result["correspondences"]] == ["ReadyForPublish"] * 2
    assert [c["recipient"] for c in result["correspondences"]] == [
        "urn:altinn:organization:identifier-no:991825827",
        "urn:altinn:person:identifier-no:07827199405",
    ]
    ids = result["attachmentIds"]
    assert len(ids) == 2
    correspondence_ids = [c["correspondenceId"] for c in result["correspondences"]]
    for attachment_id, (name, data) in zip(ids, [("one.txt", one), ("two.pdf", two)]):
        record = attachment_store.read(uuid.UUID(attachment_id))
        assert record.fileName == name and record.resourceId == "ttd-corr-1"
        assert record.sender == "urn:altinn:organization:identifier-no:991825827"
        assert [e.status for e in record.statusHistory] == ["Initialized", "UploadProcessing", "Published"]
        assert record.checksum == md5(data) and record.size == len(data)
        assert len(record.links) == 1  # one link for the request, whatever its recipients
        assert att.overview(token_issuer, attachment_id).json()["correspondenceIds"] == correspondence_ids
        blob = blocks.blob_client(record.id).download_blob().readall()
        assert blob == data
    assert attachment_store.read(uuid.UUID(ids[0])).displayName == "One"
    assert attachment_store.read(uuid.UUID(ids[1])).expirationInDays == 3
    overview = call(
        "get_correspondence",
        route_params={"correspondenceId": result["correspondences"][0]["correspondenceId"]},
        headers=token_issuer.authorization(),
    ).json()
    assert [a["fileName"] for a in overview["content"]["attachments"]] == ["one.txt", "two.pdf"]


def test_no_files_and_existing_attachments(token_issuer) -> None:
    from tests.support import attachments as att

    existing = att.create(token_issuer, fileName="old.txt")
    assert att.upload(token_issuer, existing, b"old").status == 200
    body = request_with(existingAttachments=[existing])
    response = upload(token_issuer, body)
    assert response.status == 200, response.body
    assert response.json()["attachmentIds"] == [existing]


def test_form_binding_is_case_insensitive_and_converts_strings(token_issuer) -> None:
    data = b"x" * 10
    fields = [
        ("Recipients[1]", "26818099001"),  # out of order and sparse: taken in index order
        ("RECIPIENTS[0]", "07827199405"),
        ("recipients[7]", "0192:991825827"),
        ("Correspondence.ResourceId", "urn:altinn:resource:ttd-corr-1"),
        ("correspondence.SENDERSREFERENCE", "ref"),
        ("correspondence.sender", "ignored"),
        ("correspondence.content.Language", "EN"),
        ("Correspondence.Content.MessageTitle", "title"),
        ("correspondence.content.messageBody", "# body"),
        ("correspondence.content.messageSummary", ""),  # empty -> null
        ("correspondence.content.Attachments[0].FileName", "f.txt"),
        ("correspondence.content.attachments[0].SendersReference", "1234"),
        ("correspondence.content.attachments[0].isEncrypted", "True"),
        ("correspondence.content.attachments[0].expirationInDays", "2"),
        ("correspondence.content.attachments[0].dataLocationType", "ExistingExternalStorage"),
        ("correspondence.isConfirmationNeeded", "FALSE"),
        ("correspondence.dueDateTime", ""),
        ("correspondence.propertyList[Key One]", "v1"),
        ("correspondence.PropertyList[k2]", "v2"),
        ("correspondence.replyOptions[0].LinkUrl", "https://example.com/reply"),
        ("correspondence.replyOptions[0].linkText", "Reply"),
        ("correspondence.externalReferences[0].referenceType", "Generic"),
        ("correspondence.externalReferences[0].referenceValue", "abc"),
        ("correspondence.notification.notificationTemplate", "GenericAltinnMessage"),
        ("correspondence.notification.sendReminder", "true"),
        ("unknown.field", "ignored"),
    ]
    body, content_type = encode(fields, [("f.txt", data)], file_field="Attachments")
    response = post(token_issuer, body, content_type)
    assert response.status == 200, response.body
    result = response.json()
    assert [c["recipient"] for c in result["correspondences"]] == [
        "urn:altinn:person:identifier-no:07827199405",
        "urn:altinn:person:identifier-no:26818099001",
        "urn:altinn:organization:identifier-no:991825827",
    ]
    shared = requests.visible(result["correspondences"][0]["correspondenceId"]).content.correspondence
    assert shared["resourceId"] == "ttd-corr-1" and shared["sendersReference"] == "ref"
    assert shared["content"]["language"] == "EN" and shared["content"]["messageSummary"] is None
    assert shared["propertyList"] == {"Key One": "v1", "k2": "v2"}
    assert shared["replyOptions"] == [{"linkURL": "https://example.com/reply", "linkText": "Reply"}]
    assert shared["notification"]["sendReminder"] is True
    attachment = attachment_store.read(uuid.UUID(result["attachmentIds"][0]))
    assert attachment.isEncrypted is True and attachment.expirationInDays == 2


def test_request_shape_errors_name_the_form_fields(token_issuer) -> None:
    body = request_with()
    fields = [f for f in form_fields(body) if not f[0].startswith("recipients")]
    fields += [("recipients[2]", "0192:991825827"), ("recipients[5]", "not-a-recipient")]
    fields = [f for f in fields if f[0] not in ("correspondence.content.messageTitle", "correspondence.isConfidential")]
    fields += [("correspondence.isConfidential", "yes"), ("correspondence.content.attachments[3].fileName", "a.txt"),
               ("correspondence.content.attachments[3].expirationInDays", "ten")]
    response = upload(token_issuer, fields)
    assert response.status == 400
    problem = response.json()
    assert problem["code"] == "STD-00000" and "errorCode" not in problem
    paths = set(problem["errors"])
    assert {
        "recipients[5]",
        "correspondence.content.messageTitle",
        "correspondence.isConfidential",
        "correspondence.content.attachments[3].sendersReference",
        "correspondence.content.attachments[3].expirationInDays",
    } <= paths, paths
    assert "not-a-recipient" not in response.body.decode()  # no input echoed


def test_malformed_multipart_bodies_are_400(token_issuer) -> None:
    assert post(token_issuer, b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno end", "multipart/form-data; boundary=b").status == 400
    no_boundary = post(token_issuer, b"whatever", "multipart/form-data")
    assert no_boundary.status == 400 and no_boundary.json()["code"] == "STD-00000"
    empty = post(token_issuer, b"", "multipart/form-data; boundary=b")
    assert empty.status == 400


# --- the JSON endpoint's rules, through the form ---------------------------------------------
@pytest.mark.parametrize(
    "overrides, token, status, code",
    [
        ({"recipients": ["0192:991825827", "urn:altinn:organization:identifier-no:991825827"]}, {}, 400, 1006),
        ({"correspondence__content__language": "xx"}, {}, 400, 1023),
        ({"correspondence__replyOptions": [{"linkURL": "http://example.com"}]}, {}, 400, 1035),
        ({"correspondence__resourceId": "does-not-exist"}, {}, 400, 1036),
        ({"correspondence__resourceId": "other-corr-1"}, {}, 401, 4001),
        ({}, {"org": "310000000"}, 401, 4001),
        ({"correspondence__notification": {"notificationChannel": "Email"}}, {}, 400, 3002),
    ],
)
def test_shared_rules(token_issuer, stored, overrides, token, status, code) -> None:
    data = b"content"
    response = upload(token_issuer, request_with([meta("a.txt")], **overrides), [("a.txt", data)], **token)
    assert response.status == status, response.body
    assert error_code(response) == code
    assert stored == {"attachments": 0, "requests": 0}  # nothing stored on any 4xx


def test_idempotent_key_second_request_is_409(token_issuer) -> None:
    key = str(uuid.uuid4())
    first = upload(token_issuer, request_with([meta("a.txt")], idempotentKey=key), [("a.txt", b"1")])
    assert first.status == 200, first.body
    again = upload(token_issuer, request_with([meta("a.txt")], idempotentKey=key), [("a.txt", b"1")])
    assert again.status == 409 and error_code(again) == 1034
    assert again.json()["existingCorrespondenceId"] == first.json()["correspondences"][0]["correspondenceId"]


# --- multipart-specific rules ----------------------------------------------------------------
def _contents_by_id(result: dict[str, Any]) -> list[bytes]:
    return [blocks.blob_client(uuid.UUID(i)).download_blob().readall() for i in result["attachmentIds"]]


def test_files_are_matched_by_name_when_out_of_order(token_issuer) -> None:
    response = upload(token_issuer, request_with([meta("a.txt"), meta("b.txt")]), [("b.txt", b"B"), ("a.txt", b"A")])
    assert response.status == 200, response.body
    assert _contents_by_id(response.json()) == [b"A", b"B"]


def test_duplicate_names_in_the_same_order_match_by_position(token_issuer) -> None:
    response = upload(
        token_issuer,
        request_with([meta("a.txt", sendersReference="first"), meta("a.txt", sendersReference="second"), meta("b.txt")]),
        [("a.txt", b"one"), ("a.txt", b"two"), ("b.txt", b"three")],
    )
    assert response.status == 200, response.body
    result = response.json()
    assert _contents_by_id(result) == [b"one", b"two", b"three"]
    refs = [attachment_store.read(uuid.UUID(i)).sendersReference for i in result["attachmentIds"]]
    assert refs == ["first", "second", "1234"]


@pytest.mark.parametrize(
    "names, files",
    [
        (["a.txt", "b.txt", "a.txt"], ["a.txt", "a.txt", "b.txt"]),  # duplicates out of order: ambiguous
        (["a.txt", "b.txt"], ["a.txt"]),  # fewer files
        (["a.txt"], ["a.txt", "a.txt"]),  # more files
        ([], ["a.txt"]),  # a file without metadata
        (["a.txt"], []),  # metadata without a file
        (["a.txt"], ["A.txt"]),  # names are compared exactly
        (["a.txt", "a.txt"], ["a.txt", "b.txt"]),
    ],
)
def test_files_that_do_not_match_the_metadata_are_1005(token_issuer, stored, names, files) -> None:
    response = upload(token_issuer, request_with([meta(n) for n in names]), [(n, b"x") for n in files])
    assert response.status == 400 and error_code(response) == 1005
    assert stored == {"attachments": 0, "requests": 0}


def test_file_parts_under_other_names_are_not_attachments(token_issuer) -> None:
    body, content_type = encode(form_fields(request_with([meta("a.txt")])), [("a.txt", b"x")], file_field="file")
    assert error_code(post(token_issuer, body, content_type)) == 1005


def test_empty_file_is_2004(token_issuer, stored) -> None:
    response = upload(token_issuer, request_with([meta("a.txt"), meta("b.txt")]), [("a.txt", b"x"), ("b.txt", b"")])
    assert response.status == 400 and error_code(response) == 2004
    assert "2GB" in response.json()["detail"]
    assert stored == {"attachments": 0, "requests": 0}


def test_checksum_mismatch_is_2008_and_stores_nothing(token_issuer, stored) -> None:
    files = [("a.txt", b"right"), ("b.txt", b"wrong")]
    body = request_with([meta("a.txt", checksum=md5(b"right")), meta("b.txt", checksum=md5(b"other"))])
    response = upload(token_issuer, body, files)
    assert response.status == 400 and error_code(response) == 2008
    assert stored == {"attachments": 0, "requests": 0}


def test_upper_case_checksum_is_a_shape_error(token_issuer) -> None:
    response = upload(token_issuer, request_with([meta("a.txt", checksum=md5(b"x").upper())]), [("a.txt", b"x")])
    assert response.status == 400 and "correspondence.content.attachments[0].checksum" in response.json()["errors"]


@pytest.mark.parametrize(
    "name, code",
    [("", 2010), ("   ", 2010), ("a.exe", 2013), ("noextension", 2013), ("a<b.txt", 2012), ("CON.txt", 2021), ("lpt1.pdf", 2021)],
)
def test_file_name_rules(token_issuer, name, code) -> None:
    file_name = name if name.strip() else "x.txt"
    response = upload(token_issuer, request_with([meta(name)]), [(file_name, b"x")])
    assert response.status == 400 and error_code(response) == code, response.body


def test_file_name_rules_come_before_matching_and_expiration_after(token_issuer) -> None:
    # the second entry's bad name wins over the missing file of the first
    assert error_code(upload(token_issuer, request_with([meta("a.txt"), meta("b.exe")]), [])) == 2013
    # matching (step 21) wins over the expiration rule (step 22)
    assert error_code(upload(token_issuer, request_with([meta("a.txt", expirationInDays=0)]), [])) == 1005
    assert error_code(upload(token_issuer, request_with([meta("a.txt", expirationInDays=0)]), [("a.txt", b"x")])) == 2017


def test_rule_order_across_steps(token_issuer) -> None:
    # step 13 (1023) before step 21 (1005)
    body = request_with([meta("a.txt")], correspondence__content__language="xx")
    assert error_code(upload(token_issuer, body, [])) == 1023
    # step 21 (1005) before step 24 (1035)
    body = request_with([meta("a.txt")], correspondence__replyOptions=[{"linkURL": "http://x"}])
    assert error_code(upload(token_issuer, body, [])) == 1005
    # step 26 (notification) before step 27 (2008)
    body = request_with([meta("a.txt", checksum=md5(b"y"))], correspondence__notification={"notificationChannel": "Sms"})
    assert error_code(upload(token_issuer, body, [("a.txt", b"x")])) == 3004


def test_file_name_from_rfc_5987_filename_star(token_issuer) -> None:
    fields = form_fields(request_with([meta("blåbær.txt")]))
    body, content_type = encode(fields, [])
    boundary = content_type.split("boundary=")[1].encode()
    part = (
        b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"fallback.txt\"; "
        b"filename*=UTF-8''bl%C3%A5b%C3%A6r.txt\r\nContent-Type: text/plain\r\n\r\nberries\r\n"
    )
    body = body.replace(b"--" + boundary + b"--", part + b"--" + boundary + b"--")
    response = post(token_issuer, body, content_type)
    assert response.status == 200, response.body
    assert _contents_by_id(response.json()) == [b"berries"]


def test_status_is_initialized_while_a_scan_is_pending(token_issuer, monkeypatch) -> None:
    monkeypatch.setenv("MALWARE_SCAN_MODE", "defender")
    response = upload(token_issuer, request_with([meta("a.txt")]), [("a.txt", b"scan me")])
    assert response.status == 200, response.body
    result = response.json()
    assert [c["status"] for c in result["correspondences"]] == ["Initialized"]
    attachment = attachment_store.read(uuid.UUID(result["attachmentIds"][0]))
    assert attachment.status == "UploadProcessing"
    correspondence_id = result["correspondences"][0]["correspondenceId"]
    assert att.overview(token_issuer, str(attachment.id)).json()["correspondenceIds"] == [correspondence_id]
    assert requests.statuses(correspondence_id) == ["Initialized"]
    message = requests.message_for(correspondence_id)
    assert publishing.publish_correspondence(message) == "waiting"  # for the scan
    scan_events.set_verdict(attachment.id, scan_events.CLEAN)  # Defender's verdict, on the blob
    event = scan_events.scan_event(attachment.id)
    scan = call("malware_scan_result", method="POST", raw_body=json.dumps(event).encode(),
                headers={"Content-Type": "application/json"})
    assert scan.status == 200, scan.body
    assert publishing.publish_correspondence(message) == "done"
    assert requests.statuses(correspondence_id) == ["Initialized", "ReadyForPublish", "Published"]


def test_a_failed_upload_leaves_stored_files_but_no_correspondence(token_issuer, stored, monkeypatch) -> None:
    from azure.core.exceptions import ServiceResponseError

    real = initialize_correspondence_upload.upload_new_file
    uploaded = []

    def flaky(attachment_id, data):
        if bytes(data) == b"second":
            raise ServiceResponseError("injected")
        uploaded.append(attachment_id)
        return real(attachment_id, data)

    monkeypatch.setattr(initialize_correspondence_upload, "upload_new_file", flaky)
    response = upload(token_issuer, request_with([meta("a.txt"), meta("b.txt")]), [("a.txt", b"first"), ("b.txt", b"second")])
    assert response.status == 503
    assert stored["requests"] == 0
    assert [attachment_store.read(i).status for i in uploaded] == ["Published"]


def test_a_failed_commit_leaves_no_correspondence(token_issuer, monkeypatch) -> None:
    from shared.use_cases import initialize_correspondence_upload as multipart_initialize

    def fail(*args, **kwargs):
        raise store.ServiceUnavailable("injected")

    monkeypatch.setattr(multipart_initialize, "commit", fail)
    response = upload(token_issuer, request_with([meta("a.txt")]), [("a.txt", b"x")])
    assert response.status == 503


# --- media types -----------------------------------------------------------------------------
def test_json_body_is_415(token_issuer) -> None:
    response = call("initialize_correspondence_upload", method="POST", url=URL, body=valid_request(),
                    headers=token_issuer.authorization())
    assert response.status == 415
    assert post(token_issuer, b"", None).status == 415  # no Content-Type at all


def test_multipart_body_on_the_json_endpoint_is_415(token_issuer) -> None:
    body, content_type = encode(form_fields(request_with()), [])
    response = call("initialize_correspondence", method="POST", body=None, raw_body=body,
                    headers={**token_issuer.authorization(), "Content-Type": content_type})
    assert response.status == 415


def test_unauthenticated_is_401_before_415(token_issuer) -> None:
    response = call("initialize_correspondence_upload", method="POST", url=URL, raw_body=b"{}",
                    headers={"Content-Type": "application/json"})
    assert response.status == 401



# --- memory ------------------------------------------------------------------------------------
def test_a_50_mb_file_is_not_copied(token_issuer) -> None:
    """Python allocations during the call, beyond the body the host already holds: the file
    is parsed, hashed and staged from slices of the body (werkzeug's ``req.files`` would spool
    it to a temporary file and ``.read()`` it back: a 50 MiB copy)."""
    import tracemalloc

    from tests.support import attachments as att

    upload(token_issuer, request_with([meta("warm.txt")]), [("warm.txt", b"w" * 1_000_000)])  # warm up
    data = att.pattern(50 * 1024 * 1024, seed=3)
    body, content_type = encode(form_fields(request_with([meta("big.zip", checksum=md5(data))])), [("big.zip", data)])
    del data
    tracemalloc.start()
    try:
        response = post(token_issuer, body, content_type)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status == 200, response.body
    print(f"peak Python allocations during a 50 MiB multipart initialize: {peak / 2**20:.1f} MiB")
    assert peak < 8 * 1024 * 1024  # less than one block: no copy of the file, not even of a block
