"""Direct upload benchmark: ``upload/url`` + a standard SDK upload + ``upload/complete`` through
the local host, against the raw ``upload_blob`` of the same bytes in the same run.

    python -m tools.azurite -- .venv/bin/python -m bench.bench_direct_upload [--mb 1024]

Both sides upload with the same SDK call and settings: 8 MiB blocks, ``max_concurrency`` 4,
per-block Content-MD5, the cheap reproducible data source of ``bench/upload.py``. The direct
side also pays for its two API calls and for complete: the server-side copy of the staging
blob into place, then the MD5 of the whole file from ranged parallel reads of that copy. After
the run, complete is profiled in this process on the same blob: the copy alone, the ranged
reads alone (no hashing), and hashlib.md5 over the same bytes in memory (CPU only). The last
line is JSON, which ``bench/__main__.py`` judges.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import bench_upload  # noqa: E402
from bench.upload import cheap_piece  # noqa: E402
from tests.support import attachments as att  # noqa: E402

MB = bench_upload.MB
MIB = bench_upload.MIB
API = "/correspondence/api/v1/attachment"


def direct(url: str, token: str, size: int, seed: int) -> tuple[float, float, float, str]:
    """(url call, SDK upload, complete) seconds, and the attachment id."""
    from azure.storage.blob import BlobClient
    from shared.storage import blocks

    attachment_id = bench_upload.new_attachment(url, token, "direct.zip")
    started = time.perf_counter()
    status, answer = att.http_json(url, "POST", f"{API}/{attachment_id}/upload/url?size={size}", token)
    assert status == 200, answer
    asked = time.perf_counter()
    blob = BlobClient.from_blob_url(answer["uploadUrl"], max_block_size=blocks.BLOCK_SIZE,
                                    max_single_put_size=blocks.BLOCK_SIZE)
    blob.upload_blob(bench_upload.GeneratedFile(size, seed), length=size, max_concurrency=blocks.UPLOAD_CONCURRENCY,
                     validate_content=True)
    uploaded = time.perf_counter()
    status, overview = att.http_json(url, "POST", f"{API}/{attachment_id}/upload/complete", token)
    done = time.perf_counter()
    assert status == 200 and overview["status"] == "Published", overview
    return asked - started, uploaded - asked, done - uploaded, attachment_id


def profile_complete(attachment_id: str, size: int) -> dict[str, float]:
    """Where complete's time goes, measured on the published blob in this process."""
    from shared.storage import blocks, clients, direct_upload

    blob = blocks.blob_client(uuid.UUID(attachment_id))
    # The copy: the published blob to a scratch name, as complete copies the staging blob.
    scratch = clients.blob_service().get_blob_client(clients.ATTACHMENTS_CONTAINER, f"bench-copy-{uuid.uuid4()}")
    started = time.perf_counter()
    scratch.start_copy_from_url(blob.url)
    while scratch.get_blob_properties().copy.status == "pending":
        time.sleep(0.05)
    copy_s = time.perf_counter() - started
    scratch.delete_blob()

    class Discard:
        def update(self, data: bytes) -> None:
            pass

    started = time.perf_counter()
    blocks.hash_committed(blob, Discard(), 0, size, direct_upload.HASH_RANGE, concurrency=direct_upload.HASH_CONCURRENCY)
    reads_s = time.perf_counter() - started
    started = time.perf_counter()
    direct_upload.md5_of_attachment(uuid.UUID(attachment_id), size)
    reads_md5_s = time.perf_counter() - started
    data = cheap_piece(0, 1, 8 * MIB)
    hasher = hashlib.md5()
    started = time.perf_counter()
    for _ in range(size // len(data)):
        hasher.update(data)
    md5_cpu_s = (time.perf_counter() - started) * size / (size // len(data) * len(data))
    return {"copy_s": round(copy_s, 3), "reads_s": round(reads_s, 3), "reads_md5_s": round(reads_md5_s, 3),
            "md5_cpu_s": round(md5_cpu_s, 3)}


def run(size_mb: int) -> dict:
    from bench.common import connection_string, local_host

    att.piece = cheap_piece  # bench_upload.GeneratedFile uses it: the same cheap bytes on both sides
    connection = connection_string()
    for name in ("AzureWebJobsStorage", "CorrespondenceStorage"):  # the profile's clients, in this process
        os.environ[name] = connection
    size = size_mb * MB
    with local_host(connection) as served:
        url, token = served.url, served.token  # type: ignore[attr-defined]
        warm = bench_upload.new_attachment(url, token, "warm.zip")
        status, answer = att.http_json(url, "POST", f"{API}/{warm}/upload/url?size=1", token)
        assert status == 200, answer
        asked, uploaded, completed, attachment_id = direct(url, token, size, seed=8)
        raw = bench_upload.raw_upload(connection, size, seed=8)
    total = asked + uploaded + completed
    print(f"{size_mb} MB direct: url {asked:.2f} s + SDK upload {uploaded:.2f} s + complete {completed:.2f} s "
          f"= {total:.2f} s; raw upload_blob {raw:.2f} s; ratio {total / raw:.2f}")
    profile = profile_complete(attachment_id, size)
    print(f"complete, profiled on the same {size_mb} MB blob: server-side copy {profile['copy_s']:.2f} s; "
          f"ranged reads ({8} x 8 MiB in flight) {profile['reads_s']:.2f} s; reads + MD5 {profile['reads_md5_s']:.2f} s; "
          f"MD5 CPU alone {profile['md5_cpu_s']:.2f} s")
    figures = {"direct_s": round(total, 3), "url_s": round(asked, 3), "sdk_upload_s": round(uploaded, 3),
               "complete_s": round(completed, 3), "raw_s": round(raw, 3), "ratio": round(total / raw, 2), **profile}
    print(json.dumps(figures))
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Direct upload (url + SDK + complete) vs raw upload_blob (Azurite)")
    parser.add_argument("--mb", type=int, default=1024)
    args = parser.parse_args(argv)
    run(args.mb)


if __name__ == "__main__":
    main()
