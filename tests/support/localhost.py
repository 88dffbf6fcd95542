"""Start the local Functions host (``python -m tools.serve``) as a real process for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalHost:
    def __init__(self, env: dict[str, str], root: Path = ROOT, log_path: Path | None = None) -> None:
        self.port = free_port()
        self.root = root
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "LocalHost":
        # Absolute URLs in answers (the search's Link header) name this host, as a deployment's
        # PUBLIC_BASE_URL names the app.
        env = {**os.environ, "PUBLIC_BASE_URL": self.url, **self.env}
        env.setdefault("PYTHONPATH", str(ROOT))
        self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.serve", "--host", "127.0.0.1", "--port", str(self.port), "--root", str(self.root)],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"local host exited with {self.process.returncode}; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("local host did not start in time")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    def __enter__(self) -> "LocalHost":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
