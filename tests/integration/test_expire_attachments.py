"""Retention (issue #18 row 9): attachments past the expiry of their links become Expired and
lose their file; unfinished uploads are abandoned; an organisation's unfinished uploads are
capped. The job's clock is moved by passing ``now`` (Azurite, real blob index tags)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from azure.core.exceptions import ResourceNotFoundError

from shared.auth.caller import Caller
from shared.core.clock import as_utc, utcnow
from shared.core.decisions import save
from shared.core.statuses import AttachmentStatus
from shared.models.correspondence import parse_initialize_request
from shared.rules import attachment_lifecycle as lifecycle
from shared.rules import attachment_retention as retention
from shared.storage import attachment_store, blocks, upload_quota
from shared.use_cases import expire_attachments as job
from shared.use_cases.expire_attachments import expire_attachments
from shared.use_cases.initialize_correspondence import initialize_correspondence
from tests.support import attachments as att
from tests.support.functions import valid_request

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture(scope="module")
def azurite_connection(private_azurite) -> str:
    """This module's own Azurite: the job acts on every due record, so no other module's."""
    return private_azurite.connection_string

ORG = "991825827"
CALLER = Caller(organization=ORG, issuer="test", scopes=frozenset({"altinn:correspondence.write"}), token_kind="altinn")
BLOCK = 64 * 1024
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_SIZE", BLOCK)


def record(attachment_id) -> object:
    return attachment_store.read(uuid.UUID(str(attachment_id)))


def blob_exists(attachment_id) -> bool:
    return blocks.committed_blob(uuid.UUID(str(attachment_id))) is not None


def staged_blocks(attachment_id) -> int:
    try:
        _, uncommitted = blocks.blob_client(uuid.UUID(str(attachment_id))).get_block_list("uncommitted")
    except ResourceNotFoundError:
        return 0
    return len(uncommitted)


def linked_attachment(token_issuer, days: int = 1) -> uuid.UUID:
    attachment_id = att.create(token_issuer, expirationInDays=days)
    assert att.upload(token_issuer, attachment_id, b"keep me for a day").status == 200
    request = parse_initialize_request(valid_request(existingAttachments=[attachment_id]))
    initialize_correspondence(CALLER, request)
    return uuid.UUID(attachment_id)


@pytest.fixture(autouse=True)
def fresh_quota(app_env):
    """Each test starts with no reservations (the document lives in this module's Azurite)."""
    from shared.storage import clients

    try:
        clients.blob_service().get_blob_client(clients.ATTACHMENT_RECORDS_CONTAINER, f"{upload_quota.PREFIX}{ORG}.json").delete_blob()
    except ResourceNotFoundError:
        pass


def reservations() -> dict:
    quota = upload_quota.read(ORG)
    return {} if quota is None else quota.uploads


# --- expiry (behaviour §7.2 item 2) -------------------------------------------------------------


def test_an_attachment_past_the_expiry_of_its_links_is_expired_and_its_file_deleted(token_issuer) -> None:
    attachment_id = linked_attachment(token_issuer)
    expires = as_utc(record(attachment_id).expiresAt)
    expire_attachments(now=expires - timedelta(minutes=1))
    assert record(attachment_id).status is AttachmentStatus.Published and blob_exists(attachment_id)

    assert expire_attachments(now=expires + timedelta(seconds=1)).expired >= 1
    expired = record(attachment_id)
    assert expired.status is AttachmentStatus.Expired and expired.current().statusText == retention.TEXT_EXPIRED
    assert expired.fileDeletedAt is not None
    assert not blob_exists(attachment_id)
    assert att.download(token_issuer, str(attachment_id)).json()["errorCode"] == 2020
    assert att.purge(token_issuer, str(attachment_id)).json()["errorCode"] == 2018
    # Done: no longer a candidate.
    assert attachment_id not in attachment_store.due("expiresAt", expires + 48 * HOUR, 1000)


def test_a_later_link_moves_the_expiry(token_issuer) -> None:
    attachment_id = linked_attachment(token_issuer, days=1)
    first = as_utc(record(attachment_id).expiresAt)
    request = parse_initialize_request(valid_request(existingAttachments=[str(attachment_id)]))
    initialize_correspondence(CALLER, request, now=utcnow() + 2 * HOUR)  # its link expires later
    assert as_utc(record(attachment_id).expiresAt) > first
    expire_attachments(now=first + timedelta(seconds=1))
    assert record(attachment_id).status is AttachmentStatus.Published


def test_the_job_reads_only_candidates_not_every_record(token_issuer, monkeypatch) -> None:
    """Candidates come from the blob index tags written with each record."""
    due = linked_attachment(token_issuer)
    others = []
    for _ in range(5):
        other = att.create(token_issuer)  # no links: nothing due, ever
        assert att.upload(token_issuer, other, b"x").status == 200
        others.append(uuid.UUID(other))
    reads = []
    real = attachment_store.read_with_etag
    monkeypatch.setattr(attachment_store, "read_with_etag", lambda i: reads.append(i) or real(i))
    expire_attachments(now=as_utc(record(due).expiresAt) + timedelta(seconds=1))
    assert due in reads
    assert not set(others) & set(reads)


def test_a_deletion_that_fails_is_finished_by_the_next_run(token_issuer, monkeypatch) -> None:
    attachment_id = linked_attachment(token_issuer)
    later = as_utc(record(attachment_id).expiresAt) + timedelta(seconds=1)
    real = blocks.delete_blob_background

    def broken(_attachment_id):
        raise RuntimeError("injected")

    monkeypatch.setattr(blocks, "delete_blob_background", broken)
    assert expire_attachments(now=later).failed == 1
    assert record(attachment_id).status is AttachmentStatus.Expired and blob_exists(attachment_id)
    monkeypatch.setattr(blocks, "delete_blob_background", real)
    expire_attachments(now=later)
    assert not blob_exists(attachment_id) and record(attachment_id).fileDeletedAt is not None


# --- abandoned uploads -------------------------------------------------------------------------


def test_an_unfinished_chunked_upload_is_abandoned_after_the_timeout(token_issuer) -> None:
    """Row 9: one chunk declaring 50 GB -> 202, UploadProcessing forever (and its staged
    blocks kept). Now Failed after ATTACHMENT_UPLOAD_TIMEOUT_HOURS (24), blocks discarded,
    its quota released."""
    attachment_id = att.create(token_issuer)
    total = lifecycle.MAX_FILE_SIZE
    response = att.upload_chunk(token_issuer, attachment_id, att.pattern(BLOCK), 0, total)
    assert response.status == 202, response.body
    assert staged_blocks(attachment_id) == 1 and reservations()[attachment_id].bytes == total

    started = as_utc(record(attachment_id).upload.started)
    expire_attachments(now=started + 23 * HOUR)
    assert record(attachment_id).status is AttachmentStatus.UploadProcessing

    assert expire_attachments(now=started + 24 * HOUR + timedelta(seconds=1)).abandoned >= 1
    abandoned = record(attachment_id)
    assert abandoned.status is AttachmentStatus.Failed and abandoned.upload is None
    assert abandoned.current().statusText == retention.TEXT_UPLOAD_ABANDONED
    assert staged_blocks(attachment_id) == 0
    assert attachment_id not in reservations()
    late = att.upload_chunk(token_issuer, attachment_id, att.pattern(BLOCK), BLOCK, total)
    assert late.status == 400 and late.json()["errorCode"] == 2005


def test_the_timeout_is_a_setting(token_issuer, monkeypatch) -> None:
    monkeypatch.setenv("ATTACHMENT_UPLOAD_TIMEOUT_HOURS", "2")
    attachment_id = att.create(token_issuer)
    assert att.upload_chunk(token_issuer, attachment_id, att.pattern(BLOCK), 0, 2 * BLOCK).status == 202
    started = as_utc(record(attachment_id).upload.started)
    expire_attachments(now=started + 2 * HOUR + timedelta(seconds=1))
    assert record(attachment_id).status is AttachmentStatus.Failed


def test_a_single_request_upload_that_died_is_abandoned(token_issuer) -> None:
    attachment_id = uuid.UUID(att.create(token_issuer))
    attachment_store.update(attachment_id, lifecycle.start_single_upload)  # its process then died
    blocks.blob_client(attachment_id).stage_block(blocks.block_id(0), b"partial")
    started = as_utc(record(attachment_id).upload.started)
    expire_attachments(now=started + timedelta(minutes=11))
    assert record(attachment_id).status is AttachmentStatus.Failed
    assert record(attachment_id).current().statusText == lifecycle.TEXT_UPLOAD_INTERRUPTED
    assert staged_blocks(attachment_id) == 0


def test_a_finished_upload_is_never_abandoned(token_issuer) -> None:
    attachment_id = att.create(token_issuer)
    data = att.pattern(2 * BLOCK, seed=3)
    assert att.upload_chunk(token_issuer, attachment_id, data[:BLOCK], 0, len(data)).status == 202
    assert att.upload_chunk(token_issuer, attachment_id, data[BLOCK:], BLOCK, len(data)).status == 200
    assert attachment_id not in reservations()
    expire_attachments(now=utcnow() + 48 * HOUR)
    assert record(attachment_id).status is AttachmentStatus.Published


# --- the quota of bytes in unfinished uploads ----------------------------------------------------


def test_unfinished_uploads_are_capped_per_organisation(token_issuer, monkeypatch) -> None:
    monkeypatch.setenv("ATTACHMENT_UPLOAD_QUOTA_BYTES", str(10 * BLOCK))
    first, second, huge = att.create(token_issuer), att.create(token_issuer), att.create(token_issuer)
    data = att.pattern(6 * BLOCK, seed=9)
    assert att.upload_chunk(token_issuer, first, data[:BLOCK], 0, len(data)).status == 202
    refused = att.upload_chunk(token_issuer, second, data[:BLOCK], 0, len(data))
    assert refused.status == 429 and refused.headers["Retry-After"]
    assert "unfinished" in refused.json()["detail"]
    assert record(second).status is AttachmentStatus.Initialized  # nothing recorded
    never = att.upload_chunk(token_issuer, huge, att.pattern(BLOCK), 0, 11 * BLOCK)
    assert never.status == 413, never.body
    # Another organisation has its own quota.
    theirs = att.create(token_issuer, org=att.OTHER_ORG, resourceId=att.OTHER_ORG_RESOURCE)
    assert att.upload_chunk(token_issuer, theirs, data[:BLOCK], 0, len(data), org=att.OTHER_ORG).status == 202
    # Finishing the first upload gives its bytes back.
    for start in range(BLOCK, len(data), BLOCK):
        response = att.upload_chunk(token_issuer, first, data[start:start + BLOCK], start, len(data))
    assert response.status == 200, response.body
    assert att.upload_chunk(token_issuer, second, data[:BLOCK], 0, len(data)).status == 202


def test_parallel_chunk_starts_cannot_exceed_the_cap(token_issuer, monkeypatch) -> None:
    """One quota document per organisation, written with its ETag: exact under contention."""
    monkeypatch.setenv("ATTACHMENT_UPLOAD_QUOTA_BYTES", str(10 * BLOCK))
    ids = [att.create(token_issuer) for _ in range(8)]
    statuses: list[int] = []
    barrier = threading.Barrier(len(ids))

    def start(attachment_id: str) -> None:
        barrier.wait()
        statuses.append(att.upload_chunk(token_issuer, attachment_id, att.pattern(BLOCK), 0, 3 * BLOCK).status)

    threads = [threading.Thread(target=start, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] * 3 + [429] * 5
    assert sum(r.bytes for r in reservations().values()) == 9 * BLOCK


def test_purging_an_unfinished_upload_releases_its_quota(token_issuer) -> None:
    attachment_id = att.create(token_issuer)
    assert att.upload_chunk(token_issuer, attachment_id, att.pattern(BLOCK), 0, 3 * BLOCK).status == 202
    assert attachment_id in reservations()
    assert att.purge(token_issuer, attachment_id).status == 204
    assert attachment_id not in reservations()


def test_a_lost_release_does_not_hold_quota_forever(token_issuer, monkeypatch) -> None:
    monkeypatch.setenv("ATTACHMENT_UPLOAD_QUOTA_BYTES", str(4 * BLOCK))
    stuck = att.create(token_issuer)
    assert att.upload_chunk(token_issuer, stuck, att.pattern(BLOCK), 0, 3 * BLOCK).status == 202
    # Its reservation outlives its upload (say the release failed); once it is older than the
    # upload timeout, the next reservation drops it.
    def age(quota):
        quota.uploads[stuck].started = quota.uploads[stuck].started - 26 * HOUR
        return save()

    upload_quota.update(ORG, age)
    fresh = att.create(token_issuer)
    assert att.upload_chunk(token_issuer, fresh, att.pattern(BLOCK), 0, 3 * BLOCK).status == 202
    assert stuck not in reservations()


def test_job_limits_its_work_per_run(token_issuer, monkeypatch) -> None:
    monkeypatch.setattr(job, "MAX_PER_RUN", 1)
    first, second = linked_attachment(token_issuer), linked_attachment(token_issuer)
    later = max(as_utc(record(first).expiresAt), as_utc(record(second).expiresAt)) + timedelta(seconds=1)
    expire_attachments(now=later)
    assert sorted([record(first).status, record(second).status]) == sorted([AttachmentStatus.Expired, AttachmentStatus.Published])
    expire_attachments(now=later)
    assert {record(first).status, record(second).status} == {AttachmentStatus.Expired}
