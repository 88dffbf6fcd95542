"""Bulk sending as users feel it: initialize through the local host with its publisher working,
against the least durable work any design needs, in one run.

    python -m tools.azurite -- .venv/bin/python -m bench.bench_initialize [--quick]

(or with ``AZURITE_CONNECTION_STRING`` set). Every request is due at once, so the host's
publisher (a queue trigger in the same process, as on one Functions instance) publishes while
the clients send, exactly what a bulk sender meets.

**Baseline** (in this process, on the same Azurite, same concurrency): per request, one blob
put of the request document (the very JSON bytes the client sends) and one queue message (a
small base64 reference, as the trigger reads it) - the least any design must write durably
before answering 200. The **same-work** baseline (secondary) does what initialize does:
message, content blob, state entity.

Cases (rounds alternate baseline and API; before each round the publisher has drained, so a
round never pays for another's publishing):

* **single**: 1 recipient, 16 clients: API req/s / baseline req/s (goal >= 0.5); and the p95
  time from a 200 to Published, read from the stored status history afterwards;
* **bulk**: 500 recipients, 2 clients: API req/s / baseline req/s (goal >= 0.2);
* **burst**: 10 requests of 500 recipients from 2 clients: correspondences per second from
  the first request until the last correspondence is Published, over the initialize rate
  (first request until the last 200) (goal >= 0.8, no errors); a 50 MB upload started with the
  burst answers 200 within 3x its idle time.

The clients, the host and Azurite share the machine's cores; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Result, Served, connection_string, local_host  # noqa: E402

PATH = "/correspondence/api/v1/correspondence"
RESOURCE = "ttd-corr-1"
ORG = "991825827"
BASELINE_CONTAINER = "bench-baseline"
BASELINE_QUEUE = "bench-baseline-publish"
BASELINE_TABLE = "BenchBaseline"
SINGLE_GOAL, BULK_GOAL, KEEP_UP_GOAL, UPLOAD_GOAL = 0.5, 0.2, 0.8, 3.0


def recipients(count: int) -> list[str]:
    if count == 1:
        return [f"urn:altinn:organization:identifier-no:{ORG}"]
    return [f"urn:altinn:organization:identifier-no:{310_000_000 + n}" for n in range(count)]


def bodies(count: int, recipient_count: int, tag: str) -> list[bytes]:
    """``count`` request bodies, due now, each with its own sendersReference (to find it later)."""
    template = {
        "correspondence": {
            "resourceId": RESOURCE,
            "sendersReference": "",
            "content": {"language": "nb", "messageTitle": "Vedtak", "messageSummary": "Ditt vedtak",
                        "messageBody": "# Vedtak\nSøknaden er innvilget. " + "Begrunnelse. " * 40},
        },
        "recipients": recipients(recipient_count),
    }
    result = []
    for index in range(count):
        template["correspondence"]["sendersReference"] = f"{tag}-{index:06d}"
        result.append(json.dumps(template).encode("utf-8"))
    return result


# --- the baselines (raw SDK, threads) ------------------------------------------------------
class Baseline:
    def __init__(self, connection: str) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.data.tables import TableServiceClient
        from azure.storage.blob import BlobServiceClient
        from azure.storage.queue import BinaryBase64EncodePolicy, QueueClient

        self.container = BlobServiceClient.from_connection_string(connection).get_container_client(BASELINE_CONTAINER)
        self.queue = QueueClient.from_connection_string(connection, BASELINE_QUEUE, message_encode_policy=BinaryBase64EncodePolicy())
        self.table = TableServiceClient.from_connection_string(connection).get_table_client(BASELINE_TABLE)
        for create in (self.container.create_container, self.queue.create_queue, self.table.create_table):
            try:
                create()
            except ResourceExistsError:
                pass

    def least(self, body: bytes) -> None:
        """One blob put of the request document, one queue message: the least durable work."""
        name = uuid.uuid4().hex
        self.container.upload_blob(f"requests/{name}.json", body, overwrite=True)
        self.queue.send_message(json.dumps({"requestKey": name}).encode(), time_to_live=-1)

    def same_work(self, body: bytes) -> None:
        """What initialize writes: the message, the content, the state entity (the commit)."""
        name = uuid.uuid4().hex
        self.queue.send_message(json.dumps({"requestKey": name}).encode(), time_to_live=-1)
        self.container.upload_blob(f"requests/{name}.json", body, overwrite=True)
        self.table.create_entity({"PartitionKey": f"{ORG}|{RESOURCE}", "RowKey": name, "status": "ReadyForPublish",
                                  "statusHistory": "[" + '{"status":"Initialized"},' * 2 + "{}]"})

    def run(self, work: Callable[[bytes], None], payloads: list[bytes], concurrency: int) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(work, payloads))
        return time.perf_counter() - started


# --- the API (an aiohttp client, as in the load test) -------------------------------------
@dataclass
class ApiRun:
    elapsed: float  # first request sent .. last 200
    answered: dict[str, float]  # sendersReference -> wall-clock time of its 200
    errors: int


async def _drive(url: str, token: str, payloads: list[bytes], concurrency: int, started_event=None) -> ApiRun:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    answered: dict[str, float] = {}
    errors = [0]
    queue = iter(payloads)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as session:

        async def client() -> None:
            for body in queue:
                async with session.post(url + PATH, data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        answered[json.loads(body)["correspondence"]["sendersReference"]] = time.time()
                    else:
                        errors[0] += 1

        began = time.perf_counter()
        if started_event is not None:
            started_event.set()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return ApiRun(time.perf_counter() - began, answered, errors[0])


def api_run(served: Served, payloads: list[bytes], concurrency: int, started_event=None) -> ApiRun:
    return asyncio.run(_drive(served.url, served.token, payloads, concurrency, started_event))


# --- what was published, from storage -----------------------------------------------------
def published_times(connection: str, tag: str) -> dict[str, datetime | None]:
    """sendersReference -> when its request's correspondences became Published (None: not yet)."""
    from azure.data.tables import TableServiceClient

    from shared.storage import request_states

    table = TableServiceClient.from_connection_string(connection).get_table_client(request_states.TABLE_NAME)
    found: dict[str, datetime | None] = {}
    entities = table.query_entities(
        "PartitionKey eq @pk and sendersReference ge @low and sendersReference lt @high",
        parameters={"pk": request_states.partition_key(ORG, RESOURCE), "low": f"{tag}-", "high": f"{tag}."},
        select=["sendersReference", "statusHistory"],
    )
    for entity in entities:
        history = json.loads(entity["statusHistory"])
        when = next((e["statusChanged"] for e in history if e["status"] == "Published"), None)
        found[entity["sendersReference"]] = datetime.fromisoformat(when) if when else None
    return found


def wait_published(connection: str, tag: str, expected: int, timeout: float = 300) -> dict[str, datetime]:
    deadline = time.monotonic() + timeout
    while True:
        times = published_times(connection, tag)
        done = {ref: when for ref, when in times.items() if when is not None}
        if len(done) >= expected:
            return done
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(done)} of {expected} requests of {tag} were published within {timeout} s")
        time.sleep(0.2)


# --- the cases -----------------------------------------------------------------------------
def _rate_rounds(served: Served, connection: str, baseline: Baseline, recipient_count: int, per_round: int,
                 concurrency: int, rounds: int, label: str) -> tuple[list[float], list[float], list[float], list[float]]:
    """Per round: baseline req/s, same-work req/s, API req/s, and the API's 200 -> Published delays."""
    raw_rates, same_rates, api_rates, delays = [], [], [], []
    for round_number in range(rounds):
        payloads = bodies(per_round, recipient_count, f"{label}{round_number}-least")
        raw_rates.append(per_round / baseline.run(baseline.least, payloads, concurrency))
        same_rates.append(per_round / baseline.run(baseline.same_work, payloads, concurrency))
        tag = f"{label}{round_number}-{uuid.uuid4().hex[:8]}"
        run = api_run(served, bodies(per_round, recipient_count, tag), concurrency)
        if run.errors:
            raise SystemExit(f"[{label}] {run.errors} of {per_round} requests failed through the host")
        api_rates.append(per_round / run.elapsed)
        published = wait_published(connection, tag, per_round)  # drained before the next round
        delays += [(published[ref].timestamp() - answered) for ref, answered in run.answered.items()]
    return raw_rates, same_rates, api_rates, delays


def single(served: Served, connection: str, baseline: Baseline, per_round: int, rounds: int) -> list[Result]:
    raw, same, api, delays = _rate_rounds(served, connection, baseline, 1, per_round, 16, rounds, "single")
    ratio = statistics.median(api) / statistics.median(raw)
    p95 = statistics.quantiles(delays, n=20)[18] if len(delays) >= 20 else max(delays)
    print(f"[initialize, 1 recipient, 16 clients, publisher running] {rounds} rounds of {per_round} requests")
    print(f"  least work (blob + message): {statistics.median(raw):6.1f} req/s; same work as initialize: "
          f"{statistics.median(same):6.1f} req/s; API: {statistics.median(api):6.1f} req/s")
    print(f"  200 -> Published: p50 {statistics.median(delays):.2f} s, p95 {p95:.2f} s")
    result = Result("Initialize, 1 recipient, 16 clients, publisher running (req/s API / least work)", ratio, ">=",
                    SINGLE_GOAL, notes=f"{statistics.median(api):.0f} vs {statistics.median(raw):.0f} req/s "
                    f"(same-work baseline {statistics.median(same):.0f}: {statistics.median(api) / statistics.median(same):.2f})")
    latency = Result("200 -> Published, p95, 1 recipient due now under 16 clients (s)", p95, "<=", 10.0,
                     notes=f"p50 {statistics.median(delays):.2f} s over {len(delays)} requests")
    print(f"  {result.line()}\n  {latency.line()}")
    return [result, latency]


def bulk(served: Served, connection: str, baseline: Baseline, per_round: int, rounds: int) -> Result:
    raw, same, api, _ = _rate_rounds(served, connection, baseline, 500, per_round, 2, rounds, "bulk")
    ratio = statistics.median(api) / statistics.median(raw)
    print(f"[initialize, 500 recipients, 2 clients, publisher running] {rounds} rounds of {per_round} requests")
    print(f"  least work: {statistics.median(raw):6.2f} req/s; same work: {statistics.median(same):6.2f} req/s; "
          f"API: {statistics.median(api):6.2f} req/s = {statistics.median(api) * 500:,.0f} correspondences/s")
    result = Result("Initialize, 500 recipients, 2 clients, publisher running (req/s API / least work)", ratio, ">=",
                    BULK_GOAL, notes=f"{statistics.median(api):.1f} vs {statistics.median(raw):.1f} req/s = "
                    f"{statistics.median(api) * 500:,.0f} correspondences/s (same-work {statistics.median(same):.1f} req/s)")
    print(f"  {result.line()}")
    return result


def _upload_time(served: Served, size: int) -> float:
    from bench import bench_upload

    return bench_upload.api_single(served.url, served.token, size, seed=7)


def burst(served: Served, connection: str, requests: int, upload_mb: int) -> list[Result]:
    size = upload_mb * 1_000_000
    idle = min(_upload_time(served, size) for _ in range(2))
    tag = f"burst-{uuid.uuid4().hex[:8]}"
    payloads = bodies(requests, 500, tag)
    started_event = threading.Event()
    upload: dict[str, float] = {}

    def upload_during() -> None:
        started_event.wait()
        upload["s"] = _upload_time(served, size)

    uploader = threading.Thread(target=upload_during)
    uploader.start()
    first = time.time()
    run = api_run(served, payloads, 2, started_event)
    uploader.join()
    published = wait_published(connection, tag, requests)
    correspondences = requests * 500
    initialize_rate = correspondences / run.elapsed
    end_to_end = correspondences / (max(when.timestamp() for when in published.values()) - first)
    keep_up = end_to_end / initialize_rate
    print(f"[burst: {requests} x 500 recipients from 2 clients, a {upload_mb} MB upload beside it]")
    print(f"  initialized in {run.elapsed:.2f} s ({initialize_rate:,.0f} correspondences/s), all Published after "
          f"{correspondences / end_to_end:.2f} s ({end_to_end:,.0f}/s); errors: {run.errors}")
    print(f"  upload: {upload['s']:.2f} s during the burst, {idle:.2f} s idle")
    keep = Result(f"Keep-up: {requests} x 500 recipients, published/initialized correspondences per s", keep_up, ">=",
                  KEEP_UP_GOAL, notes=f"{end_to_end:,.0f} vs {initialize_rate:,.0f}/s, {run.errors} errors")
    if run.errors:
        keep.ratio = 0.0
    during = Result(f"{upload_mb} MB upload during the burst (time / idle time)", upload["s"] / idle, "<=", UPLOAD_GOAL,
                    notes=f"{upload['s']:.2f} vs {idle:.2f} s")
    print(f"  {keep.line()}\n  {during.line()}")
    return [keep, during]


def run(quick: bool = False) -> list[Result]:
    connection = connection_string()
    baseline = Baseline(connection)
    with local_host(connection) as served:
        # Warm the host: containers, table, id key, token caches, the publisher's clients.
        warm = api_run(served, bodies(20, 1, f"warm-{uuid.uuid4().hex[:8]}"), 4)
        assert not warm.errors, "warm-up failed"
        results = single(served, connection, baseline, per_round=150 if quick else 400, rounds=2 if quick else 3)
        results.append(bulk(served, connection, baseline, per_round=4 if quick else 10, rounds=2 if quick else 3))
        results += burst(served, connection, requests=10, upload_mb=20 if quick else 50)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke test, not figures")
    args = parser.parse_args(argv)
    for result in run(args.quick):
        print(result.line())


if __name__ == "__main__":
    main()
