"""End to end through the local host: a direct upload (upload/url, the SDK's parallel block
upload to the URL, upload/complete), then GET .../download gives the same bytes."""

from __future__ import annotations

import hashlib
import urllib.request

import pytest
from azure.storage.blob import BlobClient

from tests.support import attachments as att

MIB = 1024 * 1024
TOTAL = 20 * MIB + 123


@pytest.fixture(scope="module")
def host(token_issuer, azurite_connection, tmp_path_factory):
    from tests.support.app import app_settings
    from tests.support.localhost import LocalHost

    log = tmp_path_factory.mktemp("direct-upload-host") / "host.log"
    server = LocalHost(app_settings(token_issuer, azurite_connection), log_path=log)
    server.start()
    yield server
    server.stop()


def test_direct_upload_publishes_and_downloads_byte_for_byte(host, token_issuer):
    token = token_issuer.altinn_token()
    data = att.pattern(TOTAL, seed=19)
    status, attachment_id = att.http_json(
        host.url, "POST", "/correspondence/api/v1/attachment", token,
        {"resourceId": "ttd-corr-1", "fileName": "big.zip", "sendersReference": "e2e-direct",
         "checksum": hashlib.md5(data).hexdigest()},
    )
    assert status == 200, attachment_id
    base = f"/correspondence/api/v1/attachment/{attachment_id}/upload"
    status, answer = att.http_json(host.url, "POST", f"{base}/url?size={TOTAL}", token)
    assert status == 200, answer
    BlobClient.from_blob_url(answer["uploadUrl"], max_single_put_size=4 * MIB, max_block_size=4 * MIB).upload_blob(
        data, max_concurrency=4)
    status, overview = att.http_json(host.url, "POST", f"{base}/complete", token)
    assert status == 200, overview
    assert overview["status"] == "Published" and overview["checksum"] == hashlib.md5(data).hexdigest()
    request = urllib.request.Request(f"{host.url}/correspondence/api/v1/attachment/{attachment_id}/download",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the local host
        assert response.status == 200
        assert response.read() == data


@pytest.mark.slow
def test_complete_of_a_300_mb_upload_keeps_the_host_memory_flat(host, token_issuer):
    """complete hashes the file from ranged reads (8 x 4 MiB in flight): the host's peak RSS
    grows by far less than the file, whatever its size."""
    from bench.bench_upload import GeneratedFile

    size = 300 * MIB
    token = token_issuer.altinn_token()
    status, attachment_id = att.http_json(
        host.url, "POST", "/correspondence/api/v1/attachment", token,
        {"resourceId": "ttd-corr-1", "fileName": "huge.zip", "sendersReference": "e2e-direct-memory"},
    )
    assert status == 200, attachment_id
    base = f"/correspondence/api/v1/attachment/{attachment_id}/upload"
    status, answer = att.http_json(host.url, "POST", f"{base}/url?size={size}", token)
    assert status == 200, answer
    BlobClient.from_blob_url(answer["uploadUrl"], max_single_put_size=8 * MIB, max_block_size=8 * MIB).upload_blob(
        GeneratedFile(size, 23), length=size, max_concurrency=4)
    expected = hashlib.md5()
    for data in att.deterministic_bytes(size, 23):
        expected.update(data)
    pid = host.process.pid
    att.reset_peak_memory(pid)
    baseline = att.process_memory(pid)["VmRSS"]
    status, overview = att.http_json(host.url, "POST", f"{base}/complete", token)
    assert status == 200, overview
    assert overview["checksum"] == expected.hexdigest()
    growth = att.process_memory(pid)["VmHWM"] - baseline
    # Measured 104 MiB for 300 MiB with 8 x 4 MiB reads in flight (203 MiB with 8 x 8 MiB: it
    # scales with the reads in flight, not with the file; the SDK holds each range about 3 times).
    limit = 128 * MIB
    print(f"host peak RSS growth during complete {growth / MIB:.1f} MiB (limit {limit / MIB:.0f} MiB)")
    assert growth < limit, f"host peak RSS grew by {growth / MIB:.1f} MiB"
