"""The command-line client against the real app served over HTTP (``local_app``, Azurite):
upload (one request; chunked, interrupted mid-chunk and resumed), send with --attach and
--wait, status, --json, problem details and exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from pathlib import Path

import jwt
import pytest
import requests

from altinn_corr import api as cli_api
from altinn_corr import errors as exits
from altinn_corr import uploads
from tests.support.builders import VALID_PERSONS

MIB = 1024 * 1024
RESOURCE = "ttd-corr-1"
ORG = "991825827"


def write_file(path: Path, size: int, seed: int = 7) -> Path:
    data = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    path.write_bytes(data[:size])
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def api_get(local_app, token_issuer, path: str) -> dict:
    response = requests.get(f"{local_app.url}/correspondence/api/v1/{path}",
                            headers=token_issuer.authorization(), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_help_of_every_command(cli) -> None:
    for command in ([], ["token"], ["upload"], ["send"], ["status"]):
        result = cli(*command, "--help")
        assert result.exit_code == 0, result.stderr
        assert "Usage:" in result.stdout
    assert "Exit codes" in cli("--help").stdout


def test_runs_as_a_module_and_a_console_script() -> None:
    import shutil
    import subprocess
    import sys

    module = subprocess.run([sys.executable, "-m", "altinn_corr", "--version"], capture_output=True, text=True, timeout=60)
    assert module.returncode == 0 and "altinn-corr" in module.stdout
    script = shutil.which("altinn-corr", path=str(Path(sys.executable).parent))
    assert script, "console script altinn-corr not installed next to the interpreter"
    assert subprocess.run([script, "status", "--help"], capture_output=True, timeout=60).returncode == 0


def test_dev_token_is_signed_with_the_given_key(cli, token_issuer) -> None:
    result = cli("token", "--json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert body["mode"] == "dev"
    token = body["accessToken"]
    assert jwt.get_unverified_header(token)["kid"] == token_issuer.kid
    claims = jwt.decode(token, token_issuer.private_key.public_key(), algorithms=["RS256"])
    assert claims["iss"] == token_issuer.altinn_issuer
    assert claims["urn:altinn:orgNumber"] == ORG


def test_upload_in_one_request(app_cli, local_app, token_issuer, tmp_path: Path) -> None:
    path = write_file(tmp_path / "report.pdf", 200_000)
    result = app_cli("upload", path, "--resource", RESOURCE)
    assert result.exit_code == 0, result.stderr
    attachment_id = result.stdout.strip()
    uuid.UUID(attachment_id)
    overview = api_get(local_app, token_issuer, f"attachment/{attachment_id}")
    assert overview["status"] == "Published"
    assert overview["checksum"] == md5(path)
    assert overview["fileName"] == "report.pdf"


def test_chunked_upload_interrupted_mid_chunk_then_resumed(
    app_cli, local_app, token_issuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_file(tmp_path / "big.zip", 3 * 8 * MIB + 12345, seed=11)  # four 8 MiB chunks
    monkeypatch.setattr(uploads, "RETRY_DELAYS", (0.0,))  # one quick retry, then give up

    # First run: the connection breaks halfway through the second chunk's body, twice.
    real_read = cli_api.Reader.read
    aborted = []

    def breaking_read(self, size=-1):
        if self.offset == 8 * MIB and self.remaining < self.length // 2:
            aborted.append(self.offset)
            raise ConnectionResetError("simulated network failure")
        return real_read(self, size)

    monkeypatch.setattr(cli_api.Reader, "read", breaking_read)
    first = app_cli("upload", path, "--resource", RESOURCE, "--chunk-size", "8")
    assert first.exit_code == exits.EXIT_UNAVAILABLE, first.stderr
    assert aborted == [8 * MIB, 8 * MIB]
    assert "run the same command again" in first.stderr
    assert first.stdout == ""
    state = json.loads((app_cli.home / "state" / "uploads.json").read_text())
    (entry,) = state.values()
    attachment_id = entry["attachmentId"]
    assert entry["checksum"] == md5(path)

    # The service kept the first chunk only (a broken-off body never counts).
    query = requests.post(
        f"{local_app.url}/correspondence/api/v1/attachment/{attachment_id}/upload",
        headers={**token_issuer.authorization(), "Content-Range": f"bytes */{path.stat().st_size}"},
        data=b"",
        timeout=30,
    )
    assert query.status_code == 202, query.text
    assert query.json()["ranges"] == [{"start": 0, "end": 8 * MIB - 1}]

    # Second run, same command: asks what is stored, sends only the rest.
    monkeypatch.setattr(cli_api.Reader, "read", real_read)
    sent_ranges = []
    real_upload = cli_api.ApiClient.upload

    def recording_upload(self, attachment_id, data, length, content_range=None):
        sent_ranges.append(content_range)
        return real_upload(self, attachment_id, data, length, content_range)

    monkeypatch.setattr(cli_api.ApiClient, "upload", recording_upload)
    second = app_cli("upload", path, "--resource", RESOURCE, "--chunk-size", "8")
    assert second.exit_code == 0, second.stderr
    assert second.stdout.strip() == attachment_id
    assert "Resumed" in second.stderr
    total = path.stat().st_size
    assert sent_ranges == [
        f"bytes {8 * MIB}-{16 * MIB - 1}/{total}",
        f"bytes {16 * MIB}-{24 * MIB - 1}/{total}",
        f"bytes {24 * MIB}-{total - 1}/{total}",
    ]
    overview = api_get(local_app, token_issuer, f"attachment/{attachment_id}")
    assert overview["status"] == "Published"
    assert overview["checksum"] == md5(path)
    assert json.loads((app_cli.home / "state" / "uploads.json").read_text()) == {}

    # Once more: nothing to resume, so a new attachment (with --json: the overview).
    third = app_cli("upload", path, "--resource", RESOURCE, "--chunk-size", "8", "--json")
    assert third.exit_code == 0, third.stderr
    assert third.json()["attachmentId"] != attachment_id


def test_send_with_attach_and_wait_then_status(app_cli, local_app, token_issuer, tmp_path: Path) -> None:
    path = write_file(tmp_path / "letter.txt", 5000)
    result = app_cli(
        "send",
        "--resource", RESOURCE,
        "--title", "Hello",
        "--summary", "A summary",
        "--body", "The body",
        "--recipient", ORG,
        "--recipient", VALID_PERSONS[0],
        "--attach", path,
        "--wait", "--timeout", "60",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    body = result.json()
    rows = body["correspondences"]
    assert len(rows) == 2
    assert {row["status"] for row in rows} == {"Published"}
    assert all(row["recipient"].endswith((ORG, VALID_PERSONS[0])) for row in rows)

    correspondence_id = rows[0]["correspondenceId"]
    status = app_cli("status", correspondence_id, "--json")
    assert status.exit_code == 0, status.stderr
    details = status.json()
    assert details["kind"] == "correspondence" and details["status"] == "Published"
    assert [e["status"] for e in details["statusHistory"]][-1] == "Published"
    (attachment,) = details["content"]["attachments"]
    assert attachment["fileName"] == "letter.txt" and attachment["checksum"] == md5(path)

    human = app_cli("status", attachment["id"])
    assert human.exit_code == 0, human.stderr
    assert "letter.txt" in human.stdout and "Published" in human.stdout and "History" in human.stdout


def test_send_from_request_file_and_csv(app_cli, tmp_path: Path) -> None:
    request = {
        "correspondence": {
            "resourceId": RESOURCE,
            "sendersReference": "cli-test",
            "content": {"language": "nb", "messageTitle": "From a file", "messageSummary": "s",
                        "messageBody": "b"},
        },
        "recipients": ["urn:altinn:organization:identifier-no:310000000"],  # replaced by the CSV
    }
    request_path = tmp_path / "request.json"
    request_path.write_text(json.dumps(request))
    csv_path = tmp_path / "recipients.csv"
    csv_path.write_text(f"name,recipient\nMinistry,{ORG}\nPerson,{VALID_PERSONS[1]}\n")
    result = app_cli("send", request_path, "--recipients-csv", csv_path)
    assert result.exit_code == 0, result.stderr
    assert "Correspondence" in result.stdout and "Recipient" in result.stdout
    assert ORG in result.stdout and VALID_PERSONS[1] in result.stdout
    assert "310000000" not in result.stdout

    from_stdin = app_cli("send", "-", "--recipient", ORG, "--json", input=json.dumps(request))
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert len(from_stdin.json()["correspondences"]) == 1


def test_problem_details_are_readable_and_set_exit_codes(app_cli, tmp_path: Path) -> None:
    invalid = app_cli("send", "--resource", RESOURCE, "--title", "", "--body", "b", "--recipient", ORG)
    assert invalid.exit_code == exits.EXIT_API
    assert "HTTP 400" in invalid.stderr
    assert "$.correspondence.content.messageTitle" in invalid.stderr
    assert "traceId: 00-" in invalid.stderr
    assert invalid.stdout == ""

    as_json = app_cli("send", "--resource", RESOURCE, "--title", "", "--body", "b", "--recipient", ORG, "--json")
    assert as_json.exit_code == exits.EXIT_API
    error = json.loads(as_json.stderr)
    assert error["status"] == 400 and error["exitCode"] == exits.EXIT_API
    assert error["problem"]["code"] == "STD-00000"

    other_org = app_cli("send", "--resource", "other-corr-1", "--title", "t", "--body", "b", "--recipient", ORG)
    assert other_org.exit_code == exits.EXIT_AUTH  # 401 with errorCode 4001
    assert "CORR-04001" in other_org.stderr

    unknown = app_cli("status", str(uuid.uuid4()))
    assert unknown.exit_code == exits.EXIT_API
    assert "no correspondence or attachment" in unknown.stderr

    bad_token = app_cli("status", str(uuid.uuid4()), "--token", "not-a-token")
    assert bad_token.exit_code == exits.EXIT_AUTH
    assert "not-a-token" not in bad_token.stderr

    no_recipients = app_cli("send", "--resource", RESOURCE, "--title", "t", "--body", "b")
    assert no_recipients.exit_code == exits.EXIT_USAGE

    bad_chunk = app_cli("upload", write_file(tmp_path / "x", 10), "--resource", RESOURCE, "--chunk-size", "12")
    assert bad_chunk.exit_code == exits.EXIT_USAGE


def test_unreachable_api_is_exit_5(cli, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = cli("status", str(uuid.uuid4()), "--base-url", f"http://127.0.0.1:{port}")
    assert result.exit_code == exits.EXIT_UNAVAILABLE
    assert "cannot reach the API" in result.stderr


def test_state_and_cache_files_are_private(app_cli, tmp_path: Path) -> None:
    path = write_file(tmp_path / "f.pdf", 100)
    assert app_cli("upload", path, "--resource", RESOURCE).exit_code == 0
    state_file = app_cli.home / "state" / "uploads.json"
    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
