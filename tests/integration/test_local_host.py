"""The local host over real HTTP and real Azurite queues, with a fixture function app."""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from pathlib import Path

import pytest
import requests
from azure.storage.queue import QueueClient

from tests.support.localhost import ROOT, LocalHost

APP = ROOT / "tests" / "fixtures" / "host_app"


@pytest.fixture
def host(azurite_connection: str, tmp_path: Path):
    suffix = uuid.uuid4().hex[:8]
    env = {
        "AzureWebJobsStorage": azurite_connection,
        "RECORD_QUEUE": f"record-{suffix}",
        "FAIL_QUEUE": f"fail-{suffix}",
        "RECORD_DIR": str(tmp_path),
    }
    with LocalHost(env, root=APP, log_path=tmp_path / "host.log") as running:
        running.env = env
        yield running


def _wait_for(predicate, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


def test_http_route_params_query_headers_and_body(host: LocalHost) -> None:
    item = str(uuid.uuid4())
    response = requests.post(f"{host.url}/items/{item}?a=1", data=b"hello", headers={"x-test": "yes"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["X-Echo"] == "1"
    body = response.json()
    assert body == {**body, "method": "POST", "route": {"itemId": item}, "query": {"a": "1"}, "header": "yes", "body": "hello"}
    assert body["thread"].startswith("fn")  # sync functions run in the worker thread pool


def test_literal_route_wins_and_async_functions_run_on_the_loop(host: LocalHost) -> None:
    response = requests.get(f"{host.url}/items/special", timeout=5)
    assert response.status_code == 201
    assert response.text == "async on MainThread"


# The host's own answers: plain RFC 9457, nothing app-specific (no errorCode, no code).
HOST_PROBLEM_KEYS = {"type", "title", "status", "detail", "traceId"}


def test_unknown_route_and_wrong_method_are_problems(host: LocalHost) -> None:
    missing = requests.get(f"{host.url}/nothing/here", timeout=5)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    assert set(missing.json()) == HOST_PROBLEM_KEYS
    assert missing.json()["status"] == 404
    wrong = requests.delete(f"{host.url}/items/{uuid.uuid4()}", timeout=5)
    assert wrong.status_code == 405
    assert set(wrong.json()) == HOST_PROBLEM_KEYS
    assert wrong.json()["status"] == 405
    assert "GET" in wrong.headers["Allow"]


def test_a_valid_traceparent_is_the_problems_trace_id(host: LocalHost) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert requests.get(f"{host.url}/nothing", headers={"traceparent": parent}, timeout=5).json()["traceId"] == parent
    forged = requests.get(f"{host.url}/nothing", headers={"traceparent": "not-a-trace <script>"}, timeout=5).json()
    assert forged["traceId"].startswith("00-") and "script" not in forged["traceId"]


# --- the whole request's deadline (Azure's front end: 230 s) -------------------------------------
@pytest.fixture
def timed_host(azurite_connection: str, tmp_path: Path):
    env = {
        "AzureWebJobsStorage": azurite_connection,
        "RECORD_QUEUE": f"record-{uuid.uuid4().hex[:8]}",
        "FAIL_QUEUE": f"fail-{uuid.uuid4().hex[:8]}",
        "RECORD_DIR": str(tmp_path),
        "LOCALHOST_REQUEST_TIMEOUT_SECONDS": "1.5",
    }
    with LocalHost(env, root=APP, log_path=tmp_path / "host.log") as running:
        yield running


def test_a_function_slower_than_the_request_timeout_gets_502_and_runs_on(timed_host: LocalHost, tmp_path: Path) -> None:
    started = time.monotonic()
    response = requests.post(f"{timed_host.url}/slow", data=b"3", timeout=10)
    elapsed = time.monotonic() - started
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert set(response.json()) == HOST_PROBLEM_KEYS
    assert 1.4 <= elapsed < 2.5
    # Only the answer is lost: the function itself finishes (as in Azure).
    _wait_for((tmp_path / "slow-finished").exists, 5)
    assert requests.post(f"{timed_host.url}/slow", data=b"0", timeout=10).status_code == 200


def test_a_body_still_arriving_at_the_request_timeout_gets_408(timed_host: LocalHost) -> None:
    """2 KiB/s is above the minimum rate (1 KiB/s) and never idle, but takes longer than 1.5 s."""
    with socket.create_connection(("127.0.0.1", timed_host.port), timeout=10) as sock:
        sock.sendall(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        started = time.monotonic()
        answer = b""
        sock.setblocking(False)
        while time.monotonic() - started < 5 and b"\r\n\r\n" not in answer:
            try:
                sock.send(b"1" * 512)
            except OSError:
                pass
            time.sleep(0.25)
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
        elapsed = time.monotonic() - started
        sock.setblocking(True)
        sock.settimeout(10)
        while True:  # the host closes the connection after a 408
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 1.4 <= elapsed < 3
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert set(json.loads(body)) == HOST_PROBLEM_KEYS


def test_base64_queue_message_reaches_its_function_within_two_seconds(host: LocalHost, azurite_connection: str, tmp_path: Path) -> None:
    queue = QueueClient.from_connection_string(azurite_connection, host.env["RECORD_QUEUE"])
    _wait_for(lambda: _exists(queue), 10)  # the listener creates its queue
    payload = json.dumps({"hello": "world"})
    sent = queue.send_message(base64.b64encode(payload.encode()).decode())
    record = tmp_path / f"{sent.id}.json"
    elapsed = _wait_for(record.exists, 5)
    assert elapsed < 2.0
    time.sleep(0.05)
    stored = json.loads(record.read_text())
    assert stored["body"] == payload
    assert stored["dequeue_count"] == 1
    _wait_for(lambda: not list(queue.peek_messages()), 5)  # deleted after success


def test_failing_message_lands_in_poison_queue_after_five_attempts(host: LocalHost, azurite_connection: str, tmp_path: Path) -> None:
    name = host.env["FAIL_QUEUE"]
    queue = QueueClient.from_connection_string(azurite_connection, name)
    _wait_for(lambda: _exists(queue), 10)
    queue.send_message(base64.b64encode(b"doomed").decode())
    poison = QueueClient.from_connection_string(azurite_connection, f"{name}-poison")
    _wait_for(lambda: _exists(poison) and bool(list(poison.peek_messages())), 30)
    [moved] = list(poison.peek_messages())
    assert base64.b64decode(moved.content) == b"doomed"
    attempts = (tmp_path / "failures.log").read_text().split("\n")
    assert [line.split()[1] for line in attempts if line] == ["1", "2", "3", "4", "5"]
    assert not list(queue.peek_messages())


def test_timer_trigger_fires(host: LocalHost, tmp_path: Path) -> None:
    _wait_for(lambda: (tmp_path / "ticks.log").exists() and len((tmp_path / "ticks.log").read_text().split()) >= 2, 5)


def _exists(queue: QueueClient) -> bool:
    try:
        queue.get_queue_properties()
        return True
    except Exception:  # noqa: BLE001
        return False
