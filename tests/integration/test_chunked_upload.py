"""Chunked, resumable upload on the upload endpoint (Content-Range; docs/attachments.md)."""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import timedelta

import pytest

from shared.storage import attachment_store
from shared.use_cases import upload_attachment as attachments
from tests.support import attachments as att
from shared.core.decisions import save
from shared.storage import blocks, md5_state
from shared.rules import attachment_lifecycle

pytestmark = pytest.mark.usefixtures("app_env")

BLOCK = 64 * 1024
TOTAL = 5 * BLOCK + 1234  # five full blocks and a short one


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK_SIZE", BLOCK)


@pytest.fixture(params=["incremental", "read-back"])
def md5_mode(request, monkeypatch):
    if request.param == "incremental":
        pytest.importorskip("rehashes")
    else:
        monkeypatch.setattr(md5_state, "INCREMENTAL_MD5", False)
    return request.param


def stored(attachment_id: str) -> bytes:
    return blocks.blob_client(uuid.UUID(attachment_id)).download_blob().readall()


def record_of(attachment_id: str):
    return attachment_store.read(uuid.UUID(attachment_id))


def send(issuer, attachment_id, data, start, end, **kwargs):
    return att.upload_chunk(issuer, attachment_id, data[start:end], start, len(data), **kwargs)


def test_in_order_chunks_complete_with_the_md5_of_the_whole_file(token_issuer, md5_mode):
    data = att.pattern(TOTAL, seed=7)
    attachment_id = att.create(token_issuer, checksum=att.md5(data))
    first = send(token_issuer, attachment_id, data, 0, 2 * BLOCK)
    assert first.status == 202, first.body
    progress = first.json()
    assert progress == {
        "attachmentId": attachment_id,
        "status": "UploadProcessing",
        "size": TOTAL,
        "received": 2 * BLOCK,
        "ranges": [{"start": 0, "end": 2 * BLOCK - 1}],
        "blockSize": BLOCK,
        "complete": False,
    }
    assert send(token_issuer, attachment_id, data, 2 * BLOCK, 4 * BLOCK).status == 202
    state = record_of(attachment_id).upload
    if md5_mode == "incremental":
        assert state.hashedTo == 4 * BLOCK and state.md5Impl.startswith("rehashes")
    else:
        assert state.hashedTo == 0 and state.md5State is None
    last = send(token_issuer, attachment_id, data, 4 * BLOCK, TOTAL)
    assert last.status == 200, last.body
    assert last.json()["status"] == "Published" and last.json()["checksum"] == att.md5(data)
    assert stored(attachment_id) == data
    record = record_of(attachment_id)
    assert record.size == TOTAL and record.upload is None


def test_out_of_order_chunks_hash_the_rest_at_completion(token_issuer, md5_mode):
    data = att.pattern(TOTAL, seed=8)
    attachment_id = att.create(token_issuer)
    assert send(token_issuer, attachment_id, data, 4 * BLOCK, TOTAL).status == 202
    assert send(token_issuer, attachment_id, data, 2 * BLOCK, 4 * BLOCK).status == 202
    progress = send(token_issuer, attachment_id, data, 0, BLOCK).json()
    assert progress["ranges"] == [{"start": 0, "end": BLOCK - 1}, {"start": 2 * BLOCK, "end": TOTAL - 1}]
    assert progress["received"] == TOTAL - BLOCK
    last = send(token_issuer, attachment_id, data, BLOCK, 2 * BLOCK)
    assert last.status == 200
    assert last.json()["checksum"] == att.md5(data)
    assert stored(attachment_id) == data


def test_interrupted_upload_reports_stored_ranges_and_resumes(token_issuer, md5_mode):
    data = att.pattern(TOTAL, seed=9)
    attachment_id = att.create(token_issuer)
    query = att.query_upload(token_issuer, attachment_id, TOTAL)
    assert query.status == 202 and query.json()["ranges"] == [] and query.json()["status"] == "Initialized"
    assert record_of(attachment_id).upload is None  # a query changes nothing
    send(token_issuer, attachment_id, data, 0, 3 * BLOCK)
    # ... the client is interrupted and asks what is stored
    query = att.query_upload(token_issuer, attachment_id, TOTAL)
    assert query.status == 202
    assert query.json()["ranges"] == [{"start": 0, "end": 3 * BLOCK - 1}]
    assert query.json()["complete"] is False
    # resumes with other chunk boundaries (still on the grid)
    assert send(token_issuer, attachment_id, data, 3 * BLOCK, 4 * BLOCK).status == 202
    assert send(token_issuer, attachment_id, data, 4 * BLOCK, TOTAL).status == 200
    assert att.md5(stored(attachment_id)) == att.md5(data)


def test_resending_a_stored_chunk_is_harmless(token_issuer, md5_mode):
    data = att.pattern(TOTAL, seed=10)
    attachment_id = att.create(token_issuer)
    send(token_issuer, attachment_id, data, 0, 2 * BLOCK)
    again = send(token_issuer, attachment_id, data, 0, 2 * BLOCK)
    assert again.status == 202 and again.json()["received"] == 2 * BLOCK
    # overlapping a stored range with new bytes on the grid is fine too
    send(token_issuer, attachment_id, data, BLOCK, 3 * BLOCK)
    assert send(token_issuer, attachment_id, data, 3 * BLOCK, TOTAL).status == 200
    assert stored(attachment_id) == data


def test_parallel_chunks(token_issuer, md5_mode):
    data = att.pattern(TOTAL, seed=11)
    attachment_id = att.create(token_issuer, checksum=att.md5(data))
    responses = []
    bounds = [(0, BLOCK), (BLOCK, 2 * BLOCK), (2 * BLOCK, 3 * BLOCK), (3 * BLOCK, 5 * BLOCK), (5 * BLOCK, TOTAL)]

    def go(start, end):
        responses.append(send(token_issuer, attachment_id, data, start, end))

    threads = [threading.Thread(target=go, args=b) for b in bounds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 202, 202, 202, 202], [r.body for r in responses]
    assert stored(attachment_id) == data
    assert record_of(attachment_id).status == "Published"


def test_checksum_mismatch_after_the_last_chunk(token_issuer, md5_mode):
    data = att.pattern(TOTAL, seed=12)
    attachment_id = att.create(token_issuer, checksum="f" * 32)
    send(token_issuer, attachment_id, data, 0, 4 * BLOCK)
    response = send(token_issuer, attachment_id, data, 4 * BLOCK, TOTAL)
    assert response.status == 400 and response.json()["errorCode"] == 2008
    record = record_of(attachment_id)
    assert record.status == "Failed" and record.upload is None
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError):
        stored(attachment_id)


def test_2005_rules(token_issuer):
    data = att.pattern(TOTAL, seed=13)
    # a single upload after a chunked one began
    attachment_id = att.create(token_issuer)
    send(token_issuer, attachment_id, data, 0, BLOCK)
    assert att.upload(token_issuer, attachment_id, data).json()["errorCode"] == 2005
    # a chunk (or a query) after the chunked upload completed
    send(token_issuer, attachment_id, data, BLOCK, TOTAL)
    assert send(token_issuer, attachment_id, data, 0, BLOCK).json()["errorCode"] == 2005
    assert att.query_upload(token_issuer, attachment_id, TOTAL).json()["errorCode"] == 2005
    # a chunk after a single upload
    single = att.create(token_issuer)
    att.upload(token_issuer, single, data)
    assert send(token_issuer, single, data, 0, BLOCK).json()["errorCode"] == 2005


def test_content_range_errors(token_issuer):
    data = att.pattern(TOTAL, seed=14)
    attachment_id = att.create(token_issuer)

    def chunk(content_range, body):
        return att.upload(token_issuer, attachment_id, body, headers={"Content-Range": content_range})

    assert chunk("bytes 0-9", data[:10]).status == 400  # malformed
    assert chunk("items 0-9/10", data[:10]).status == 400
    assert chunk(f"bytes 10-5/{TOTAL}", data[:10]).status == 400  # end < start
    assert chunk("bytes 0-10/10", data[:11]).status == 400  # end >= total
    assert chunk(f"bytes 0-{BLOCK - 1}/{TOTAL}", data[:BLOCK - 1]).status == 400  # body length differs
    assert chunk(f"bytes 1-{BLOCK}/{TOTAL}", data[1:BLOCK + 1]).status == 416  # start off the grid
    assert chunk(f"bytes 0-{BLOCK + 9}/{TOTAL}", data[:BLOCK + 10]).status == 416  # end off the grid
    assert chunk(f"bytes 0-{BLOCK - 1}/{TOTAL}", data[:BLOCK]).status == 202
    other_total = f"bytes {BLOCK}-{2 * BLOCK - 1}/{TOTAL + 1}"
    assert chunk(other_total, data[BLOCK:2 * BLOCK]).status == 416  # total differs from the upload's
    assert att.query_upload(token_issuer, attachment_id, TOTAL + 1).status == 416
    # 2004: the whole file's size and the chunk's size
    too_big = att.create(token_issuer)
    response = att.upload(token_issuer, too_big, b"x", headers={"Content-Range": "bytes 0-0/50000000001"})
    assert response.json()["errorCode"] == 2004
    assert att.query_upload(token_issuer, too_big, 0).json()["errorCode"] == 2004
    response = att.upload(token_issuer, too_big, b"", headers={"Content-Range": "bytes 0-0/1", "Content-Length": "0"})
    assert response.json()["errorCode"] == 2004


def test_chunk_checks_keep_the_upstream_order(token_issuer):
    data = att.pattern(TOTAL, seed=15)
    attachment_id = att.create(token_issuer)
    malformed = {"Content-Range": "nonsense"}
    assert att.upload(token_issuer, str(uuid.uuid4()), b"x", headers=malformed).json()["errorCode"] == 2001
    response = att.upload(token_issuer, attachment_id, b"x", org=att.OTHER_ORG, headers=malformed)
    assert response.status == 401 and response.json()["errorCode"] == 4001
    query = att.query_upload(token_issuer, attachment_id, TOTAL, org=att.OTHER_ORG)
    assert query.status == 401 and query.json()["errorCode"] == 4001
    response = send(token_issuer, attachment_id, data, 0, BLOCK, org=att.OTHER_ORG)
    assert response.status == 401 and record_of(attachment_id).upload is None


def test_crashed_completion_is_finished_by_a_later_query(token_issuer, monkeypatch):
    data = att.pattern(TOTAL, seed=16)
    attachment_id = att.create(token_issuer)
    send(token_issuer, attachment_id, data, 0, 4 * BLOCK)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # a process that dies mid-completion (nothing catches it)

    real = blocks.commit_blocks
    monkeypatch.setattr(blocks, "commit_blocks", crash)
    monkeypatch.setattr(attachments, "release_completion", lambda attachment_id: None)  # died: no cleanup
    with pytest.raises(KeyboardInterrupt):
        send(token_issuer, attachment_id, data, 4 * BLOCK, TOTAL)
    monkeypatch.setattr(blocks, "commit_blocks", real)
    state = record_of(attachment_id).upload
    assert state.is_complete() and state.completing is not None
    # while the claim is fresh, a query reports a complete upload being finished
    query = att.query_upload(token_issuer, attachment_id, TOTAL)
    assert query.status == 202 and query.json()["complete"] is True
    # once it is stale, the next query finishes it
    monkeypatch.setattr(attachment_lifecycle, "COMPLETION_STALE_AFTER", timedelta(0))
    query = att.query_upload(token_issuer, attachment_id, TOTAL)
    assert query.status == 200 and query.json()["status"] == "Published"
    assert stored(attachment_id) == data


def test_failed_completion_releases_its_claim(token_issuer, monkeypatch):
    from azure.core.exceptions import ServiceRequestError

    data = att.pattern(TOTAL, seed=17)
    attachment_id = att.create(token_issuer)
    send(token_issuer, attachment_id, data, 0, 4 * BLOCK)
    real = blocks.commit_blocks

    def outage(*args, **kwargs):
        raise ServiceRequestError("storage unreachable")

    monkeypatch.setattr(blocks, "commit_blocks", outage)
    response = send(token_issuer, attachment_id, data, 4 * BLOCK, TOTAL)
    assert response.status == 503  # the upload stays resumable
    assert record_of(attachment_id).upload.completing is None
    monkeypatch.setattr(blocks, "commit_blocks", real)
    response = att.query_upload(token_issuer, attachment_id, TOTAL)
    assert response.status == 200 and response.json()["checksum"] == hashlib.md5(data).hexdigest()


def test_purge_during_a_chunked_upload(token_issuer):
    data = att.pattern(TOTAL, seed=18)
    attachment_id = att.create(token_issuer)
    send(token_issuer, attachment_id, data, 0, BLOCK)
    assert att.purge(token_issuer, attachment_id).status == 204
    response = send(token_issuer, attachment_id, data, BLOCK, TOTAL)
    assert response.status == 400 and response.json()["errorCode"] == 2006


def test_md5_state_from_another_library_version_falls_back_to_read_back(token_issuer, monkeypatch):
    pytest.importorskip("rehashes")
    data = att.pattern(TOTAL, seed=19)
    attachment_id = att.create(token_issuer)
    send(token_issuer, attachment_id, data, 0, 2 * BLOCK)

    def other_version(record):
        record.upload.md5Impl = "rehashes 0.0.1"
        return save()

    attachment_store.update(uuid.UUID(attachment_id), other_version)
    send(token_issuer, attachment_id, data, 2 * BLOCK, 4 * BLOCK)
    assert record_of(attachment_id).upload.hashedTo == 2 * BLOCK  # not advanced with a foreign state
    last = send(token_issuer, attachment_id, data, 4 * BLOCK, TOTAL)
    assert last.json()["checksum"] == att.md5(data)
