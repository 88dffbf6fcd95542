"""The local host as a process: malformed requests, a port in use, stopping on a signal, and
the ``make run`` plumbing around it (``tools/azurite.py``, ``make wait``, ``make stop``, Ctrl-C
under make). Real processes, real sockets, the fixture function app."""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.localhost import ROOT, LocalHost, free_port
from tools.azurite import answers

APP = ROOT / "tests" / "fixtures" / "host_app"


def _fixture_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "RECORD_QUEUE": f"record-{uuid.uuid4().hex[:8]}",
        "FAIL_QUEUE": f"fail-{uuid.uuid4().hex[:8]}",
        "RECORD_DIR": str(tmp_path),
        **extra,
    }


@pytest.fixture
def host(azurite_connection: str, tmp_path: Path):
    with LocalHost(_fixture_env(tmp_path, AzureWebJobsStorage=azurite_connection), root=APP, log_path=tmp_path / "host.log") as running:
        yield running


def _serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "tools.serve", "--port", str(port), "--root", str(APP)]


def _wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)


def _exchange(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            answer += chunk
    return answer


# --- a malformed header is never echoed ------------------------------------------------------------
@pytest.mark.parametrize(
    "layout",
    [
        "folded",  # the token's signature on a continuation line (obsolete line folding)
        "no-colon",  # "Authorization Bearer ..." is not a header line
        "control-character",  # a byte no header value may hold
    ],
)
def test_a_malformed_authorization_header_is_echoed_neither_in_the_answer_nor_in_the_log(host: LocalHost, token_issuer, layout: str) -> None:
    token = token_issuer.altinn_token()
    header, payload, signature = token.split(".")
    line = {
        "folded": f"Authorization: Bearer {header}.{payload}\r\n .{signature}",
        "no-colon": f"Authorization Bearer {token}",
        "control-character": f"Authorization: Bearer {token}\x01",
    }[layout]
    answer = _exchange(host.port, f"GET /items/special HTTP/1.1\r\nHost: x\r\n{line}\r\n\r\n".encode())
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"400", answer[:300]
    body = rest.partition(b"\r\n\r\n")[2]
    assert b'"detail": "The request is malformed."' in body
    # One log line for it, written before the answer went out.
    _wait_for(lambda: "400 malformed request" in host.log_path.read_text(), 5)
    log = host.log_path.read_text()
    for secret in (signature, payload, signature[:16], token):
        assert secret.encode() not in answer
        assert secret not in log
    assert "Traceback" not in log
    assert "Bearer" not in log and b"Bearer" not in answer


# --- a port in use --------------------------------------------------------------------------------
def test_a_port_in_use_is_one_line_and_exit_code_2(host: LocalHost, tmp_path: Path) -> None:
    env = {**os.environ, **_fixture_env(tmp_path)}
    result = subprocess.run(_serve_command(host.port), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert lines == [
        f"error: port {host.port} is in use (another make run?); stop it (make stop) or use another port: "
        f"make run PORT={host.port + 1}, or --port {host.port + 1}"
    ]


# --- stopping on a signal -------------------------------------------------------------------------
@pytest.mark.parametrize("signum, count", [(signal.SIGINT, 1), (signal.SIGINT, 2), (signal.SIGTERM, 1)])
def test_a_signal_stops_the_host_with_a_shutdown_line_and_exit_0(azurite_connection: str, tmp_path: Path, signum: int, count: int) -> None:
    """Twice SIGINT is what Ctrl-C under tools/azurite.py delivers (the terminal and the wrapper)."""
    log = tmp_path / "host.log"
    port = free_port()
    env = {**os.environ, **_fixture_env(tmp_path, AzureWebJobsStorage=azurite_connection)}
    with log.open("wb") as out:
        process = subprocess.Popen(_serve_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: "serving" in log.read_text(), 30)
        for _ in range(count):
            process.send_signal(signum)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text()
    assert text.rstrip().endswith("serve: stopped")
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert not answers(port)


# --- tools/azurite.py around the host: make run's stop path -----------------------------------------
def test_make_stop_stops_the_wrapper_the_host_and_its_azurite_with_exit_0(tmp_path: Path) -> None:
    pidfile = tmp_path / "run.pid"
    port = free_port()
    log = tmp_path / "run.log"
    env = {**os.environ, **_fixture_env(tmp_path)}
    command = [sys.executable, "-m", "tools.azurite", "--pidfile", str(pidfile), "--", *_serve_command(port)]
    with log.open("wb") as out:
        wrapper = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: "serving" in log.read_text(), 60)
        assert pidfile.read_text().strip() == str(wrapper.pid)
        azurite_ports = [int(p) for p in log.read_text().split("Azurite started on ", 1)[1].split(" (")[0].split(", ")]
        assert all(answers(p) for p in azurite_ports)
        stop = subprocess.run(
            [sys.executable, "-m", "tools.stop", str(pidfile)], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert stop.returncode == 0, stop.stderr
        assert stop.stderr.strip() == "stopped"
        assert wrapper.wait(timeout=20) == 0
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
    text = log.read_text()
    assert "serve: stopped" in text and "Azurite stopped." in text
    assert "Traceback" not in text
    assert not pidfile.exists()
    assert not answers(port) and not any(answers(p) for p in azurite_ports)
    # A second stop finds nothing and says so.
    again = subprocess.run([sys.executable, "-m", "tools.stop", str(pidfile)], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and "nothing to stop" in again.stderr


def test_stop_never_signals_a_process_that_is_not_make_run(tmp_path: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pidfile = tmp_path / "run.pid"
        pidfile.write_text(f"{bystander.pid}\n")
        result = subprocess.run([sys.executable, "-m", "tools.stop", str(pidfile)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0 and "nothing to stop" in result.stderr
        time.sleep(0.2)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


# --- Ctrl-C under make, in a real terminal --------------------------------------------------------------
def _run_make_in_a_terminal(makefile: Path, ready: bytes, timeout: float = 90) -> tuple[int, bytes]:
    """Run make as the session leader of a new pseudo-terminal, type Ctrl-C once ``ready`` is
    printed; return make's wait status and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: make, in the foreground of the new terminal
        os.chdir(ROOT)
        os.execvp("make", ["make", "--no-print-directory", "-f", str(makefile), "run"])
    output = b""
    sent = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            readable, _, _ = select.select([fd], [], [], 0.2)
            if readable:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: every process holding the terminal has gone
                    break
                if not chunk:
                    break
                output += chunk
            if not sent and ready in output:
                os.write(fd, b"\x03")  # what the Ctrl-C key sends; the terminal makes it SIGINT
                sent = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert sent, output.decode(errors="replace")
    return status, output


@pytest.mark.parametrize("foreground", [True, False])
def test_ctrl_c_under_make_stops_cleanly_only_with_the_wrapper_in_the_foreground(tmp_path: Path, foreground: bool) -> None:
    """make kills itself with SIGINT after its recipe ends (status 130) when the terminal's
    SIGINT reaches it; ``--foreground`` keeps the SIGINT from make, so make exits 0."""
    port = free_port()
    env = " ".join(f"{name}={value}" for name, value in _fixture_env(tmp_path).items())
    flag = "--foreground " if foreground else ""
    makefile = tmp_path / "Makefile"
    makefile.write_text(
        "run:\n"
        f"\t@env {env} {sys.executable} -m tools.azurite {flag}-- "
        f"{sys.executable} -m tools.serve --port {port} --root {APP}\n"
    )
    status, output = _run_make_in_a_terminal(makefile, ready=b"serving")
    text = output.decode(errors="replace")
    assert "Traceback" not in text
    if foreground:
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, text
        assert "serve: stopped" in text and "Azurite stopped." in text
        assert "make: ***" not in text
    else:
        # Even though the host and the wrapper stopped cleanly, make dies of the SIGINT.
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, text
    assert not answers(port)


# --- make wait -------------------------------------------------------------------------------------------
def test_make_wait_returns_once_a_host_started_later_answers(azurite_connection: str, tmp_path: Path) -> None:
    later = LocalHost(_fixture_env(tmp_path, AzureWebJobsStorage=azurite_connection), root=APP, log_path=tmp_path / "host.log")
    waiting = subprocess.Popen(
        ["make", "--no-print-directory", "wait", f"PORT={later.port}", "WAIT_TIMEOUT=60"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(1.5)
        assert waiting.poll() is None  # nothing answers yet: it keeps polling
        with later:
            output, _ = waiting.communicate(timeout=30)
            assert waiting.returncode == 0, output
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert f"the API answers on http://localhost:{later.port}" in output


def test_make_wait_gives_up_with_a_clear_message() -> None:
    port = free_port()
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "wait", f"PORT={port}", "WAIT_TIMEOUT=2"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert f"error: http://localhost:{port}/health did not answer 200 within 2 s" in result.stderr
    assert time.monotonic() - started < 10


# --- a trigger whose connection is not configured -------------------------------------------------------
def test_a_trigger_without_its_connection_is_one_log_line_and_the_rest_is_served(tmp_path: Path) -> None:
    """As in Azure (the function fails to index): no fallback to another setting, no crash."""
    log = tmp_path / "host.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "AzureWebJobsStorage" not in k}
    env.update(_fixture_env(tmp_path))
    with log.open("wb") as out:
        process = subprocess.Popen(_serve_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: "serving" in log.read_text(), 30)
        answer = _exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200")
    finally:
        process.terminate()
        process.wait(timeout=20)
    text = log.read_text()
    for name in ("record_message", "always_fails"):
        assert f"{name} is not started: connection 'AzureWebJobsStorage'" in text
    assert "Traceback" not in text
