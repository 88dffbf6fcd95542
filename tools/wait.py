"""Wait until the API answers: ``python -m tools.wait [--port 7071] [--timeout 180]`` (``make wait``).

Polls ``http://localhost:PORT/health`` until it answers 200, so that a script can start
``make run &`` and go on once the API is up (a first ``make run`` installs for a minute or
two before it serves). Exit 0 when it answers, 1 with one line on stderr when it does not
in time. Standard library only: it runs with the system Python while ``make run`` may still
be creating ``.venv``.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def health_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback URL built here
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait(url: str, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if health_answers(url):
            return True
        if time.monotonic() + interval > deadline:
            return False
        time.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wait until the local API's /health answers 200.")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--timeout", type=float, default=180, help="seconds (default 180)")
    args = parser.parse_args(argv)
    url = f"http://{args.host}:{args.port}/health"
    print(f"waiting for {url} ...", file=sys.stderr)
    if wait(url, args.timeout):
        print(f"the API answers on http://{args.host}:{args.port}", file=sys.stderr)
        return 0
    print(
        f"error: {url} did not answer 200 within {args.timeout:g} s; is make run running (see its output)?",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
