"""Limits (OWASP API4) over HTTP against the real app on the local host.

Body size caps (413), recipients <= 500, attachments <= 100, caps on reply options and custom
notification recipients, header sizes (400, never a hang), and a client that sends its body
slowly or stops: the host's plain 408 problem (no app error code) within its idle/min-rate
limits, and it holds no worker (other requests are answered meanwhile). The figures are in
docs/reliability-and-security.md.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from contextlib import closing

import pytest
import requests

from tests.support.app import app_settings
from tests.support.localhost import LocalHost
from tools import serve

# Short limits for this host so the slow-client tests take seconds (defaults: 10 s, 10 s, 1 KiB/s).
IDLE_SECONDS = 1.0
GRACE_SECONDS = 1.0
MIN_RATE = 1024
CORRESPONDENCE = "/correspondence/api/v1/correspondence"
# What the local host itself answers with (408, 413 over 100 MB): no errorCode, no code.
HOST_PROBLEM_KEYS = {"type", "title", "status", "detail", "traceId"}
ATTACHMENT = "/correspondence/api/v1/attachment"


@pytest.fixture(scope="module")
def host(token_issuer, azurite_connection, tmp_path_factory):
    env = {
        **app_settings(token_issuer, azurite_connection),
        "LOCALHOST_BODY_IDLE_SECONDS": str(IDLE_SECONDS),
        "LOCALHOST_BODY_GRACE_SECONDS": str(GRACE_SECONDS),
        "LOCALHOST_BODY_MIN_RATE": str(MIN_RATE),
    }
    local = LocalHost(env, log_path=tmp_path_factory.mktemp("limits") / "host.log")
    local.start()
    yield local
    local.stop()


@pytest.fixture
def auth(token_issuer) -> dict[str, str]:
    return token_issuer.authorization()


def _request(host, recipients=None, **correspondence) -> dict:
    body = {
        "correspondence": {
            "resourceId": "ttd-corr-1",
            "sendersReference": "limits",
            "content": {"language": "nb", "messageTitle": "Title", "messageBody": "Body"},
            **correspondence,
        },
        "recipients": recipients or ["26818099001"],
    }
    return body


def _post(host, auth, body, path=CORRESPONDENCE):
    return requests.post(f"{host.url}{path}", json=body, headers=auth, timeout=30)


def _assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["type"] and body["title"]
    return body


def _paths(problem: dict) -> set[str]:
    return {path for item in problem["validationErrors"] for path in item["paths"]}


# --- body size ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [CORRESPONDENCE, ATTACHMENT])
def test_json_body_over_the_cap_is_413(host, auth, path) -> None:
    from shared.api.http import DEFAULT_MAX_JSON_BODY

    body = b'{"x":"' + b"a" * DEFAULT_MAX_JSON_BODY + b'"}'
    response = requests.post(f"{host.url}{path}", data=body, headers={**auth, "Content-Type": "application/json"}, timeout=30)
    problem = _assert_problem(response, 413)
    assert problem["traceId"].startswith("00-")


def test_declared_body_over_the_host_cap_is_refused_before_it_is_sent(host, auth) -> None:
    """A Content-Length over 100 MB is answered at once: nothing is read or buffered."""
    declared = serve.MAX_REQUEST_BYTES + 1
    head = (
        f"POST {ATTACHMENT}/{uuid.uuid4()}/upload HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    status, _, body = _raw(host, head, read_timeout=10)
    assert status == 413
    assert time.monotonic() - started < 5
    problem = json.loads(body)
    assert set(problem) == HOST_PROBLEM_KEYS and problem["status"] == 413


# --- collection caps ----------------------------------------------------------------------------
def test_more_than_500_recipients_is_a_shape_error(host, auth) -> None:
    recipients = [f"urn:altinn:person:identifier-no:{26818099001 + i:011d}" for i in range(501)]
    problem = _assert_problem(_post(host, auth, _request(host, recipients)), 400)
    assert problem["code"] == "STD-00000"
    assert "$.recipients" in _paths(problem)
    assert "Recipients can contain at most 500 recipients" in problem["errors"]["$.recipients"]


def test_more_than_100_attachments_is_1038(host, auth) -> None:
    attachments = [{"fileName": f"f{i}.pdf", "sendersReference": "r"} for i in range(101)]
    body = _request(host)
    body["correspondence"]["content"]["attachments"] = attachments
    problem = _assert_problem(_post(host, auth, body), 400)
    assert problem["errorCode"] == 1038


def test_more_than_100_existing_attachments_are_counted_before_any_lookup(host, auth) -> None:
    """Upstream looks each id up (1007) before counting (1038); over 100 ids we count first, so
    a request can never make more than 100 lookups (a deliberate difference, in the README)."""
    body = _request(host)
    body["existingAttachments"] = [str(uuid.uuid4()) for _ in range(101)]
    assert _assert_problem(_post(host, auth, body), 400)["errorCode"] == 1038
    body["existingAttachments"] = body["existingAttachments"][:100]
    assert _assert_problem(_post(host, auth, body), 400)["errorCode"] == 1007


def test_more_than_1000_existing_attachments_is_a_shape_error(host, auth) -> None:
    body = _request(host)
    body["existingAttachments"] = [str(uuid.uuid4()) for _ in range(1001)]
    problem = _assert_problem(_post(host, auth, body), 400)
    assert "$.existingAttachments" in _paths(problem)


def test_more_than_100_reply_options_is_a_shape_error(host, auth) -> None:
    options = [{"linkURL": f"https://example.com/{i}", "linkText": "x"} for i in range(101)]
    problem = _assert_problem(_post(host, auth, _request(host, replyOptions=options)), 400)
    assert "$.correspondence.replyOptions" in _paths(problem)


@pytest.mark.parametrize(
    "notification, path",
    [
        ({"customRecipients": [{"emailAddress": f"a{i}@example.com"} for i in range(101)]}, "$.correspondence.notification.customRecipients"),
        (
            {"customNotificationRecipients": [{"recipientToOverride": "26818099001", "recipients": []} for _ in range(101)]},
            "$.correspondence.notification.customNotificationRecipients",
        ),
        (
            {"customNotificationRecipients": [{"recipientToOverride": "26818099001", "recipients": [{"emailAddress": "a@example.com"}] * 101}]},
            "$.correspondence.notification.customNotificationRecipients[0].recipients",
        ),
    ],
)
def test_custom_notification_recipient_caps(host, auth, notification, path) -> None:
    notification = {"notificationTemplate": "GenericAltinnMessage", "notificationChannel": "Email", **notification}
    problem = _assert_problem(_post(host, auth, _request(host, notification=notification)), 400)
    assert path in _paths(problem)


# --- headers ------------------------------------------------------------------------------------
def _complete(answer: bytes) -> bool:
    head, found, rest = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), None)
    return length is not None and len(rest) >= length


def _raw(host, payload: bytes, *, read_timeout: float = 10, drip: tuple[bytes, float] | None = None):
    """Send raw bytes; return (status, headers, body) of the answer, or (None, {}, b"") on none."""
    with closing(socket.create_connection(("127.0.0.1", host.port), timeout=read_timeout)) as sock:
        sock.sendall(payload)
        if drip is not None:
            data, interval = drip
            sock.setblocking(False)
            answer = b""
            for byte in data:
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    break
                deadline = time.monotonic() + interval
                while time.monotonic() < deadline:
                    try:
                        got = sock.recv(65536)
                    except BlockingIOError:
                        time.sleep(0.01)
                        continue
                    except OSError:
                        got = b""
                    answer += got
                    if not got or b"\r\n\r\n" in answer:
                        break
                if b"\r\n\r\n" in answer:
                    break
            sock.setblocking(True)
            sock.settimeout(read_timeout)
        else:
            answer = b""
        while not _complete(answer):
            try:
                got = sock.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not got:
                break
            answer += got
    if not answer:
        return None, {}, b""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_a_huge_header_is_refused_at_once(host) -> None:
    payload = f"GET /health HTTP/1.1\r\nHost: x\r\nX-Huge: {'a' * 64 * 1024}\r\n\r\n".encode()
    started = time.monotonic()
    status, _, _ = _raw(host, payload, read_timeout=10)
    assert status == 400
    assert time.monotonic() - started < 5


def test_a_huge_request_line_is_refused(host) -> None:
    payload = f"GET /health?{'a' * 20000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    status, _, _ = _raw(host, payload)
    assert status == 400


def test_too_many_headers_are_refused(host) -> None:
    lines = "".join(f"X-H{i}: v\r\n" for i in range(serve.MAX_HEADERS + 20))
    status, _, _ = _raw(host, f"GET /health HTTP/1.1\r\nHost: x\r\n{lines}\r\n".encode())
    assert status == 400


def test_a_large_bearer_token_still_fits(host, token_issuer) -> None:
    """A 12 KiB token (many claims) passes the header limits and is judged on its merits."""
    token = token_issuer.altinn_token(padding="p" * 9000)
    assert 9000 < len(token) < serve.MAX_FIELD_SIZE
    response = requests.get(f"{host.url}{ATTACHMENT}/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 404  # authenticated; the attachment does not exist


# --- slow senders ----------------------------------------------------------------------------------
def _upload_head(auth, length: int, path: str | None = None) -> bytes:
    path = path or f"{ATTACHMENT}/{uuid.uuid4()}/upload"
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _assert_host_408(status, headers, body) -> None:
    """The local host's own 408: a plain RFC 9457 problem; the app's error codes are not its
    to give (in Azure the platform, not the app, cuts off a slow client)."""
    assert status == 408
    assert headers["content-type"].startswith("application/problem+json")
    assert headers.get("connection", "").lower() == "close"
    problem = json.loads(body)
    assert set(problem) == HOST_PROBLEM_KEYS
    assert problem["status"] == 408 and problem["title"] == "Request Timeout"
    assert problem["detail"].startswith("The request body arrived too slowly")
    assert problem["traceId"].startswith("00-")


def test_a_client_that_stops_sending_gets_408(host, auth) -> None:
    started = time.monotonic()
    status, headers, body = _raw(host, _upload_head(auth, 100_000) + b"x" * 10, read_timeout=15)
    elapsed = time.monotonic() - started
    _assert_host_408(status, headers, body)
    assert IDLE_SECONDS - 0.1 <= elapsed < IDLE_SECONDS + 3


def test_a_client_that_drips_its_body_gets_408(host, auth) -> None:
    """One byte every 0.2 s is never idle for 1 s, but far below 1 KiB/s: refused after the grace."""
    started = time.monotonic()
    status, headers, body = _raw(host, _upload_head(auth, 1000), read_timeout=15, drip=(b"y" * 1000, 0.2))
    elapsed = time.monotonic() - started
    _assert_host_408(status, headers, body)
    assert GRACE_SECONDS - 0.1 <= elapsed < GRACE_SECONDS + 3


def test_a_slow_json_body_gets_408_too(host, auth) -> None:
    head = (
        f"POST {CORRESPONDENCE} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
        "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    ).encode()
    status, headers, body = _raw(host, head + b'{"correspondence":', read_timeout=15)
    _assert_host_408(status, headers, body)


def test_slow_clients_hold_no_worker(host, auth) -> None:
    """More stalled uploads than the host has worker threads (32): others are still served."""
    stalled = []
    try:
        for _ in range(48):
            sock = socket.create_connection(("127.0.0.1", host.port), timeout=10)
            sock.sendall(_upload_head(auth, 1_000_000) + b"z" * 100)
            stalled.append(sock)
        timings = []
        for _ in range(5):
            started = time.monotonic()
            response = requests.get(f"{host.url}/health", timeout=10)
            timings.append(time.monotonic() - started)
            assert response.status_code == 200
        assert max(timings) < 1.0, timings
        # And each stalled client is answered 408 and disconnected.
        answered = []
        lock = threading.Lock()

        def collect(sock: socket.socket) -> None:
            data = b""
            sock.settimeout(10)
            try:
                while chunk := sock.recv(65536):
                    data += chunk
            except OSError:
                pass
            with lock:
                answered.append(data.split(b" ", 2)[1] if data.startswith(b"HTTP/1.1") else b"")

        threads = [threading.Thread(target=collect, args=(sock,)) for sock in stalled]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        assert answered.count(b"408") == len(stalled), answered
    finally:
        for sock in stalled:
            sock.close()


def test_a_normal_upload_is_unaffected(host, auth) -> None:
    init = {"resourceId": "ttd-corr-1", "fileName": "a.pdf", "sendersReference": "limits", "expirationInDays": 14}
    response = _post(host, auth, init, ATTACHMENT)
    assert response.status_code == 200, response.text
    attachment_id = response.json()
    data = b"%PDF-" + b"0" * (3 * 1024 * 1024)
    upload = requests.post(
        f"{host.url}{ATTACHMENT}/{attachment_id}/upload",
        data=data,
        headers={**auth, "Content-Type": "application/octet-stream"},
        timeout=60,
    )
    assert upload.status_code == 200, upload.text
