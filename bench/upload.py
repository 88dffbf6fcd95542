"""``bench/bench_upload.py`` with a data source that costs the client (almost) nothing.

    python -m tools.azurite -- .venv/bin/python -m bench.upload [--single-mb 100] [--chunked-mb 1024]
        [--chunk-mb 32] [--repeat 3] [--shake-pieces] [--original]

``bench_upload`` makes its file with SHAKE-256 (``tests.support.attachments.piece``), about
0.3-0.5 GB/s on the 2-CPU machine. That cost is not the same on both sides: the SDK baseline
reads the file from 4 threads, so generating overlaps its uploads, while the API client has
to produce the whole request body (or chunk) before the host, which buffers a body as
Functions does, can start staging it. The 100 MB case then timed the client's generator as
much as the service. Here every piece is 4 KiB of SHAKE-256 output repeated (different for
every piece and seed, still reproducible, made at memory speed), for both sides alike, so the
ratio compares the service with the SDK. ``--shake-pieces`` keeps the original generator.

It runs ``bench_upload``'s own steps (``api_single``, ``api_chunked``, ``raw_upload``, the
host's VmHWM), except that the one-request case, about half a second per side, is repeated
``--repeat`` times alternating API and SDK and compared by medians (one sample of each swung
the ratio from 0.8 to 1.9 on the shared machine). Its last line is the same JSON as
``bench_upload``'s. ``--original`` runs ``bench_upload.main`` unchanged instead.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bench_upload  # noqa: E402
from tests.support import attachments as att  # noqa: E402

_SEED_BYTES = 4096


def cheap_piece(index: int, seed: int = 1, size: int = att.PIECE) -> bytes:
    """The ``index``-th piece of a reproducible file: a 4 KiB SHAKE-256 pattern repeated."""
    pattern = hashlib.shake_256(f"{seed}:{index}".encode()).digest(_SEED_BYTES)
    return (pattern * (size // _SEED_BYTES + 1))[:size]


def run(single_mb: int, chunked_mb: int, chunk_mib: int, repeat: int) -> dict:
    from bench.common import connection_string, local_host

    connection = connection_string()
    single, total, chunk = single_mb * bench_upload.MB, chunked_mb * bench_upload.MB, chunk_mib * bench_upload.MIB
    api_s: list[float] = []
    raw_s: list[float] = []
    single_growth = 0
    with local_host(connection) as served:
        url, token, pid = served.url, served.token, served.host.process.pid  # type: ignore[attr-defined]
        warm = bench_upload.new_attachment(url, token, "warm.txt")
        att.http_upload_chunk(url, token, warm, 0, bench_upload.MIB, bench_upload.MIB, seed=1)
        for i in range(repeat):
            att.reset_peak_memory(pid)
            base = att.process_memory(pid)["VmRSS"]
            api_s.append(bench_upload.api_single(url, token, single, seed=5 + i))
            single_growth = max(single_growth, att.process_memory(pid)["VmHWM"] - base)
            raw_s.append(bench_upload.raw_upload(connection, single, seed=5 + i))
        att.reset_peak_memory(pid)
        base = att.process_memory(pid)["VmRSS"]
        api_c, _ = bench_upload.api_chunked(url, token, total, chunk, seed=6)
        chunked_growth = att.process_memory(pid)["VmHWM"] - base
        raw_c = bench_upload.raw_upload(connection, total, seed=6)
    api_1, raw_1 = statistics.median(api_s), statistics.median(raw_s)

    def line(label: str, api: float, raw: float, size: int) -> str:
        return (f"{label:<34} API {api:6.2f} s ({size / bench_upload.MB / api:6.1f} MB/s)   raw SDK {raw:6.2f} s "
                f"({size / bench_upload.MB / raw:6.1f} MB/s)   API/raw {api / raw:4.2f}")

    print(f"block size {bench_upload.blocks.BLOCK_SIZE // bench_upload.MIB} MiB, "
          f"{bench_upload.blocks.UPLOAD_CONCURRENCY} blocks in flight, per-block Content-MD5")
    print(line(f"{single_mb} MB, one request (median of {repeat})", api_1, raw_1, single)
          + f"   [API {', '.join(f'{t:.2f}' for t in api_s)}; raw {', '.join(f'{t:.2f}' for t in raw_s)}]")
    print(line(f"{chunked_mb} MB, {chunk_mib} MiB chunks", api_c, raw_c, total))
    print(f"host peak RSS growth: one request {single_growth / bench_upload.MIB:.0f} MiB; "
          f"chunked {chunked_growth / bench_upload.MIB:.0f} MiB (2 x chunk + 64 MB = {(2 * chunk) / bench_upload.MIB + 64:.0f} MiB)")
    figures = {
        "single_api_s": round(api_1, 3), "single_raw_s": round(raw_1, 3), "single_ratio": round(api_1 / raw_1, 2),
        "chunked_api_s": round(api_c, 3), "chunked_raw_s": round(raw_c, 3), "chunked_ratio": round(api_c / raw_c, 2),
        "single_peak_growth_mib": round(single_growth / bench_upload.MIB),
        "chunked_peak_growth_mib": round(chunked_growth / bench_upload.MIB),
    }
    print(json.dumps(figures))
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="API upload vs raw SDK upload_blob, cheap data source (Azurite)")
    parser.add_argument("--single-mb", type=int, default=100)
    parser.add_argument("--chunked-mb", type=int, default=1024)
    parser.add_argument("--chunk-mb", type=int, default=32, help="chunk size in MiB")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the one-request case (medians)")
    parser.add_argument("--shake-pieces", action="store_true", help="bench_upload's SHAKE-256 data source")
    parser.add_argument("--original", action="store_true", help="run bench_upload.main unchanged")
    args = parser.parse_args(argv)
    if args.shake_pieces:
        print("data source: SHAKE-256 pieces (bench_upload's own)")
    else:
        att.piece = cheap_piece  # deterministic_bytes and bench_upload's GeneratedFile use it
        print("data source: cheap reproducible pieces on both sides (see bench/upload.py)")
    if args.original:
        bench_upload.main(["--single-mb", str(args.single_mb), "--chunked-mb", str(args.chunked_mb),
                           "--chunk-mb", str(args.chunk_mb)])
        return
    run(args.single_mb, args.chunked_mb, args.chunk_mb, args.repeat)


if __name__ == "__main__":
    main()
