"""Stop a background ``make run``: ``python -m tools.stop PIDFILE`` (``make stop``).

``make run`` records its ``tools.azurite`` process in a PID file (one per port). This sends
that process SIGTERM (it passes it on to the local host, then stops the Azurite it started)
and waits until it is gone. The PID is used only if the process still runs ``tools.azurite``,
so a stale file can never stop an unrelated process. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tools.jobcontrol import live_pid


def command_line(pid: int) -> str:
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.exists():
        return proc.read_bytes().replace(b"\0", b" ").decode(errors="replace")
    result = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, check=False)
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stop what make run started.")
    parser.add_argument("pidfile", type=Path)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args(argv)
    pid = live_pid(args.pidfile)
    if pid is None or "tools.azurite" not in command_line(pid):
        args.pidfile.unlink(missing_ok=True)
        print(f"nothing to stop (no make run recorded in {args.pidfile})", file=sys.stderr)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while live_pid(args.pidfile) == pid and "tools.azurite" in command_line(pid):
        if time.monotonic() > deadline:
            print(f"error: make run (PID {pid}) is still running after {args.timeout:g} s", file=sys.stderr)
            return 1
        time.sleep(0.1)
    print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
