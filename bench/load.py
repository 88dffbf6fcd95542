"""Load test: concurrent clients mixing initialize and 50 KiB uploads through the local host.

    python -m tools.azurite -- .venv/bin/python -m bench.load [--seconds 120] [--clients 20]

(or with ``AZURITE_CONNECTION_STRING`` set; ``make load``). The shape of upstream's weekly
load test (behaviour §9: 20 virtual users for 15 minutes of
``create-and-upload-correspondence`` with a 50 KiB file, then of reads, which this sender-side
API does not serve), mixed here with the plain ``create-correspondence``, on one machine: ``--clients`` tasks
of one aiohttp session, each looping until ``--seconds`` have passed over two iterations in
turn (the clients start at alternate ones):

* **initialize**: ``POST /correspondence``, one recipient, published at once;
* **upload**: ``POST /attachment`` (initialize), ``POST /attachment/{id}/upload`` with 51,200
  random bytes, then ``POST /correspondence`` with ``existingAttachments: [id]``: what
  upstream's multipart ``create-and-upload`` does in one request.

Every request must answer 2xx (upstream's pass criterion: ``http_req_failed`` rate 0); a
timeout (``--timeout``, 30 s) or any other status is an error. Prints, per operation, the
count, the rate and p50/p95/p99/max latency in ms, and the errors; exits 1 on any error.
The host's publisher (a queue trigger in the same process) publishes every correspondence
meanwhile, as in production. The client, the host and Azurite share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

API = "/correspondence/api/v1"
FILE_SIZE = 51_200  # upstream's load-test file: 50 KiB of random bytes
INITIALIZE = "initialize"
INITIALIZE_ATTACHMENT = "initialize attachment"
UPLOAD = "upload 50 KiB"
INITIALIZE_WITH_ATTACHMENT = "initialize with attachment"
OPERATIONS = (INITIALIZE, INITIALIZE_ATTACHMENT, UPLOAD, INITIALIZE_WITH_ATTACHMENT)


@dataclass
class Report:
    seconds: float
    clients: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # ms
    errors: Counter[str] = field(default_factory=Counter)  # "operation: status or exception"
    error_samples: list[str] = field(default_factory=list)
    iterations: Counter[str] = field(default_factory=Counter)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def request_count(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + self.error_count

    def stats(self, operation: str) -> dict[str, float]:
        values = sorted(self.latencies.get(operation, []))
        if not values:
            return {"count": 0}
        return {
            "count": len(values),
            "per_second": len(values) / self.seconds,
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
            "max": values[-1],
        }

    def table(self) -> str:
        lines = [
            f"{self.clients} clients, {self.seconds:.0f} s: {self.request_count} requests "
            f"({self.request_count / self.seconds:.1f}/s), {self.error_count} errors; iterations {dict(self.iterations)}",
            f"{'operation':<28}{'count':>7}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}",
        ]
        for operation in OPERATIONS:
            s = self.stats(operation)
            if not s["count"]:
                lines.append(f"{operation:<28}{0:>7}")
                continue
            lines.append(
                f"{operation:<28}{s['count']:>7}{s['per_second']:>8.1f}{s['p50']:>9.0f}{s['p95']:>9.0f}{s['p99']:>9.0f}{s['max']:>9.0f}"
            )
        if self.errors:
            lines.append(f"errors: {dict(self.errors)}; first: {self.error_samples[:3]}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "clients": self.clients,
            "requests": self.request_count,
            "errors": dict(self.errors),
            "operations": {op: self.stats(op) for op in OPERATIONS},
        }


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(min(rank, len(ordered))) - 1]


def correspondence_body(attachment_id: Optional[str] = None) -> dict[str, Any]:
    from tests.support.functions import valid_request

    body = valid_request(recipients=["07827199405"])
    if attachment_id is not None:
        body["existingAttachments"] = [attachment_id]
    return body


async def run_load(url: str, token: str, seconds: float, clients: int, timeout: float = 30.0) -> Report:
    """Drive the host at ``url`` with ``clients`` tasks for ``seconds``; never raises on HTTP errors."""
    import aiohttp

    report = Report(seconds=seconds, clients=clients)
    headers = {"Authorization": f"Bearer {token}"}
    data = os.urandom(FILE_SIZE)
    deadline = time.monotonic() + seconds

    async def call(session: aiohttp.ClientSession, operation: str, path: str, **kwargs: Any) -> Optional[Any]:
        started = time.perf_counter()
        try:
            async with session.post(url + API + path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs) as response:
                body = await response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if 200 <= response.status < 300:
                    report.latencies[operation].append(elapsed)
                    return json.loads(body) if body else None
                report.errors[f"{operation}: {response.status}"] += 1
                if len(report.error_samples) < 10:
                    report.error_samples.append(f"{operation} {response.status} {body[:200]!r}")
        except asyncio.TimeoutError:
            report.errors[f"{operation}: timeout"] += 1
        except aiohttp.ClientError as exc:
            report.errors[f"{operation}: {type(exc).__name__}"] += 1
        return None

    async def initialize(session: aiohttp.ClientSession) -> None:
        await call(session, INITIALIZE, "/correspondence", json=correspondence_body())
        report.iterations["initialize"] += 1

    async def upload(session: aiohttp.ClientSession) -> None:
        attachment_id = await call(
            session, INITIALIZE_ATTACHMENT, "/attachment",
            json={"resourceId": "ttd-corr-1", "fileName": "testfile.txt", "sendersReference": "load"},
        )
        if attachment_id is None:
            return
        stored = await call(
            session, UPLOAD, f"/attachment/{attachment_id}/upload",
            data=data, headers={"Content-Type": "application/octet-stream"},
        )
        if stored is None:
            return
        await call(session, INITIALIZE_WITH_ATTACHMENT, "/correspondence", json=correspondence_body(attachment_id))
        report.iterations["upload"] += 1

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        step = index
        while time.monotonic() < deadline:
            await (initialize if step % 2 == 0 else upload)(session)
            step += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        started = time.monotonic()
        await asyncio.gather(*(client(session, i) for i in range(clients)))
        report.seconds = time.monotonic() - started
    return report


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120, help="how long to send (default 120)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--timeout", type=float, default=30, help="per request, seconds (default 30)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    connection = os.environ.get("AZURITE_CONNECTION_STRING")
    if not connection:
        sys.exit("AZURITE_CONNECTION_STRING is not set: run via `python -m tools.azurite -- ...` or `make load`")

    from tests.support.app import app_settings
    from tests.support.localhost import LocalHost
    from tests.support.tokens import TokenIssuer

    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        issuer = TokenIssuer(Path(tmp) / "keys")
        token = issuer.sign(issuer.altinn_claims(lifetime=int(args.seconds) + 600))
        host = LocalHost({**app_settings(issuer, connection), "SERVE_LOG_LEVEL": "WARNING"}, log_path=Path(tmp) / "host.log")
        host.start()
        try:
            report = asyncio.run(run_load(host.url, token, args.seconds, args.clients, args.timeout))
        finally:
            host.stop()
    print(report.table())
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")
    return 1 if report.error_count else 0


if __name__ == "__main__":
    sys.exit(main())
