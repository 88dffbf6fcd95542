"""Cold start: a fresh host process to its first 200 from initialize, against importing the SDKs.

    python -m tools.azurite -- .venv/bin/python -m bench.bench_cold_start [--runs 5]

(or with ``AZURITE_CONNECTION_STRING`` set). Medians of ``--runs`` runs each, alternating:

* **host**: from starting ``python -m tools.serve`` until ``POST /correspondence`` answers 200
  (the client retries until the port is open; the storage containers already exist, as in
  Azure, where Bicep creates them);
* **baseline**: ``python -c "import azure.functions, azure.storage.blob, azure.storage.queue,
  pydantic, jwt"``, the imports any implementation of this API on Functions pays;
* **host's own imports**: ``python -c "import tools.serve"`` minus ``python -c pass``. aiohttp
  and the local host's modules are what Core Tools / the Functions worker pay in Azure; they
  are not deployed. The bench prints the ratio with and without them.

Then it prints, for every function module, what importing it costs (``python -X importtime``):
the total and the heaviest packages by cumulative time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Result, app_env, connection_string  # noqa: E402

GOAL_RATIO = 1.5
BASELINE_IMPORTS = "import azure.functions, azure.storage.blob, azure.storage.queue, pydantic, jwt"
PATH = "/correspondence/api/v1/correspondence"


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _post(url: str, body: bytes, token: str) -> int:
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def host_to_first_200(env: dict[str, str], token: str, body: bytes) -> float:
    from tests.support.localhost import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}{PATH}"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.serve", "--host", "127.0.0.1", "--port", str(port), "--root", str(ROOT)],
        cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = started + 60
        while True:
            try:
                status = _post(url, body, token)
            except (urllib.error.URLError, ConnectionError):
                status = None
            if status == 200:
                return time.perf_counter() - started
            if status is not None:
                raise SystemExit(f"the fresh host answered {status}")
            if process.poll() is not None or time.perf_counter() > deadline:
                raise SystemExit("the fresh host did not start")
            time.sleep(0.005)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def import_profile(module: str) -> tuple[float, list[tuple[str, float]]]:
    """Total import time of ``module`` (s) and its heaviest packages (cumulative, s)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    total = 0.0
    heavy: list[tuple[str, float]] = []
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        cumulative, name = int(match.group(2)) / 1e6, match.group(4)
        if name == module:
            total = cumulative
            continue
        if _listed(name):
            heavy.append((name, cumulative))
    heavy.sort(key=lambda item: -item[1])
    return total, heavy


# Packages worth naming: a distribution's top level, the Azure SDKs, the app's own modules.
_AZURE = {"azure.functions", "azure.storage.blob", "azure.storage.queue", "azure.data.tables", "azure.core", "azure.identity"}
_SKIP = {"azure", "site", "encodings", "shared", "tools"}


def _listed(name: str) -> bool:
    parts = name.split(".")
    if name in _SKIP or any(part.startswith("_") for part in parts):
        return False
    if parts[0] == "azure":
        return name in _AZURE
    if parts[0] == "shared":
        return len(parts) == 2
    return len(parts) == 1


def function_modules() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/function.json"))


def print_import_profiles(top: int = 6) -> None:
    print("[cold start] import time of each function module (python -X importtime; cumulative, heaviest first):")
    for module in function_modules():
        total, heavy = import_profile(module)
        listed = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in heavy[:top])
        print(f"  {module:<28} {total * 1000:5.0f} ms: {listed}")


def run(runs: int = 5) -> Result:
    connection = connection_string()
    python = sys.executable
    body = None
    with app_env(connection) as (env, token):
        from bench.bench_initialize import bodies

        body = bodies(1, 1, "cold-start")[0]
        env = {**env, "SERVE_LOG_LEVEL": "WARNING"}
        host_to_first_200(env, token, body)  # creates the containers and queues; warms the disk cache
        _timed([python, "-c", BASELINE_IMPORTS])
        host, baseline, own, bare = [], [], [], []
        for _ in range(runs):
            baseline.append(_timed([python, "-c", BASELINE_IMPORTS]))
            host.append(host_to_first_200(env, token, body))
            own.append(_timed([python, "-c", "import tools.serve"]))
            bare.append(_timed([python, "-c", "pass"]))
    host_s, baseline_s = statistics.median(host), statistics.median(baseline)
    own_s = max(statistics.median(own) - statistics.median(bare), 0.0)
    ratio = host_s / baseline_s
    adjusted = (host_s - own_s) / baseline_s
    print(f"[cold start] medians of {runs} runs")
    print(f"  baseline (python -c \"{BASELINE_IMPORTS}\"): {baseline_s * 1000:6.0f} ms")
    print(f"  fresh host to first 200 from initialize          : {host_s * 1000:6.0f} ms   "
          f"(runs: {', '.join(f'{t * 1000:.0f}' for t in host)})")
    print(f"  of which the local host's own imports (aiohttp, tools.serve; not deployed): {own_s * 1000:.0f} ms")
    print(f"  ratio {ratio:.2f}; without the local host's own imports {adjusted:.2f}")
    result = Result("Cold start to first 200 (host/imports)", ratio, "<=", GOAL_RATIO,
                    notes=f"{host_s * 1000:.0f} vs {baseline_s * 1000:.0f} ms; {adjusted:.2f} without the local host's imports")
    print(f"  {result.line()}")
    print_import_profiles()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Cold start of the host vs importing the SDKs")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    run(args.runs)


if __name__ == "__main__":
    main()
