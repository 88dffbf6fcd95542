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
