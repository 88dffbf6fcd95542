"""Run a command with Azurite: ``python -m tools.azurite [--default-ports] [--location DIR] -- CMD...``.

Starts the pinned Azurite (``node_modules/.bin/azurite``, not an ``npx`` wrapper, so that
stopping it by PID really stops it) with ``--skipApiVersionCheck`` (the SDKs send a newer API
version than Azurite knows) and an on-disk ``--location`` (its in-memory mode stalls under
queue load). Without ``--default-ports`` it picks free loopback ports, so it never collides
with another Azurite. It waits until every port answers, exports the connection string as
``AzureWebJobsStorage`` and ``CorrespondenceStorage`` (unless ``--keep-settings``) and
``AZURITE_CONNECTION_STRING``, runs the command, and always stops Azurite: TERM, then KILL.
With ``--default-ports``, an Azurite that already answers on 10000-10002 is used as it is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Azurite's documented, public development account key; not a secret.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # nosec B105


def connection_string(blob: int, queue: int, table: int, host: str = "127.0.0.1") -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://{host}:{blob}/{DEV_ACCOUNT};"
        f"QueueEndpoint=http://{host}:{queue}/{DEV_ACCOUNT};"
        f"TableEndpoint=http://{host}:{table}/{DEV_ACCOUNT};"
    )


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    """Linux: Azurite gets SIGTERM when the process that started it dies, even by SIGKILL
    (a test run killed by a timeout would otherwise leave it running)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: stop() remains the way to stop it


class Azurite:
    """A started Azurite process; also used by tests that stop and restart storage."""

    def __init__(self, ports: list[int], location: Path) -> None:
        self.ports = ports
        self.location = location
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def connection_string(self) -> str:
        return connection_string(*self.ports)

    def start(self, timeout: float = 30) -> None:
        binary = ROOT / "node_modules" / ".bin" / "azurite"
        if not binary.exists():
            raise SystemExit("Azurite is not installed: run `make install` (npm ci)")
        blob, queue, table = self.ports
        self.location.mkdir(parents=True, exist_ok=True)
        command = [
            str(binary), "--silent", "--skipApiVersionCheck", "--loose",
            "--location", str(self.location),
            "--blobHost", "127.0.0.1", "--blobPort", str(blob),
            "--queueHost", "127.0.0.1", "--queuePort", str(queue),
            "--tableHost", "127.0.0.1", "--tablePort", str(table),
        ]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - runs before exec, no threads involved
        )
        deadline = time.monotonic() + timeout
        while not all(answers(p) for p in self.ports):
            if self.process.poll() is not None:
                raise SystemExit(f"Azurite exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit("Azurite did not answer in time")
            time.sleep(0.1)

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        self.process = None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(description="Run a command with Azurite started and stopped around it.")
    parser.add_argument("--default-ports", action="store_true", help="use 10000-10002 (make run)")
    parser.add_argument("--location", help="data folder (default: a temporary folder, removed afterwards)")
    parser.add_argument("--keep-settings", action="store_true", help="do not override the storage settings")
    args = parser.parse_args(argv)
    if not command:
        parser.error("give a command after --")

    env = dict(os.environ)
    azurite: Azurite | None = None
    temporary: str | None = None
    ports = [10000, 10001, 10002] if args.default_ports else free_ports(3)
    if args.default_ports and all(answers(p) for p in ports):
        print("Azurite already answers on 10000-10002; using it.", file=sys.stderr)
    else:
        location = Path(args.location) if args.location else Path(temporary := tempfile.mkdtemp(prefix="azurite-"))
        azurite = Azurite(ports, location)
        azurite.start()
    conn = connection_string(*ports)
    env["AZURITE_CONNECTION_STRING"] = conn
    if not args.keep_settings:
        env["AzureWebJobsStorage"] = conn
        env["CorrespondenceStorage"] = conn

    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: object) -> None:
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        child = subprocess.Popen(command, env=env)
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue
    finally:
        if azurite is not None:
            azurite.stop()
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
