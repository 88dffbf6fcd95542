"""What the benchmarks share: the local host with real tokens, results and the summary table."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Result:
    """One benchmark's verdict: ``ratio`` compared with ``goal`` (``<=`` or ``>=`` ``limit``)."""

    name: str
    ratio: float
    op: str  # "<=" or ">="
    limit: float
    notes: str = ""
    extra: list["Result"] = field(default_factory=list)  # further checked goals (memory ...)

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit if self.op == "<=" else self.ratio >= self.limit

    @property
    def goal(self) -> str:
        return f"{self.op} {self.limit:g}"

    def line(self) -> str:
        return f"{self.name}: ratio {self.ratio:.2f}, goal {self.goal} -> {'met' if self.met else 'NOT met'}"


def connection_string() -> str:
    connection = os.environ.get("AZURITE_CONNECTION_STRING")
    if not connection:
        sys.exit("AZURITE_CONNECTION_STRING is not set: run via `python -m tools.azurite -- ...` or `make bench`")
    for name in ("AzureWebJobsStorage", "CorrespondenceStorage"):
        os.environ[name] = connection
    return connection


@dataclass
class Served:
    host: object  # tests.support.localhost.LocalHost
    token: str  # a valid sender token (one hour)
    env: dict[str, str]  # the host's app settings (also usable in-process)

    @property
    def url(self) -> str:
        return self.host.url  # type: ignore[attr-defined]


@contextmanager
def app_env(connection: str) -> Iterator[tuple[dict[str, str], str]]:
    """App settings trusting a fresh signing key (as ``tests/support/app.py`` builds them), and a
    valid sender token for one hour."""
    from tests.support.app import app_settings
    from tests.support.tokens import TokenIssuer

    with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
        issuer = TokenIssuer(Path(tmp) / "keys")
        token = issuer.sign(issuer.altinn_claims(lifetime=3600))
        yield app_settings(issuer, connection), token


@contextmanager
def local_host(connection: str, **settings: str) -> Iterator[Served]:
    """The real app served by ``python -m tools.serve`` (a subprocess, as in the e2e tests)."""
    from tests.support.localhost import LocalHost

    with app_env(connection) as (env, token), tempfile.TemporaryDirectory(prefix="bench-host-") as tmp:
        env = {**env, "SERVE_LOG_LEVEL": "WARNING", **settings}
        host = LocalHost(env, log_path=Path(tmp) / "host.log")
        host.start()
        try:
            yield Served(host, token, env)
        finally:
            host.stop()


def machine() -> dict[str, str]:
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count() or "?"),
        "cpu": model,
        "python": platform.python_version(),
        "date": date.today().isoformat(),
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        ).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def table(results: list[Result], info: dict[str, str] | None = None) -> str:
    """The summary as a Markdown table (also what docs/benchmarks.md shows)."""
    info = info or machine()
    where = f"{info['nproc']} x {info['cpu']}, Python {info['python']}"
    rows = ["| Benchmark | Ratio | Goal | Met? | Figures | Machine | Date |", "|---|---|---|---|---|---|---|"]
    for result in results:
        for item in [result, *result.extra]:
            rows.append(
                f"| {item.name} | {item.ratio:.2f} | {item.goal} | {'yes' if item.met else '**no**'} | {item.notes} "
                f"| {where} | {info['date']} |"
            )
    return "\n".join(rows)
