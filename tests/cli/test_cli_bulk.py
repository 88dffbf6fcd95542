"""Bulk send (validation before the first request, receipt, re-run sends only the rest), the
file-type check before hashing, progress from acknowledged bytes, and the Ctrl-C message."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from altinn_corr import cli as cli_module
from altinn_corr import errors as exits
from altinn_corr import recipients as cli_recipients
from altinn_corr import uploads
from altinn_corr.errors import Interrupted, UsageProblem
from tests.support.builders import VALID_PERSONS

RESOURCE = "ttd-corr-1"


def org_numbers(count: int, seed: int) -> list[str]:
    return [f"{seed}{i:05d}"[:9].rjust(9, "1") for i in range(count)]


def write_csv(path: Path, values: list[str]) -> Path:
    path.write_text("recipient\n" + "\n".join(values) + "\n")
    return path


def test_cli_recipient_rules_match_the_api() -> None:
    from shared.models import recipients as api

    samples = ["0192:991825827", "urn:altinn:organization:identifier-no:991825827", "991825827",
               *VALID_PERSONS, "07827199404", "urn:altinn:person:identifier-no:07827199405",
               "urn:altinn:person:idporten-email:A@B.no", "urn:altinn:person:idporten-email:a@b@c",
               "urn:altinn:person:legacy-selfidentified:Name", "", " ", "abc", "0192:12345678"]
    for value in samples:
        try:
            expected = api.normalize_recipient(value)
        except api.InvalidRecipient:
            expected = None
        try:
            got = cli_recipients.normalize(value)
        except cli_recipients.InvalidRecipient:
            got = None
        assert got == expected, value


def test_600_recipients_with_a_bad_one_at_row_550_sends_nothing(cli, tmp_path: Path) -> None:
    values = org_numbers(600, 31)
    values[548] = "07827199404"  # wrong check digits; row 550 (the header is row 1)
    csv_path = write_csv(tmp_path / "recipients.csv", values)
    # Nothing listens at the base URL: any request would end in exit 5, not 2.
    result = cli("send", "--resource", RESOURCE, "--title", "t", "--body", "b", "--recipients-csv", csv_path,
                 "--base-url", "http://127.0.0.1:9")
    assert result.exit_code == exits.EXIT_USAGE, result.stderr
    assert "recipients.csv row 550, column recipient" in result.stderr
    assert "nothing was sent" in result.stderr
    assert not (tmp_path / "recipients.csv.receipt.json").exists()


class FailingProxy:
    """Forwards to the local host; answers the Nth initialize with 503 instead (a server-side
    failure the CLI cannot foresee)."""

    def __init__(self, target: str, fail: set[int], lose_answer: bool = False) -> None:
        self.target = target
        self.fail = fail
        self.lose_answer = lose_answer
        self.initializes = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/correspondence"):
                    proxy.initializes += 1
                    if proxy.initializes in proxy.fail:
                        if proxy.lose_answer:  # the host stores it; the client never hears
                            requests.post(proxy.target + self.path, data=body, timeout=120, headers={
                                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")})
                        data = json.dumps({"status": 503, "title": "Service Unavailable"}).encode()
                        self.send_response(503)
                        self.send_header("Content-Type", "application/problem+json")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return
                self._forward("POST", body)

            def do_GET(self):
                self._forward("GET", None)

            def _forward(self, method, body):
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.request(method, proxy.target + self.path, data=body, headers=headers, timeout=120)
                self.send_response(answer.status_code)
                for name in ("Content-Type", "Retry-After"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def search_ids(local_app, token_issuer, reference: str) -> list[str]:
    response = requests.get(f"{local_app.url}/correspondence/api/v1/correspondence",
                            params={"resourceId": RESOURCE, "role": "Sender", "sendersReference": reference},
                            headers=token_issuer.authorization(), timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["ids"]


def test_second_batch_fails_then_rerun_sends_only_the_rest(app_cli, local_app, token_issuer, tmp_path: Path) -> None:
    values = org_numbers(600, 32)
    csv_path = write_csv(tmp_path / "recipients.csv", values)
    reference = f"bulk-{tmp_path.name}"[:60]
    proxy = FailingProxy(local_app.url, fail={2})
    try:
        args = ["send", "--resource", RESOURCE, "--title", "t", "--body", "b", "--recipients-csv", csv_path,
                "--senders-reference", reference, "--base-url", proxy.url, "--json"]
        first = app_cli(*args)
        assert first.exit_code == exits.EXIT_PARTIAL, first.stderr
        error = json.loads(first.stderr)
        assert "batch 2 of 2 (CSV rows 502-601)" in error["error"]
        created = first.json()["correspondences"]
        assert len(created) == 500 and first.json()["complete"] is False
        receipt = json.loads((tmp_path / "recipients.csv.receipt.json").read_text())
        assert receipt["batches"][0]["state"] == "sent"
        assert [c["correspondenceId"] for c in receipt["batches"][0]["correspondences"]] == \
            [c["correspondenceId"] for c in created]
        assert receipt["batches"][1]["state"] == "unknown"

        second = app_cli(*args)
        assert second.exit_code == 0, second.stderr
        assert proxy.initializes == 3  # the re-run sent only the second batch
        assert second.json()["complete"] is True
        assert len(second.json()["correspondences"]) == 600
        ids = search_ids(local_app, token_issuer, reference)
        assert len(ids) == len(set(ids)) == 600  # no duplicates

        third = app_cli(*args)  # everything sent: nothing more
        assert third.exit_code == 0 and proxy.initializes == 3
    finally:
        proxy.close()


def test_problem_paths_name_the_csv_row() -> None:
    batch = [cli_module.Checked(f"r.csv row {n}, column recipient", "x", n) for n in range(502, 602)]
    assert cli_module.map_recipient_paths("$.recipients[49]: bad", batch) == \
        "r.csv row 551, column recipient ($.recipients[49] of the batch): bad"


def test_exe_is_refused_before_hashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "setup.exe"
    with path.open("wb") as handle:
        handle.truncate(96 * 1024 * 1024)  # sparse: 96 MiB without writing them
    monkeypatch.setattr(uploads, "file_md5", lambda *a: pytest.fail("hashed before the type check"))
    uploader = uploads.Uploader(client=None, state=None)  # type: ignore[arg-type]
    with pytest.raises(UsageProblem) as caught:
        uploader.upload(uploads.UploadSpec(path=path, resource=RESOURCE))
    assert "'.exe'" in caught.value.message and ".pdf" in caught.value.message


def test_extension_list_matches_the_api() -> None:
    from shared.rules.attachment_files import ALLOWED_EXTENSIONS

    assert set(uploads.ALLOWED_EXTENSIONS) == set(ALLOWED_EXTENSIONS)


class FakeResponse:
    def __init__(self, status: int, body: dict) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> dict:
        return self._body


class RecordingProgress(uploads.NoProgress):
    def __init__(self) -> None:
        self.values: list[int] = []
        self.description = ""

    def start(self, description: str, total: int, completed: int = 0) -> None:
        self.description = description

    def set(self, completed: int) -> None:
        self.values.append(completed)

    def advance(self, amount: int) -> None:
        # hashing counts bytes read (that is its work); the upload must not
        assert self.description.startswith("Hashing"), "upload progress moved on bytes read"


class FakeClient:
    """Reads each chunk's body like requests does; acknowledges less than it read for one."""

    base_url = "http://fake"

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.interrupt_at = interrupt_at
        self.calls = 0

    def initialize_attachment(self, body: dict) -> str:
        return "11111111-1111-1111-1111-111111111111"

    def upload(self, attachment_id, data, length, content_range=None):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        while data.read(65536):
            pass
        end = int(content_range.split("-")[1].split("/")[0]) + 1
        total = int(content_range.split("/")[1])
        if end == total:
            return FakeResponse(200, {"status": "UploadProcessing"})
        return FakeResponse(202, {"received": end, "ranges": [{"start": 0, "end": end - 1}], "complete": False})


def test_progress_counts_acknowledged_bytes(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    path.write_bytes(b"x" * (3 * uploads.BLOCK_SIZE))
    progress = RecordingProgress()
    uploader = uploads.Uploader(FakeClient(), None, progress)  # type: ignore[arg-type]
    uploader.upload(uploads.UploadSpec(path=path, resource=RESOURCE, chunk_size=uploads.BLOCK_SIZE,
                                       force_chunked=True))
    acked = [v for v in progress.values if v]
    assert acked == [uploads.BLOCK_SIZE, 2 * uploads.BLOCK_SIZE, 3 * uploads.BLOCK_SIZE]


def test_interrupt_says_how_to_resume(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    path.write_bytes(b"x" * (3 * uploads.BLOCK_SIZE))
    uploader = uploads.Uploader(FakeClient(interrupt_at=2), None)  # type: ignore[arg-type]
    with pytest.raises(Interrupted) as caught:
        uploader.upload(uploads.UploadSpec(path=path, resource=RESOURCE, chunk_size=uploads.BLOCK_SIZE))
    assert caught.value.exit_code == 130
    assert caught.value.message == (
        "Interrupted. Re-run the same command to resume the upload of attachment "
        f"11111111-1111-1111-1111-111111111111 from byte {uploads.BLOCK_SIZE}."
    )


def test_interrupt_exits_130_without_traceback(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"x" * 100)

    def interrupted(self, spec):
        raise Interrupted("Interrupted. Re-run the same command to resume the upload of attachment X from byte 0.")

    monkeypatch.setattr(uploads.Uploader, "upload", interrupted)
    result = cli("upload", path, "--resource", RESOURCE)
    assert result.exit_code == 130
    assert result.stderr.startswith("Interrupted. Re-run the same command")
    assert "Traceback" not in result.stderr


def test_lost_answer_of_a_batch_is_found_not_sent_again(app_cli, local_app, token_issuer, tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "recipients.csv", org_numbers(600, 33))
    reference = f"lost-{tmp_path.name}"[:60]
    proxy = FailingProxy(local_app.url, fail={2}, lose_answer=True)
    try:
        args = ["send", "--resource", RESOURCE, "--title", "t", "--body", "b", "--recipients-csv", csv_path,
                "--senders-reference", reference, "--base-url", proxy.url, "--json"]
        first = app_cli(*args)
        assert first.exit_code == exits.EXIT_PARTIAL, first.stderr
        second = app_cli(*args)
        assert second.exit_code == 0, second.stderr
        assert proxy.initializes == 2  # found by search, not sent again
        assert len(second.json()["correspondences"]) == 600
        ids = search_ids(local_app, token_issuer, reference)
        assert len(ids) == len(set(ids)) == 600
    finally:
        proxy.close()


def test_rerun_without_senders_reference_reuses_the_receipt(app_cli, tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "r.csv", org_numbers(2, 34))
    args = ["send", "--resource", RESOURCE, "--title", "t", "--body", "b", "--recipients-csv", csv_path, "--json"]
    first = app_cli(*args)
    assert first.exit_code == 0, first.stderr
    second = app_cli(*args)  # the generated sendersReference comes from the receipt
    assert second.exit_code == 0, second.stderr
    assert second.json()["complete"] is True
    assert [r["correspondenceId"] for r in second.json()["correspondences"]] == \
        [r["correspondenceId"] for r in first.json()["correspondences"]]
