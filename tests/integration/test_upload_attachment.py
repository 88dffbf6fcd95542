"""POST /correspondence/api/v1/attachment/{id}/upload, one request (behaviour §6.3)."""

from __future__ import annotations

import threading
import uuid

import pytest

from shared.storage import attachment_store
from shared.use_cases import upload_attachment as attachments
from tests.support import attachments as att
from shared.core.decisions import save
from shared.core.statuses import AttachmentStatus
from shared.storage import blocks

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_SIZE", 64 * 1024)


def stored_bytes(attachment_id: str) -> bytes:
    return blocks.blob_client(uuid.UUID(attachment_id)).download_blob().readall()


def test_upload_publishes_without_scanner_and_returns_the_overview(token_issuer):
    attachment_id = att.create(token_issuer)
    data = att.pattern(300_000)  # several 64 KiB blocks, the last one short
    response = att.upload(token_issuer, attachment_id, data)
    assert response.status == 200, response.body
    body = response.json()
    assert body["attachmentId"] == attachment_id
    assert body["status"] == "Published"
    assert "no malware scanner" in body["statusText"]
    assert body["checksum"] == att.md5(data)  # computed and stored when none was declared
    assert body["dataType"] == "application/pdf"
    assert stored_bytes(attachment_id) == data
    record = attachment_store.read(uuid.UUID(attachment_id))
    assert record.size == len(data) and record.upload is None
    assert [e.status for e in record.statusHistory] == ["Initialized", "UploadProcessing", "Published"]


def test_without_content_type_is_accepted_and_other_types_are_415(token_issuer):
    attachment_id = att.create(token_issuer)
    assert att.upload(token_issuer, attachment_id, b"hello", content_type=None).status == 200
    other = att.create(token_issuer)
    assert att.upload(token_issuer, other, b"hello", content_type="application/json").status == 415


def test_declared_checksum_matching_case_insensitively(token_issuer):
    data = b"some file content"
    attachment_id = att.create(token_issuer, checksum=att.md5(data))
    response = att.upload(token_issuer, attachment_id, data)
    assert response.status == 200 and response.json()["checksum"] == att.md5(data)


def test_checksum_mismatch_fails_deletes_the_blob_and_blocks_a_retry(token_issuer):
    attachment_id = att.create(token_issuer, checksum="0" * 32)
    response = att.upload(token_issuer, attachment_id, b"content")
    assert response.status == 400 and response.json()["errorCode"] == 2008
    record = attachment_store.read(uuid.UUID(attachment_id))
    assert record.status == "Failed"
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError):
        stored_bytes(attachment_id)
    # quirk Q14: once UploadProcessing was recorded, no further upload is accepted
    assert att.upload(token_issuer, attachment_id, b"content").json()["errorCode"] == 2005


def test_defender_mode_leaves_upload_processing_until_the_scan_result(token_issuer, monkeypatch):
    monkeypatch.setenv("MALWARE_SCAN_MODE", "defender")
    attachment_id = att.create(token_issuer)
    body = att.upload(token_issuer, attachment_id, b"scan me").json()
    assert body["status"] == "UploadProcessing"
    record = att.apply_scan_result(uuid.UUID(attachment_id), True, "Published")
    assert record.status == "Published"


def test_unknown_attachment_is_2001(token_issuer):
    response = att.upload(token_issuer, str(uuid.uuid4()), b"x")
    assert response.status == 404 and response.json()["errorCode"] == 2001


def test_other_organisation_cannot_upload(token_issuer):
    attachment_id = att.create(token_issuer)
    response = att.upload(token_issuer, attachment_id, b"x", org=att.OTHER_ORG)
    assert response.status == 401 and response.json()["errorCode"] == 4001
    record = attachment_store.read(uuid.UUID(attachment_id))
    assert record.status == "Initialized"


@pytest.mark.parametrize("length", ["0", "50000000001", "junk"])
def test_content_length_outside_1_to_50gb_is_2004(token_issuer, length):
    attachment_id = att.create(token_issuer)
    response = att.upload(token_issuer, attachment_id, b"x", headers={"Content-Length": length})
    assert response.status == 400 and response.json()["errorCode"] == 2004
    assert "50GB" in response.json()["detail"]


def test_empty_body_is_2004(token_issuer):
    attachment_id = att.create(token_issuer)
    assert att.upload(token_issuer, attachment_id, b"").json()["errorCode"] == 2004


def test_second_upload_is_2005(token_issuer):
    attachment_id = att.create(token_issuer)
    assert att.upload(token_issuer, attachment_id, b"one").status == 200
    response = att.upload(token_issuer, attachment_id, b"two")
    assert response.status == 400 and response.json()["errorCode"] == 2005
    assert stored_bytes(attachment_id) == b"one"


def test_linked_attachment_is_2003_and_2005_comes_first(token_issuer):
    attachment_id = att.create(token_issuer)
    att.upload(token_issuer, attachment_id, b"one")
    att.link(uuid.UUID(attachment_id), [uuid.uuid4()])
    assert att.upload(token_issuer, attachment_id, b"two").json()["errorCode"] == 2005
    # 2003 alone: a record linked without an upload (only reachable by crafting the record)
    fresh = att.create(token_issuer)

    def link(record):
        record.correspondenceIds.append(uuid.uuid4())
        return save()

    attachment_store.update(uuid.UUID(fresh), link)
    response = att.upload(token_issuer, fresh, b"x")
    assert response.status == 400 and response.json()["errorCode"] == 2003


def test_rule_order_2001_4001_2004_2005(token_issuer):
    attachment_id = att.create(token_issuer)
    att.upload(token_issuer, attachment_id, b"one")
    bad = {"Content-Length": "0"}
    assert att.upload(token_issuer, str(uuid.uuid4()), b"x", org=att.OTHER_ORG, headers=bad).json()["errorCode"] == 2001
    assert att.upload(token_issuer, attachment_id, b"x", org=att.OTHER_ORG, headers=bad).json()["errorCode"] == 4001
    assert att.upload(token_issuer, attachment_id, b"x", headers=bad).json()["errorCode"] == 2004
    assert att.upload(token_issuer, attachment_id, b"x").json()["errorCode"] == 2005


def test_purged_attachment_cannot_be_uploaded(token_issuer):
    attachment_id = att.create(token_issuer)
    assert att.purge(token_issuer, attachment_id).status == 204
    response = att.upload(token_issuer, attachment_id, b"x")
    assert response.status == 400 and response.json()["errorCode"] == 2006


def test_concurrent_uploads_one_wins(token_issuer):
    attachment_id = att.create(token_issuer)
    results = []

    def go(payload: bytes) -> None:
        results.append(att.upload(token_issuer, attachment_id, payload))

    threads = [threading.Thread(target=go, args=(att.pattern(200_000, seed),)) for seed in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert statuses == [200, 400, 400]
    assert all(r.json()["errorCode"] == 2005 for r in results if r.status == 400)
    winner = next(r for r in results if r.status == 200).json()
    assert att.md5(stored_bytes(attachment_id)) == winner["checksum"]


def test_storage_error_while_staging_is_2002_and_failed(token_issuer, monkeypatch):
    from azure.core.exceptions import ServiceRequestError

    attachment_id = att.create(token_issuer)

    def broken(*args, **kwargs):
        raise ServiceRequestError("connection reset")

    monkeypatch.setattr(blocks, "stage_blocks", broken)
    response = att.upload(token_issuer, attachment_id, b"x" * 10)
    assert response.status == 502 and response.json()["errorCode"] == 2002
    record = attachment_store.read(uuid.UUID(attachment_id))
    assert record.status == "Failed"


def test_overview_error_wins_over_the_upload_error(token_issuer, monkeypatch):
    """Quirk Q13: the overview is fetched after the attempt; its 4001 beats the upload's 2008."""
    attachment_id = att.create(token_issuer, checksum="0" * 32)
    from shared.use_cases import attachment_access as access

    real = access.ensure_owner
    calls = []

    def flaky(caller, sender, **kwargs):
        calls.append(1)
        if len(calls) > 1:  # the access check of the overview after the upload
            raise access.errors.NO_ACCESS_TO_RESOURCE.error()
        return real(caller, sender, **kwargs)

    monkeypatch.setattr(access, "ensure_owner", flaky)
    response = att.upload(token_issuer, attachment_id, b"content")
    assert response.status == 401 and response.json()["errorCode"] == 4001


def test_bodies_beyond_the_json_cap_are_accepted_with_the_default_grid(token_issuer, monkeypatch):
    """The upload endpoint has no 2 MiB JSON cap (the host's 100 MB applies); 8 MiB blocks."""
    monkeypatch.setattr(blocks, "BLOCK_SIZE", 8 * 1024 * 1024)
    data = att.pattern(9 * 1024 * 1024 + 5, seed=21)
    attachment_id = att.create(token_issuer, checksum=att.md5(data))
    response = att.upload(token_issuer, attachment_id, data)
    assert response.status == 200, response.body
    committed = blocks.blob_client(uuid.UUID(attachment_id)).get_block_list("committed")[0]
    assert [b.size for b in committed] == [8 * 1024 * 1024, 1024 * 1024 + 5]
    assert stored_bytes(attachment_id) == data


def test_single_upload_interrupted_long_ago_is_shown_as_failed(app_env, token_issuer) -> None:
    """A process that died mid-upload leaves UploadProcessing; once no request can still be
    running, the next reader sees Failed (and a new upload is still refused, as upstream)."""
    from datetime import timedelta

    from shared.core.clock import utcnow
    from shared.core.documents import UploadState
    from shared.storage import attachment_store
    from shared.use_cases.get_attachment import get_attachment

    attachment_id = _initialize_for_interruption(token_issuer)

    def died_mid_upload(record):
        record.add_status(AttachmentStatus.UploadProcessing)
        record.upload = UploadState(mode="single", started=utcnow() - timedelta(minutes=11))
        return save()

    attachment_store.update(attachment_id, died_mid_upload)
    view = get_attachment(_caller(token_issuer), attachment_id)
    assert view.status == "Failed"
    assert "interrupted" in view.status_text


def _initialize_for_interruption(token_issuer):
    import uuid as _uuid

    from tests.support.functions import call

    response = call(
        "initialize_attachment",
        method="POST",
        body={"resourceId": "ttd-corr-1", "fileName": "a.pdf", "sendersReference": "r"},
        headers=token_issuer.authorization(),
    )
    assert response.status == 200, response.body
    return _uuid.UUID(response.json())


def _caller(token_issuer):
    from shared.auth import tokens as auth

    return auth.authenticate(token_issuer.authorization()["Authorization"])
