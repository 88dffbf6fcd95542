"""Every benchmark, each against a baseline measured in the same run on the same Azurite.

    make bench        # = python -m tools.azurite -- .venv/bin/python -m bench

or ``python -m tools.azurite -- .venv/bin/python -m bench [--only NAME ...] [--quick]``.
Prints each benchmark's figures, ratio and goal, then the summary table that
docs/benchmarks.md shows (``--markdown FILE`` also writes it to a file). Exits 0 even when a
goal is missed: the table says so (``--strict`` exits 1 instead).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Result, connection_string, machine, table  # noqa: E402

UPLOAD_GOAL = 1.3
MIB = 1024 * 1024


def validation(quick: bool) -> list[Result]:
    """``bench/bench_validation.py``'s measurement: a maximal request, parsed and checked,
    against ``json.loads`` of the same bytes."""
    from bench import bench_validation as bv

    raw = json.dumps(bv.maximal_request()).encode("utf-8")
    data = json.loads(raw)
    bv.validate(data)  # warm up, and prove the request is valid
    repeat = 3 if quick else 7
    loads = bv._best(lambda: json.loads(raw), 200, repeat)
    checked = bv._best(lambda: bv.validate(data), 50, repeat)
    ratio = checked / loads
    print(f"[validation] maximal request {len(raw):,} bytes: json.loads {loads * 1e6:.0f} us, "
          f"parse + pure rules {checked * 1e6:.0f} us")
    result = Result("Validation of a maximal request (time validation/json.loads)", ratio, "<=", bv.GOAL_RATIO,
                    notes=f"{checked * 1e3:.1f} vs {loads * 1e3:.1f} ms for {len(raw) / 1000:.0f} KB")
    print(f"  {result.line()}")
    return [result]


def cold_start(quick: bool) -> list[Result]:
    from bench import bench_cold_start

    return [bench_cold_start.run(runs=3 if quick else 5)]


def initialize(quick: bool) -> list[Result]:
    from bench import bench_initialize

    return bench_initialize.run(quick)


def _streamed(label: str, command: list[str]) -> dict:
    """Run a benchmark in a process of its own, its output streamed; its figures are the JSON
    line it prints."""
    print(f"[{label}] {' '.join(command[1:])}")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    figures = None
    assert process.stdout is not None
    try:
        for line in process.stdout:
            print(f"  {line}", end="")
            if line.startswith("{"):
                figures = json.loads(line)
    finally:
        if process.poll() is None and figures is None:  # interrupted: stop it (it stops its host)
            process.terminate()
    if process.wait() != 0 or figures is None:
        raise SystemExit(f"{command[2]} failed ({process.returncode})")
    return figures


def upload(quick: bool) -> list[Result]:
    """``bench/bench_upload.py`` (through ``bench/upload.py``: a cheap data source on both
    sides) in a process of its own, its output streamed, judged here."""
    single_mb, chunked_mb, chunk_mib = (20, 128, 32) if quick else (100, 1024, 32)
    command = [sys.executable, "-m", "bench.upload", "--single-mb", str(single_mb),
               "--chunked-mb", str(chunked_mb), "--chunk-mb", str(chunk_mib)]
    figures = _streamed("upload", command)
    chunk_limit = 2 * chunk_mib + 64
    # One request is its own chunk: the host holds the body (as Functions does), so the bound
    # is 2 x body + 64 MB there.
    single_limit = 2 * single_mb * 1_000_000 / MIB + 64
    results = [
        Result(f"Upload {single_mb} MB in one request (time API/raw)", figures["single_ratio"], "<=", UPLOAD_GOAL,
               notes=f"{figures['single_api_s']:.2f} vs {figures['single_raw_s']:.2f} s"),
        Result(f"Upload {chunked_mb} MB in {chunk_mib} MiB chunks (time API/raw)", figures["chunked_ratio"], "<=",
               UPLOAD_GOAL, notes=f"{figures['chunked_api_s']:.2f} vs {figures['chunked_raw_s']:.2f} s"),
        Result(f"Host peak memory growth, {chunked_mb} MB chunked (growth / (2 x chunk + 64 MB))",
               figures["chunked_peak_growth_mib"] / chunk_limit, "<=", 1.0,
               notes=f"{figures['chunked_peak_growth_mib']} of {chunk_limit} MiB"),
        Result(f"Host peak memory growth, {single_mb} MB one request (growth / (2 x body + 64 MB))",
               figures["single_peak_growth_mib"] / single_limit, "<=", 1.0,
               notes=f"{figures['single_peak_growth_mib']} of {single_limit:.0f} MiB"),
    ]
    for result in results:
        print(f"  {result.line()}")
    return results


DIRECT_UPLOAD_GOAL = 1.1


def direct_upload(quick: bool) -> list[Result]:
    """``bench/bench_direct_upload.py`` in a process of its own: upload/url + the SDK's
    upload_blob to the URL + upload/complete, against upload_blob of the same bytes."""
    size_mb = 256 if quick else 1024
    command = [sys.executable, "-m", "bench.bench_direct_upload", "--mb", str(size_mb)]
    figures = _streamed("direct-upload", command)
    result = Result(
        f"Upload {size_mb} MB direct (url + SDK upload + complete)/raw upload_blob", figures["ratio"], "<=",
        DIRECT_UPLOAD_GOAL,
        notes=f"{figures['direct_s']:.2f} vs {figures['raw_s']:.2f} s; complete {figures['complete_s']:.2f} s "
              f"(copy {figures['copy_s']:.2f}, reads {figures['reads_s']:.2f}, MD5 CPU {figures['md5_cpu_s']:.2f})",
    )
    print(f"  {result.line()}")
    return [result]


BENCHMARKS: dict[str, Callable[[bool], list[Result]]] = {
    "validation": validation,
    "cold-start": cold_start,
    "initialize": initialize,
    "upload": upload,
    "direct-upload": direct_upload,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks (each against a baseline in the same run)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke test, not figures")
    parser.add_argument("--markdown", help="also write the summary table to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    # A TERM (e.g. from tools.azurite or CI) unwinds like Ctrl-C, so the hosts we started stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    connection_string()  # fail early without Azurite
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}; commit {info['commit']}; {info['date']}")
    print("The load generators, the host and Azurite share these CPUs: every figure is a ratio "
          "against a baseline measured in this run on the same Azurite.\n")
    started = time.perf_counter()
    results: list[Result] = []
    for name, benchmark in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        began = time.perf_counter()
        results += benchmark(args.quick)
        print(f"({name}: {time.perf_counter() - began:.0f} s)\n")
    summary = table(results, info)
    print(summary)
    print(f"\n{sum(r.met for r in results)} of {len(results)} goals met; {time.perf_counter() - started:.0f} s in all"
          + (" (--quick: smoke test sizes, not figures)" if args.quick else ""))
    if args.markdown:
        Path(args.markdown).write_text(summary + "\n", encoding="utf-8")
    return 1 if args.strict and not all(r.met for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
