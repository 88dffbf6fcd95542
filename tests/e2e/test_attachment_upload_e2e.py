"""End to end through the local host: a 300 MB attachment uploaded in chunks, interrupted
halfway, resumed; the stored blob's MD5 equals the file's, and the host's peak memory growth
stays under 2 x chunk size + 100 MB."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from tests.support import attachments as att

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
TOTAL = 300 * MIB
CHUNK = 32 * MIB
SEED = 42


@pytest.fixture(scope="module")
def host(token_issuer, azurite_connection, tmp_path_factory):
    """A host of our own, so that its peak memory is this test's alone."""
    from tests.support.app import app_settings
    from tests.support.localhost import LocalHost

    log = tmp_path_factory.mktemp("attachment-host") / "host.log"
    server = LocalHost(app_settings(token_issuer, azurite_connection), log_path=log)
    server.start()
    yield server
    server.stop()


def file_md5() -> str:
    digest = hashlib.md5()
    for data in att.deterministic_bytes(TOTAL, SEED):
        digest.update(data)
    return digest.hexdigest()


def test_300_mb_chunked_upload_interrupted_and_resumed(host, token_issuer, azurite_connection):
    token = token_issuer.altinn_token()
    status, attachment_id = att.http_json(
        host.url, "POST", "/correspondence/api/v1/attachment", token,
        {"resourceId": "ttd-corr-1", "fileName": "big.zip", "sendersReference": "e2e", "checksum": file_md5()},
    )
    assert status == 200, attachment_id
    # warm up (imports, clients, thread pools), then measure from here
    warm_id = att.http_json(host.url, "POST", "/correspondence/api/v1/attachment", token,
                            {"resourceId": "ttd-corr-1", "fileName": "w.txt", "sendersReference": "w"})[1]
    assert att.http_upload_chunk(host.url, token, warm_id, 0, MIB, MIB, seed=1)[0] == 200
    pid = host.process.pid
    att.reset_peak_memory(pid)
    baseline = att.process_memory(pid)["VmRSS"]

    starts = list(range(0, TOTAL, CHUNK))
    half = len(starts) // 2
    for start in starts[:half]:
        status, body = att.http_upload_chunk(host.url, token, attachment_id, start, min(start + CHUNK, TOTAL), TOTAL, SEED)
        assert status == 202, body
    # the client is interrupted in the middle of the next chunk's body
    start = starts[half]
    status, _ = att.http_upload_chunk(
        host.url, token, attachment_id, start, start + CHUNK, TOTAL, SEED, abort_after=CHUNK // 2
    )
    assert status == 0
    # ... and later asks what the service has
    status, body = att.http_query_upload(host.url, token, attachment_id, TOTAL)
    assert status == 202, body
    progress = json.loads(body)
    assert progress["ranges"] == [{"start": 0, "end": half * CHUNK - 1}]
    assert progress["received"] == half * CHUNK and progress["complete"] is False
    # resume from the end of the stored range
    resume_at = progress["ranges"][0]["end"] + 1
    final = None
    for start in range(resume_at, TOTAL, CHUNK):
        status, body = att.http_upload_chunk(host.url, token, attachment_id, start, min(start + CHUNK, TOTAL), TOTAL, SEED)
        final = (status, body)
    status, body = final
    assert status == 200, body
    overview = json.loads(body)
    assert overview["status"] == "Published"
    assert overview["checksum"] == file_md5()

    # the stored blob, read independently with the SDK
    from azure.storage.blob import BlobServiceClient

    blob = BlobServiceClient.from_connection_string(azurite_connection).get_blob_client("attachments", attachment_id)
    digest = hashlib.md5()
    for data in blob.download_blob(max_concurrency=4).chunks():
        digest.update(data)
    assert blob.get_blob_properties().size == TOTAL
    assert digest.hexdigest() == file_md5()

    growth = att.process_memory(pid)["VmHWM"] - baseline
    limit = 2 * CHUNK + 100 * MIB
    print(f"host peak RSS growth {growth / MIB:.1f} MiB (limit {limit / MIB:.0f} MiB)")
    assert growth < limit, f"host peak RSS grew by {growth / MIB:.1f} MiB"
    uuid.UUID(attachment_id)
