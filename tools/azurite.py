"""Run a command with Azurite: ``python -m tools.azurite [--default-ports | --ports B,Q,T] [--location DIR] -- CMD...``.

Starts the pinned Azurite (``node_modules/.bin/azurite``, not an ``npx`` wrapper, so that
stopping it by PID really stops it) with ``--skipApiVersionCheck`` (the SDKs send a newer API
version than Azurite knows) and an on-disk ``--location`` (its in-memory mode stalls under
queue load). Without ``--default-ports`` (10000-10002) or ``--ports`` it picks free loopback
ports, so it never collides with another Azurite; on given ports, an Azurite that already
answers on all three is used as it is. It waits until every port answers, exports the
connection string as ``AzureWebJobsStorage`` and ``CorrespondenceStorage`` (unless
``--keep-settings``) and ``AZURITE_CONNECTION_STRING``, runs the command, and always stops the
Azurite it started: TERM, then KILL.

SIGINT and SIGTERM are passed on to the command; when the command then ends (0, or by that
signal), this exits 0, so that ``make run`` stopped with Ctrl-C or ``make stop`` is a clean
stop. ``--foreground`` (``make run``) takes the terminal's Ctrl-C away from make
(``tools/jobcontrol.py``); ``--pidfile`` records this process for ``make stop``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.jobcontrol import claim_pidfile, release_pidfile, take_terminal

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


DEFAULT_PORTS = [10000, 10001, 10002]
DEVELOPMENT_STORAGE = "usedevelopmentstorage=true"


def development_storage_settings(root: Path) -> list[str]:
    """Settings whose value is ``UseDevelopmentStorage=true`` (in the environment, else in
    ``local.settings.json``): that shorthand means Azurite on 10000-10002 only."""
    names = {name for name, value in os.environ.items() if value.strip().lower() == DEVELOPMENT_STORAGE}
    path = root / "local.settings.json"
    if path.exists():
        values = json.loads(path.read_text(encoding="utf-8")).get("Values", {})
        names |= {
            name
            for name, value in values.items()
            if name not in os.environ and isinstance(value, str) and value.strip().lower() == DEVELOPMENT_STORAGE
        }
    return sorted(names)


def _ports(text: str) -> list[int]:
    ports = [int(p) for p in text.split(",")]
    if len(ports) != 3:
        raise argparse.ArgumentTypeError("give three ports: blob,queue,table")
    return ports


def _exit_code(returncode: int, stopping: bool) -> int:
    if stopping and returncode in (0, -signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT, 128 + signal.SIGTERM):
        return 0
    # A negative code would reach the shell as 256 - n (e.g. 241 for SIGTERM): use 128 + n.
    return 128 - returncode if returncode < 0 else returncode


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(description="Run a command with Azurite started and stopped around it.")
    parser.add_argument("--default-ports", action="store_true", help="use 10000-10002 (the emulator's defaults)")
    parser.add_argument("--ports", type=_ports, help="blob,queue,table ports (make run)")
    parser.add_argument("--location", help="data folder (default: a temporary folder, removed afterwards)")
    parser.add_argument(
        "--keep-settings",
        action="store_true",
        help="do not override the storage settings (but point UseDevelopmentStorage=true ones at non-default ports)",
    )
    parser.add_argument("--foreground", action="store_true", help="take Ctrl-C from make (make run)")
    parser.add_argument("--pidfile", type=Path, help="write this process's PID there while it runs (make stop)")
    args = parser.parse_args(argv)
    if not command:
        parser.error("give a command after --")

    stop_signal: list[int] = []
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: object) -> None:
        stop_signal.append(signum)
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    give_back = take_terminal() if args.foreground else (lambda: None)
    owns_pidfile = False

    env = dict(os.environ)
    azurite: Azurite | None = None
    temporary: str | None = None
    fixed = args.ports or (DEFAULT_PORTS if args.default_ports else None)
    ports = fixed or free_ports(3)
    try:
        owns_pidfile = bool(args.pidfile) and claim_pidfile(args.pidfile)
        span = f"{ports[0]}, {ports[1]}, {ports[2]}"
        if fixed and all(answers(p) for p in ports):
            print(f"Azurite already answers on {span}; using it.", file=sys.stderr)
        else:
            location = Path(args.location) if args.location else Path(temporary := tempfile.mkdtemp(prefix="azurite-"))
            azurite = Azurite(ports, location)
            azurite.start()
            print(f"Azurite started on {span} (data in {location}).", file=sys.stderr)
        conn = connection_string(*ports)
        env["AZURITE_CONNECTION_STRING"] = conn
        if not args.keep_settings:
            env["AzureWebJobsStorage"] = conn
            env["CorrespondenceStorage"] = conn
        elif ports != DEFAULT_PORTS:
            for name in development_storage_settings(Path.cwd()):
                env[name] = conn
        if stop_signal:  # stopped while Azurite was starting
            return 0
        child = subprocess.Popen(command, env=env)
        while True:
            try:
                return _exit_code(child.wait(), bool(stop_signal))
            except KeyboardInterrupt:
                continue
    finally:
        if azurite is not None:
            azurite.stop()
            print("Azurite stopped.", file=sys.stderr)
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
        if owns_pidfile:
            release_pidfile(args.pidfile)
        give_back()


if __name__ == "__main__":
    sys.exit(main())
