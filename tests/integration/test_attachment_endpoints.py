"""Overview, details, purge and download of attachments against Azurite (behaviour §6.4-§6.8)."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from shared.storage import attachment_store
from tests.support import attachments as att
from shared.core.decisions import save
from shared.core.statuses import AttachmentStatus
from shared.storage import blocks
from shared.use_cases import download_attachment

pytestmark = pytest.mark.usefixtures("app_env")


def published(issuer, data: bytes = b"file content", **fields) -> str:
    attachment_id = att.create(issuer, **fields)
    assert att.upload(issuer, attachment_id, data).status == 200
    return attachment_id


# --- overview / details ---------------------------------------------------------------------
def test_overview_fields(token_issuer):
    attachment_id = att.create(token_issuer, fileName="scan.JPEG", displayName=None, expirationInDays=20, isEncrypted=True)
    response = att.overview(token_issuer, attachment_id)
    assert response.status == 200
    body = response.json()
    assert list(body) == [
        "attachmentId", "resourceId", "sender", "fileName", "displayName", "isEncrypted", "checksum",
        "sendersReference", "expirationInDays", "status", "statusText", "statusChanged",
        "correspondenceIds", "dataType",
    ]
    assert body["attachmentId"] == attachment_id
    assert body["resourceId"] == "ttd-corr-1"
    assert body["sender"] == "urn:altinn:organization:identifier-no:991825827"
    assert body["fileName"] == "scan.JPEG" and body["displayName"] is None
    assert body["isEncrypted"] is False  # quirk Q11
    assert body["checksum"] == ""
    assert body["sendersReference"] == "ref-1" and body["expirationInDays"] == 20
    assert body["status"] == "Initialized" and body["statusText"] == "Initialized"
    datetime.fromisoformat(body["statusChanged"])
    assert body["correspondenceIds"] == []
    assert body["dataType"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_overview_lists_linked_correspondences(token_issuer):
    attachment_id = published(token_issuer)
    request = att.link(uuid.UUID(attachment_id), count=2)
    expected = [str(c) for c in att.correspondence_ids(request)]
    assert att.overview(token_issuer, attachment_id).json()["correspondenceIds"] == expected


def test_details_add_status_history_and_fall_back_to_file_name(token_issuer):
    attachment_id = published(token_issuer, displayName=None)
    body = att.details(token_issuer, attachment_id).json()
    assert body["displayName"] == "report.pdf"
    assert [e["status"] for e in body["statusHistory"]] == ["Initialized", "UploadProcessing", "Published"]
    assert body["status"] == "Published"
    assert set(body["statusHistory"][0]) == {"status", "statusText", "statusChanged"}


@pytest.mark.parametrize("reader", [att.overview, att.details])
def test_unknown_is_2001(token_issuer, reader):
    response = reader(token_issuer, str(uuid.uuid4()))
    assert response.status == 404 and response.json()["errorCode"] == 2001


# --- purge ----------------------------------------------------------------------------------
def test_purge_records_purged_and_deletes_the_blob(token_issuer):
    from azure.core.exceptions import ResourceNotFoundError

    attachment_id = published(token_issuer)
    response = att.purge(token_issuer, attachment_id)
    assert response.status == 204 and response.body == b""
    body = att.overview(token_issuer, attachment_id).json()
    assert body["status"] == "Purged"
    with pytest.raises(ResourceNotFoundError):
        blocks.blob_client(uuid.UUID(attachment_id)).get_blob_properties()


def test_purge_of_an_initialized_attachment(token_issuer):
    attachment_id = att.create(token_issuer)
    assert att.purge(token_issuer, attachment_id).status == 204


def test_purge_rules(token_issuer):
    assert att.purge(token_issuer, str(uuid.uuid4())).json()["errorCode"] == 2001
    attachment_id = published(token_issuer)
    att.purge(token_issuer, attachment_id)
    response = att.purge(token_issuer, attachment_id)
    assert response.status == 400 and response.json()["errorCode"] == 2006

    expired = published(token_issuer)
    attachment_store.update(uuid.UUID(expired), lambda r: r.add_status(AttachmentStatus.Expired) or save())
    assert att.purge(token_issuer, expired).json()["errorCode"] == 2018

    linked = published(token_issuer)
    att.link(uuid.UUID(linked))
    response = att.purge(token_issuer, linked)
    assert response.status == 400 and response.json()["errorCode"] == 2007
    # order: 2006 before 2018 before 2007
    both = published(token_issuer)
    att.link(uuid.UUID(both))
    attachment_store.update(uuid.UUID(both), lambda r: r.add_status(AttachmentStatus.Expired) or save())
    assert att.purge(token_issuer, both).json()["errorCode"] == 2018


def test_purge_racing_with_a_link(token_issuer, monkeypatch):
    """The link lands between purge's check and its write: the purge's ETag write fails, it
    re-reads, and answers 2007; the attachment is never both purged and linked."""
    attachment_id = published(token_issuer)
    real = attachment_store.read_with_etag
    linked = []

    def read_then_link(aid):
        found = real(aid)
        if not linked and found is not None:
            linked.append(aid)  # first, so the link's own read does not link again
            att.link(aid)  # lands after this read
        return found

    monkeypatch.setattr(attachment_store, "read_with_etag", read_then_link)
    response = att.purge(token_issuer, attachment_id)
    assert response.json()["errorCode"] == 2007
    record = real(uuid.UUID(attachment_id))[0]
    assert not record.has_status(AttachmentStatus.Purged) and record.is_linked()


# --- download -------------------------------------------------------------------------------
def test_download_returns_the_bytes(token_issuer):
    data = att.pattern(200_000, seed=3)
    attachment_id = published(token_issuer, data)
    response = att.download(token_issuer, attachment_id)
    assert response.status == 200 and response.body == data
    assert response.raw.mimetype == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_download_in_parts_with_range(token_issuer):
    data = att.pattern(10_000, seed=4)
    attachment_id = published(token_issuer, data)
    part = att.download(token_issuer, attachment_id, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and part.body == data[100:200]
    assert part.headers["Content-Range"] == "bytes 100-199/10000"
    tail = att.download(token_issuer, attachment_id, headers={"Range": "bytes=-10"})
    assert tail.body == data[-10:]
    bad = att.download(token_issuer, attachment_id, headers={"Range": "bytes=10000-"})
    assert bad.status == 416 and bad.headers["Content-Range"] == "bytes */10000"


def test_large_download_needs_a_range(token_issuer, monkeypatch):
    monkeypatch.setattr(download_attachment, "MAX_DOWNLOAD_BYTES", 1000)
    data = att.pattern(5000, seed=5)
    attachment_id = published(token_issuer, data)
    assert att.download(token_issuer, attachment_id).status == 400
    part = att.download(token_issuer, attachment_id, headers={"Range": "bytes=0-"})
    assert part.status == 206 and part.body == data[:1000]
    assert part.headers["Content-Range"] == "bytes 0-999/5000"


def test_download_rules(token_issuer):
    assert att.download(token_issuer, str(uuid.uuid4())).json()["errorCode"] == 2001
    never_uploaded = att.create(token_issuer)
    assert att.download(token_issuer, never_uploaded).json()["errorCode"] == 2001

    purged = published(token_issuer)
    att.purge(token_issuer, purged)
    response = att.download(token_issuer, purged)
    assert response.status == 400 and response.json()["errorCode"] == 2019

    expired = published(token_issuer)
    attachment_store.update(uuid.UUID(expired), lambda r: r.add_status(AttachmentStatus.Expired) or save())
    assert att.download(token_issuer, expired).json()["errorCode"] == 2020


def test_download_refused_once_a_linked_correspondence_was_published(token_issuer):
    from datetime import datetime, timedelta, timezone

    from shared.storage import correspondence_store, publish_queue
    from shared.use_cases.publish_correspondence import publish_correspondence
    from tests.support.functions import call, valid_request

    attachment_id = published(token_issuer, b"secret")
    later = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    body = valid_request(existingAttachments=[attachment_id])
    body["correspondence"]["requestedPublishTime"] = later
    created = call("initialize_correspondence", method="POST", body=body, headers=token_issuer.authorization())
    assert created.status == 200, created.body
    assert att.download(token_issuer, attachment_id).body == b"secret"  # linked, not published yet
    found = correspondence_store.read_visible(uuid.UUID(created.json()["correspondences"][0]["correspondenceId"]))
    message = publish_queue.PublishMessage.for_request(found.state).model_dump_json().encode()
    assert publish_correspondence(message, now=datetime.now(timezone.utc) + timedelta(days=2)) == "done"
    response = att.download(token_issuer, attachment_id)
    assert response.status == 400 and response.json()["errorCode"] == 2016


def test_download_gates(token_issuer):
    attachment_id = published(token_issuer)
    response = att.download(token_issuer, attachment_id, headers={"Accept": "application/json"})
    assert response.status == 406
    assert att.download(token_issuer, attachment_id, headers={"Accept": "*/*"}).status == 200
