"""End to end through the local host over real HTTP: a multipart initialize with two files
(``requests`` builds the form) becomes Published, both attachments Published with their MD5;
and the host's peak memory for a 50 MB file."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
import requests

from tests.support import attachments as att
from tests.support.builders import BASELINE_BODY

API = "/correspondence/api/v1"
MIB = 1024 * 1024


def form(resource: str, files: list[tuple[str, bytes]], **extra: str) -> list[tuple[str, str]]:
    fields = [
        ("recipients[0]", "0192:991825827"),
        ("Recipients[1]", "07827199405"),
        ("correspondence.resourceId", resource),
        ("correspondence.sendersReference", "e2e-multipart"),
        ("correspondence.content.language", "nb"),
        ("correspondence.content.messageTitle", "Multipart"),
        ("correspondence.content.messageBody", BASELINE_BODY),
    ]
    for i, (name, data) in enumerate(files):
        fields += [
            (f"correspondence.content.attachments[{i}].fileName", name),
            (f"correspondence.content.attachments[{i}].sendersReference", f"file-{i}"),
            (f"correspondence.content.attachments[{i}].checksum", hashlib.md5(data).hexdigest()),
        ]
    return fields + list(extra.items())


def post_form(base_url: str, token: str, fields, files, timeout: float = 120) -> requests.Response:
    return requests.post(
        f"{base_url}{API}/correspondence/upload",
        data=fields,
        files=[("attachments", (name, data, "application/octet-stream")) for name, data in files],
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )


def wait_for_status(base_url: str, token: str, correspondence_id: str, wanted: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, body = att.http_json(base_url, "GET", f"{API}/correspondence/{correspondence_id}", token)
        assert status == 200, body
        if body["status"] == wanted or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def test_two_files_in_one_request_are_published(local_app, token_issuer) -> None:
    token = token_issuer.altinn_token()
    files = [("report.pdf", b"%PDF-1.7 " + bytes(range(256)) * 400), ("notes.txt", "blåbær\n".encode() * 1000)]
    response = post_form(local_app.url, token, form("ttd-corr-1", files), files)
    assert response.status_code == 200, response.text
    result = response.json()
    assert len(result["correspondences"]) == 2
    assert {c["status"] for c in result["correspondences"]} == {"ReadyForPublish"}
    assert len(result["attachmentIds"]) == 2

    for item in result["correspondences"]:
        overview = wait_for_status(local_app.url, token, item["correspondenceId"], "Published")
        assert overview["status"] == "Published", overview
        assert [a["fileName"] for a in overview["content"]["attachments"]] == ["report.pdf", "notes.txt"]

    for attachment_id, (name, data) in zip(result["attachmentIds"], files):
        status, attachment = att.http_json(local_app.url, "GET", f"{API}/attachment/{attachment_id}", token)
        assert status == 200, attachment
        assert attachment["status"] == "Published"
        assert attachment["fileName"] == name
        assert attachment["checksum"] == hashlib.md5(data).hexdigest()
        assert sorted(attachment["correspondenceIds"]) == sorted(c["correspondenceId"] for c in result["correspondences"])


def test_media_type_gates_over_http(local_app, token_issuer) -> None:
    token = token_issuer.altinn_token()
    headers = {"Authorization": f"Bearer {token}"}
    as_json = requests.post(f"{local_app.url}{API}/correspondence/upload", json={}, headers=headers, timeout=30)
    assert as_json.status_code == 415
    files = [("a.txt", b"x")]
    multipart_on_json = requests.post(
        f"{local_app.url}{API}/correspondence", data=form("ttd-corr-1", files), files=[("attachments", files[0])],
        headers=headers, timeout=30,
    )
    assert multipart_on_json.status_code == 415


@pytest.mark.slow
def test_host_memory_for_a_50_mb_file(token_issuer, azurite_connection, tmp_path_factory) -> None:
    """Peak RSS growth of a host of our own while it takes a 50 MB file in a multipart request."""
    from tests.support.app import app_settings
    from tests.support.localhost import LocalHost

    log = tmp_path_factory.mktemp("multipart-host") / "host.log"
    with LocalHost(app_settings(token_issuer, azurite_connection), log_path=log) as host:
        token = token_issuer.altinn_token()
        warm = [("warm.txt", b"w" * MIB)]  # imports, clients, thread pools
        assert post_form(host.url, token, form("ttd-corr-1", warm), warm).status_code == 200
        data = att.pattern(50 * MIB, seed=7)
        files = [("big.zip", data)]
        fields = form("ttd-corr-1", files)
        pid = host.process.pid
        att.reset_peak_memory(pid)
        baseline = att.process_memory(pid)["VmRSS"]
        response = post_form(host.url, token, fields, files)
        assert response.status_code == 200, response.text
        growth = att.process_memory(pid)["VmHWM"] - baseline
        attachment_id = response.json()["attachmentIds"][0]
        status, attachment = att.http_json(host.url, "GET", f"{API}/attachment/{attachment_id}", token)
        assert attachment["checksum"] == hashlib.md5(data).hexdigest()
        print(json.dumps({"file_mib": 50, "host_peak_rss_growth_mib": round(growth / MIB, 1)}))
        # The local host holds the body (aiohttp reads it into one bytes object: about 2 x the
        # body while reading); the function adds only blocks in flight (4 x 8 MiB at most).
        assert growth < 2 * 50 * MIB + 4 * 8 * MIB + 30 * MIB, f"{growth / MIB:.1f} MiB"
