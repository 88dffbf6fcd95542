"""``altinn-corr upload --direct`` (and by default above a size) against the local host."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest
import requests

from altinn_corr import direct_upload
from altinn_corr.errors import ApiError

RESOURCE = "ttd-corr-1"
MIB = 1024 * 1024


def write_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def download(local_app, token_issuer, attachment_id: str) -> bytes:
    response = requests.get(f"{local_app.url}/correspondence/api/v1/attachment/{attachment_id}/download",
                            headers={"Authorization": f"Bearer {token_issuer.altinn_token()}"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.content


def test_upload_direct_publishes_the_file(app_cli, local_app, token_issuer, tmp_path: Path) -> None:
    path = write_file(tmp_path / "big.zip", 2 * direct_upload.BLOCK_SIZE + 4321)  # three blocks
    result = app_cli("upload", path, "--resource", RESOURCE, "--direct")
    assert result.exit_code == 0, result.stderr
    attachment_id = result.stdout.strip()
    uuid.UUID(attachment_id)
    assert "Status: Published" in result.stderr
    assert download(local_app, token_issuer, attachment_id) == path.read_bytes()


def test_large_files_go_direct_by_default(app_cli, local_app, token_issuer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(direct_upload, "DIRECT_ABOVE", MIB)
    calls = []
    real = direct_upload.upload
    monkeypatch.setattr(direct_upload, "upload", lambda *a: calls.append(a) or real(*a))
    path = write_file(tmp_path / "default.zip", 2 * MIB)
    result = app_cli("upload", path, "--resource", RESOURCE)
    assert result.exit_code == 0, result.stderr
    assert calls
    overview = requests.get(f"{local_app.url}/correspondence/api/v1/attachment/{result.stdout.strip()}",
                            headers={"Authorization": f"Bearer {token_issuer.altinn_token()}"}, timeout=30).json()
    assert overview["checksum"] == hashlib.md5(path.read_bytes()).hexdigest()


def test_a_server_without_direct_uploads_falls_back_to_the_upload_endpoint(
    app_cli, local_app, token_issuer, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(direct_upload, "DIRECT_ABOVE", MIB)

    def not_offered(*args):
        raise direct_upload.NotOffered()

    monkeypatch.setattr(direct_upload, "upload_url", not_offered)
    path = write_file(tmp_path / "old-server.zip", 2 * MIB)
    result = app_cli("upload", path, "--resource", RESOURCE)
    assert result.exit_code == 0, result.stderr
    assert download(local_app, token_issuer, result.stdout.strip()) == path.read_bytes()
    explicit = app_cli("upload", path, "--resource", RESOURCE, "--direct", "--new")
    assert explicit.exit_code != 0 and "does not offer direct uploads" in explicit.stderr


def test_not_offered_is_a_404_without_an_error_code() -> None:
    class Client:
        def request(self, *args, **kwargs):
            raise ApiError(404, "Not Found", {"status": 404, "title": "Not Found"})

    with pytest.raises(direct_upload.NotOffered):
        direct_upload.upload_url(Client(), str(uuid.uuid4()), 10)


def test_an_interrupted_direct_upload_resumes_with_the_same_attachment(
    app_cli, local_app, token_issuer, tmp_path: Path, monkeypatch
) -> None:
    path = write_file(tmp_path / "resume.zip", 3 * MIB)
    real_send = direct_upload.send_file

    def broken(*args):
        raise direct_upload.NetworkError("the upload to storage failed (ServiceRequestError)")

    monkeypatch.setattr(direct_upload, "send_file", broken)
    first = app_cli("upload", path, "--resource", RESOURCE, "--direct")
    assert first.exit_code != 0
    monkeypatch.setattr(direct_upload, "send_file", real_send)
    second = app_cli("upload", path, "--resource", RESOURCE, "--direct")
    assert second.exit_code == 0, second.stderr
    attachment_id = second.stdout.strip()
    assert "Resumed attachment" in second.stderr and attachment_id in second.stderr
    assert download(local_app, token_issuer, attachment_id) == path.read_bytes()
