"""Direct uploads (valet key): ``upload/url`` + any Azure Storage client + ``upload/complete``."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, ContainerClient

from shared.core.clock import utcnow
from shared.core.statuses import AttachmentStatus
from shared.storage import attachment_store, blocks, clients, direct_upload, upload_quota
from shared.use_cases.expire_attachments import expire_attachments
from tests.support import attachments as att
from tests.support.functions import call

pytestmark = pytest.mark.usefixtures("app_env")

BASE = "http://localhost/correspondence/api/v1/attachment"
OTHER = att.OTHER_ORG
ORG = "991825827"


def _post(issuer, function: str, attachment_id: str, suffix: str, params=None, org=None):
    headers = issuer.authorization(org=org) if org else issuer.authorization()
    return call(function, method="POST", url=f"{BASE}/{attachment_id}/upload/{suffix}", headers=headers,
                route_params={"attachmentId": attachment_id}, params=params or {})


def url_for(issuer, attachment_id: str, size: int, org=None):
    return _post(issuer, "upload_attachment_url", attachment_id, "url", {"size": str(size)}, org)


def complete(issuer, attachment_id: str, org=None):
    return _post(issuer, "upload_attachment_complete", attachment_id, "complete", org=org)


def record(attachment_id: str):
    return attachment_store.read(uuid.UUID(attachment_id))


def stored(attachment_id: str) -> bytes:
    return blocks.blob_client(uuid.UUID(attachment_id)).download_blob().readall()


def reservations() -> dict:
    quota = upload_quota.read(ORG)
    return {} if quota is None else quota.uploads


def started(issuer, data: bytes, **fields) -> tuple[str, str]:
    attachment_id = att.create(issuer, **fields)
    response = url_for(issuer, attachment_id, len(data))
    assert response.status == 200, response.body
    return attachment_id, response.json()["uploadUrl"]


def test_happy_path_publishes_and_downloads_byte_for_byte(token_issuer):
    data = att.pattern(3 * 1024 * 1024 + 17, seed=3)
    attachment_id, url = started(token_issuer, data, checksum=att.md5(data))
    answer = url_for(token_issuer, attachment_id, len(data))  # asking again: a new staging blob
    url = answer.json()["uploadUrl"]
    assert answer.json()["expiresAt"]
    assert "sp=cw" in url.split("?", 1)[1].split("&")
    assert record(attachment_id).status is AttachmentStatus.UploadProcessing
    # Small blocks, so that the SDK stages several in parallel and commits a block list.
    BlobClient.from_blob_url(url, max_single_put_size=1024 * 1024, max_block_size=1024 * 1024).upload_blob(
        data, max_concurrency=4)
    done = complete(token_issuer, attachment_id)
    assert done.status == 200, done.body
    assert done.json()["status"] == "Published" and done.json()["checksum"] == att.md5(data)
    assert record(attachment_id).size == len(data) and record(attachment_id).upload is None
    downloaded = att.download(token_issuer, attachment_id)
    assert downloaded.status == 200 and downloaded.body == data
    assert stored(attachment_id) == data
    staging = ContainerClient.from_connection_string(
        clients.settings.get(clients.settings.CORRESPONDENCE_STORAGE), clients.UPLOADS_CONTAINER)
    assert not [b.name for b in staging.list_blobs(name_starts_with=attachment_id)]
    again = complete(token_issuer, attachment_id)
    assert again.status == 400 and again.json()["errorCode"] == 2005


def test_the_url_writes_its_blob_only_and_cannot_read_list_or_delete(token_issuer):
    data = b"hello direct upload"
    attachment_id, url = started(token_issuer, data)
    blob = BlobClient.from_blob_url(url)
    blob.upload_blob(data)
    with pytest.raises(HttpResponseError) as denied:
        blob.download_blob().readall()
    assert denied.value.status_code == 403
    with pytest.raises(HttpResponseError):
        blob.delete_blob()
    base, sas = url.split("?", 1)
    container_url = base.rsplit("/", 2)[0]
    with pytest.raises(HttpResponseError):
        list(ContainerClient.from_container_url(f"{container_url}?{sas}").list_blobs())
    for other in (f"{container_url}/{attachment_id}/other", base.replace(clients.UPLOADS_CONTAINER, clients.ATTACHMENTS_CONTAINER)):
        with pytest.raises(HttpResponseError) as refused:
            BlobClient.from_blob_url(f"{other}?{sas}").upload_blob(b"x", overwrite=True)
        assert refused.value.status_code == 403
    with pytest.raises(HttpResponseError):
        blob.set_blob_tags({"a": "b"})
    assert complete(token_issuer, attachment_id).status == 200


def test_a_write_after_complete_does_not_change_the_attachment(token_issuer):
    data = att.pattern(100_000, seed=5)
    attachment_id, url = started(token_issuer, data)
    BlobClient.from_blob_url(url).upload_blob(data)
    assert complete(token_issuer, attachment_id).status == 200
    try:
        BlobClient.from_blob_url(url).upload_blob(b"evil", overwrite=True)
    except HttpResponseError:
        pass  # refused is fine too: either way the attachment keeps its bytes
    assert stored(attachment_id) == data
    assert att.download(token_issuer, attachment_id).status == 200


def test_an_expired_url_fails_and_a_new_one_can_be_asked_for(token_issuer):
    data = b"late bytes"
    attachment_id = att.create(token_issuer)
    assert url_for(token_issuer, attachment_id, len(data)).status == 200
    name = record(attachment_id).upload.staging
    now = utcnow()
    expired = direct_upload.upload_url(name, now - timedelta(hours=1), now - timedelta(minutes=1))
    with pytest.raises(HttpResponseError) as refused:
        BlobClient.from_blob_url(expired).upload_blob(data)
    assert refused.value.status_code == 403
    nothing = complete(token_issuer, attachment_id)
    assert nothing.status == 400 and "Nothing was uploaded" in nothing.json()["detail"]
    fresh = url_for(token_issuer, attachment_id, len(data))
    assert fresh.status == 200
    BlobClient.from_blob_url(fresh.json()["uploadUrl"]).upload_blob(data)
    assert complete(token_issuer, attachment_id).json()["status"] == "Published"


def test_another_organisation_gets_4001(token_issuer):
    attachment_id = att.create(token_issuer)
    for response in (url_for(token_issuer, attachment_id, 10, org=OTHER), complete(token_issuer, attachment_id, org=OTHER)):
        assert response.status == 401 and response.json()["errorCode"] == 4001, response.body


def test_unknown_attachment_is_2001_and_a_bad_size_is_400(token_issuer):
    unknown = str(uuid.uuid4())
    assert url_for(token_issuer, unknown, 10).json()["errorCode"] == 2001
    assert complete(token_issuer, unknown).json()["errorCode"] == 2001
    attachment_id = att.create(token_issuer)
    assert _post(token_issuer, "upload_attachment_url", attachment_id, "url").status == 400
    assert url_for(token_issuer, attachment_id, 0).status == 400
    assert record(attachment_id).status is AttachmentStatus.Initialized


def test_complete_before_any_upload_is_a_clear_400(token_issuer):
    attachment_id = att.create(token_issuer)
    never = complete(token_issuer, attachment_id)
    assert never.status == 400 and "upload URL" in never.json()["detail"]
    assert url_for(token_issuer, attachment_id, 5).status == 200
    nothing = complete(token_issuer, attachment_id)
    assert nothing.status == 400 and "Nothing was uploaded" in nothing.json()["detail"]
    assert record(attachment_id).upload.completing is None  # the client may upload and complete later


def test_a_blob_of_another_length_is_400_and_the_upload_stays_open(token_issuer):
    attachment_id, url = started(token_issuer, b"12345")
    BlobClient.from_blob_url(url).upload_blob(b"123456")
    wrong = complete(token_issuer, attachment_id)
    assert wrong.status == 400 and "6 bytes" in wrong.json()["detail"]
    BlobClient.from_blob_url(url).upload_blob(b"12345", overwrite=True)
    assert complete(token_issuer, attachment_id).status == 200


def test_md5_mismatch_is_2008_and_nothing_is_published(token_issuer):
    data = b"the real bytes"
    attachment_id, url = started(token_issuer, data, checksum=att.md5(b"other bytes"))
    BlobClient.from_blob_url(url).upload_blob(data)
    mismatch = complete(token_issuer, attachment_id)
    assert mismatch.status == 400 and mismatch.json()["errorCode"] == 2008
    assert record(attachment_id).status is AttachmentStatus.Failed
    assert not record(attachment_id).has_status(AttachmentStatus.Published)
    assert blocks.committed_blob(uuid.UUID(attachment_id)) is None
    assert attachment_id not in reservations()


def test_the_upload_endpoint_refuses_while_a_direct_upload_is_open(token_issuer):
    attachment_id = att.create(token_issuer)
    assert url_for(token_issuer, attachment_id, 5).status == 200
    assert attachment_id in reservations()
    assert att.upload(token_issuer, attachment_id, b"12345").json()["errorCode"] == 2005


def test_a_direct_upload_never_completed_is_abandoned_and_its_staging_blob_deleted(token_issuer):
    data = b"abandoned"
    attachment_id, url = started(token_issuer, data)
    BlobClient.from_blob_url(url).upload_blob(data)
    state = record(attachment_id).upload
    assert direct_upload.staged_size(state.staging) == len(data)
    assert expire_attachments(now=state.abandonAt + timedelta(seconds=1)).abandoned >= 1
    assert record(attachment_id).status is AttachmentStatus.Failed
    assert direct_upload.staged_size(state.staging) is None
    assert attachment_id not in reservations()
    assert complete(token_issuer, attachment_id).json()["errorCode"] == 2005


def test_purging_an_open_direct_upload_deletes_its_staging_blob_and_releases_the_quota(token_issuer):
    data = b"purged before complete"
    attachment_id, url = started(token_issuer, data)
    BlobClient.from_blob_url(url).upload_blob(data)
    staging = record(attachment_id).upload.staging
    assert att.purge(token_issuer, attachment_id).status == 204
    assert direct_upload.staged_size(staging) is None
    assert attachment_id not in reservations()
    assert complete(token_issuer, attachment_id).json()["errorCode"] in (2005, 2006)
