"""Initialize through the local host against the raw SDK doing the same storage work, in one run.

    python -m tools.azurite -- .venv/bin/python -m bench.bench_initialize [--requests 2000] [--bulk-requests 20]

(or with ``AZURITE_CONNECTION_STRING`` set). Two cases, each against a baseline on the same
Azurite in the same run:

* **single**: ``--requests`` requests of 1 recipient, ``--concurrency`` (16) clients at once,
  through ``python -m tools.serve`` (an aiohttp client with 16 tasks drives it);
  baseline: 16 threads, each "request" being exactly the storage operations ``store_new``
  performs for a request: send the publish message (base64, visibility delay, ttl -1),
  upload the record blob (If-None-Match: *), upload the manifest blob (If-None-Match: *),
  then (once ``shared.correspondence_index`` exists) the Table Storage index: one entity
  batch transaction per 100 records of a partition, one after another.
* **bulk**: ``--bulk-requests`` requests of 500 recipients, one after another; baseline per
  request: 1 message, 500 record uploads ``WRITE_CONCURRENCY`` at a time, 1 manifest, then
  5 index batches of 100 entities.

The baseline uploads the very bytes the implementation would store (its records and manifest
for the same request, built before the clock starts), to the same blob names, in a container
and queue of its own. Before measuring, a probe calls the function in-process once and
counts its storage requests (method, service, name prefix); the bench refuses to compare when
the baseline does not perform the same ones, so the baseline follows ``store_new``.

Requests carry a publish time one day ahead, so the host's publisher (a queue trigger in the
same process) has nothing to do during the measurement: we measure initialize, not publishing.
The baseline's messages use the same visibility delay.

The client, the host and Azurite share the machine's cores; see docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Result, Served, connection_string, local_host  # noqa: E402

PATH = "/correspondence/api/v1/correspondence"
RESOURCE = "ttd-corr-1"
BASELINE_CONTAINER = "bench-baseline"
BASELINE_QUEUE = "bench-baseline-publish"
BASELINE_TABLE = "BenchBaselineIndex"
SINGLE_GOAL = 0.6
BULK_GOAL = 0.7


# --- the requests ------------------------------------------------------------------------

def request_body(recipient_count: int) -> dict:
    from bench.bench_validation import recipients
    from tests.support.builders import baseline_request

    publish = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    chosen = ["urn:altinn:organization:identifier-no:991825827"] if recipient_count == 1 else recipients(recipient_count)
    return baseline_request(
        correspondence__resourceId=RESOURCE,
        correspondence__requestedPublishTime=publish,
        recipients=chosen,
    )


@dataclass
class Payload:
    """What the implementation stores for one request, as bytes (built outside the clock)."""

    message: bytes
    delay_seconds: int
    records: list[bytes]
    manifest: bytes
    entities: list[dict]  # index entities (empty while the implementation keeps no index)
    batch: int  # entities per transaction


def payload_of(body: dict) -> Payload:
    """The implementation's own documents for ``body`` (``_build`` with its models)."""
    from shared.storage import correspondence_store as store
    from shared.core.identifiers import sender_urn
    from shared.models.correspondence import parse_initialize_request
    from shared.use_cases.initialize_correspondence import _build
    from shared.rules.initialize import effective_publish_time
    from shared.core.clock import utcnow

    request = parse_initialize_request(body)
    now = utcnow()
    built = _build(request, sender_urn("991825827"), [], True, now)
    manifest = built.manifest
    message = store.PublishMessage(
        requestId=manifest.requestId, count=len(manifest.correspondenceIds), created=now,
        publishAt=effective_publish_time(request, now),
    )
    delay = max(store.visibility_delay(manifest.requestedPublishTime, now), store.FIRST_DELIVERY_DELAY)
    try:
        from shared.storage import correspondence_index as index
    except ImportError:  # before the search index existed
        entities, batch = [], 1
    else:
        entities, batch = [index.entity(record) for record in built.records], index.MAX_BATCH
    return Payload(
        message=message.model_dump_json().encode("utf-8"),
        delay_seconds=int(delay.total_seconds()),
        records=[record.to_bytes() for record in built.records],
        manifest=manifest.to_bytes(),
        entities=entities,
        batch=batch,
    )


# --- the baseline: the raw SDK -----------------------------------------------------------

class Baseline:
    """The storage operations of ``store_new``, with the SDK alone."""

    def __init__(self, connection: str, write_concurrency: int) -> None:
        import requests
        from azure.core.exceptions import ResourceExistsError
        from azure.core.pipeline.transport import RequestsTransport
        from azure.data.tables import TableServiceClient
        from azure.storage.blob import BlobServiceClient
        from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy, QueueClient

        def transport() -> RequestsTransport:
            # A connection pool as large as the threads using it (requests' default is 10).
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=64, pool_maxsize=64)
            session.mount("http://", adapter)
            return RequestsTransport(session=session, session_owner=True)

        blobs = BlobServiceClient.from_connection_string(connection, transport=transport())
        self.container = blobs.get_container_client(BASELINE_CONTAINER)
        self.queue = QueueClient.from_connection_string(
            connection, BASELINE_QUEUE, transport=transport(),
            message_encode_policy=BinaryBase64EncodePolicy(), message_decode_policy=BinaryBase64DecodePolicy(),
        )
        for create in (self.container.create_container, self.queue.create_queue):
            try:
                create()
            except ResourceExistsError:
                pass
        tables = TableServiceClient.from_connection_string(connection, transport=transport())
        tables.create_table_if_not_exists(BASELINE_TABLE)
        self.table = tables.get_table_client(BASELINE_TABLE)
        self.pool = ThreadPoolExecutor(max_workers=write_concurrency, thread_name_prefix="baseline-write")

    def store(self, payload: Payload) -> None:
        self.queue.send_message(payload.message, visibility_timeout=payload.delay_seconds, time_to_live=-1)
        if len(payload.records) == 1:
            self.container.upload_blob(f"items/{uuid.uuid4()}.json", payload.records[0], overwrite=False)
        else:
            futures = [
                self.pool.submit(self.container.upload_blob, f"items/{uuid.uuid4()}.json", record, overwrite=False)
                for record in payload.records
            ]
            for future in futures:
                future.result()
        self.container.upload_blob(f"requests/{uuid.uuid4()}.json", payload.manifest, overwrite=False)
        # The index: the same entities with fresh row keys (a row key ends with the id).
        for start in range(0, len(payload.entities), payload.batch):
            chunk = payload.entities[start:start + payload.batch]
            self.table.submit_transaction(
                [("create", {**e, "RowKey": f"{e['RowKey'][:19]}_{uuid.uuid4()}"}) for e in chunk]
            )

    def run(self, payload: Payload, total: int, concurrency: int) -> float:
        """Seconds for ``total`` requests' storage work, ``concurrency`` at a time."""
        started = time.perf_counter()
        if concurrency == 1:
            for _ in range(total):
                self.store(payload)
        else:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="baseline") as clients:
                list(clients.map(lambda _: self.store(payload), range(total)))
        return time.perf_counter() - started

    def close(self) -> None:
        self.pool.shutdown()


# --- the storage-operation probe ---------------------------------------------------------

def _kind(url: str, services: dict[int | None, str]) -> tuple[str, str]:
    """(service, what) of a storage request: blobs by their name's first segment (items,
    requests ...), queue messages, table batches or entities; containers and tables by role."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    service = services.get(parts.port, "?")
    segments = parts.path.strip("/").split("/")[1:]  # after the account
    if service == "blob":
        return service, segments[1] if len(segments) >= 3 else "container"
    if service == "queue":
        return service, segments[1] if len(segments) >= 2 else "queue"
    name = segments[0] if segments else ""
    return service, name if name.startswith("$") or name == "Tables" else "entities"


@contextmanager
def counting_storage_requests(connection: str) -> Iterator[collections.Counter]:
    """Count the HTTP requests sent through ``requests`` (the SDKs' transport) in this process,
    as (method, service, kind)."""
    import requests.adapters
    from urllib.parse import urlsplit

    services: dict[int | None, str] = {}
    for item in connection.split(";"):
        name, _, value = item.partition("=")
        if name.endswith("Endpoint") and value:
            services[urlsplit(value).port] = name[: -len("Endpoint")].lower()
    counts: collections.Counter = collections.Counter()
    original = requests.adapters.HTTPAdapter.send
    lock = threading.Lock()

    def send(self, request, *args, **kwargs):
        service, kind = _kind(request.url, services)
        with lock:
            counts[(request.method, service, kind)] += 1
        return original(self, request, *args, **kwargs)

    requests.adapters.HTTPAdapter.send = send
    try:
        yield counts
    finally:
        requests.adapters.HTTPAdapter.send = original


def probe(env: dict[str, str], token: str, body: dict, baseline: Baseline, payload: Payload) -> str:
    """Compare the storage requests of one in-process initialize with one baseline request."""
    from shared.storage import clients as storage_clients
    from tests.support.functions import call

    def reset() -> None:
        storage_clients.reset_clients()
        try:
            from shared.storage import correspondence_index
        except ImportError:
            return
        correspondence_index.reset_clients()

    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    reset()
    try:
        def initialize() -> None:
            response = call("initialize_correspondence", method="POST", url="http://localhost" + PATH, body=body,
                            headers={"Authorization": f"Bearer {token}"})
            assert response.status == 200, response.body[:500]

        initialize()  # first use: containers and queues are created, clients built
        with counting_storage_requests(env["CorrespondenceStorage"]) as implementation:
            initialize()
        with counting_storage_requests(env["CorrespondenceStorage"]) as raw:
            baseline.store(payload)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset()

    def show(counts: collections.Counter) -> str:
        return ", ".join(f"{n} x {m} {s} {k}" for (m, s, k), n in sorted(counts.items()))

    if implementation != raw:
        raise SystemExit(
            "the baseline no longer mirrors the implementation's storage work:\n"
            f"  implementation: {show(implementation)}\n  baseline:       {show(raw)}\n"
            "update bench.bench_initialize.Baseline.store to match shared/storage/correspondence_store.py store_new"
        )
    return show(implementation)


# --- the API through the local host ------------------------------------------------------

async def _drive(url: str, token: str, raw: bytes, total: int, concurrency: int, expect: int) -> tuple[float, list[float]]:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    failures: collections.Counter = collections.Counter()
    remaining = iter(range(total))
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as session:

        async def client() -> None:
            for _ in remaining:
                began = time.perf_counter()
                async with session.post(url + PATH, data=raw, headers=headers) as response:
                    answer = await response.read()
                if response.status != 200:
                    failures[(response.status, answer[:200])] += 1
                    continue
                if expect > 1 and len(json.loads(answer)["correspondences"]) != expect:
                    failures[("short", b"")] += 1
                latencies.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit(f"initialize failed through the host: {dict(failures)}")
    return elapsed, latencies


def api_run(served: Served, body: dict, total: int, concurrency: int) -> tuple[float, list[float]]:
    raw = json.dumps(body).encode("utf-8")
    return asyncio.run(_drive(served.url, served.token, raw, total, concurrency, len(body["recipients"])))


# --- the two cases -----------------------------------------------------------------------

def _ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else values[0] * 1000


def interleaved(total: int, rounds: int, raw: Callable[[int], float], api: Callable[[int], tuple[float, list[float]]]):
    """``total`` requests on each side in ``rounds`` rounds, ordered raw, API, API, raw, raw,
    API ... (ABBA): Azurite gets slower as it fills and the machine is shared, so neither side
    may run only early or only late. Returns (raw seconds, API seconds, API latencies, rounds)."""
    sizes = [total // rounds + (1 if i < total % rounds else 0) for i in range(rounds)]
    raw_s = api_s = 0.0
    latencies: list[float] = []
    log: list[str] = []
    for i, size in enumerate(sizes):
        order = ("raw", "api") if i % 2 == 0 else ("api", "raw")
        for side in order:
            if side == "raw":
                spent = raw(size)
                raw_s += spent
            else:
                spent, some = api(size)
                api_s += spent
                latencies += some
            log.append(f"{side} {size / spent:.1f}")
    return raw_s, api_s, latencies, log


def single(served: Served, connection: str, total: int, concurrency: int, warmup: int, rounds: int = 4) -> Result:
    from shared.storage.correspondence_store import WRITE_CONCURRENCY

    body = request_body(1)
    payload = payload_of(body)
    baseline = Baseline(connection, WRITE_CONCURRENCY)
    try:
        operations = probe(served.env, served.token, body, baseline, payload)
        api_run(served, body, warmup, concurrency)
        baseline.run(payload, warmup, concurrency)
        raw_s, api_s, latencies, log = interleaved(
            total, rounds,
            lambda n: baseline.run(payload, n, concurrency),
            lambda n: api_run(served, body, n, concurrency),
        )
    finally:
        baseline.close()
    raw_rate, api_rate = total / raw_s, total / api_s
    ratio = api_rate / raw_rate
    print(f"[initialize, 1 recipient] storage requests per request (checked equal): {operations}")
    print(f"[initialize, 1 recipient] {total} requests each side, {concurrency} concurrent clients; "
          f"rounds (req/s): {', '.join(log)}")
    print(f"  raw SDK : {raw_rate:7.1f} req/s")
    print(f"  API     : {api_rate:7.1f} req/s   latency p50 {_ms(latencies, 50):.1f} ms, p99 {_ms(latencies, 99):.1f} ms")
    result = Result("Initialize, 1 recipient, 16 clients (throughput API/raw)", ratio, ">=", SINGLE_GOAL,
                    notes=f"{api_rate:.0f} vs {raw_rate:.0f} req/s")
    print(f"  {result.line()}")
    return result


def bulk(served: Served, connection: str, total: int, recipients: int, rounds: int = 4) -> Result:
    from shared.storage.correspondence_store import WRITE_CONCURRENCY

    body = request_body(recipients)
    payload = payload_of(body)
    baseline = Baseline(connection, WRITE_CONCURRENCY)
    try:
        operations = probe(served.env, served.token, body, baseline, payload)
        api_run(served, body, 1, 1)
        baseline.run(payload, 1, 1)
        raw_s, api_s, latencies, log = interleaved(
            total, min(rounds, total),
            lambda n: baseline.run(payload, n, 1),
            lambda n: api_run(served, body, n, 1),
        )
    finally:
        baseline.close()
    ratio = raw_s / api_s  # same number of requests on both sides
    print(f"[initialize, {recipients} recipients] storage requests per request (checked equal): {operations}")
    print(f"[initialize, {recipients} recipients] {total} requests each side, one after another; "
          f"{WRITE_CONCURRENCY} record writes in flight; rounds (req/s): {', '.join(log)}")
    print(f"  raw SDK : {total / raw_s:6.2f} req/s = {total * recipients / raw_s:7.0f} recipients/s")
    print(f"  API     : {total / api_s:6.2f} req/s = {total * recipients / api_s:7.0f} accepted recipients/s   "
          f"latency p50 {_ms(latencies, 50):.0f} ms")
    result = Result(f"Initialize, {recipients} recipients, sequential (throughput API/raw)", ratio, ">=", BULK_GOAL,
                    notes=f"{total * recipients / api_s:.0f} vs {total * recipients / raw_s:.0f} recipients/s")
    print(f"  {result.line()}")
    return result


def run(requests: int = 2000, concurrency: int = 16, bulk_requests: int = 20, recipients: int = 500,
        warmup: int = 64) -> list[Result]:
    connection = connection_string()
    with local_host(connection) as served:
        return [single(served, connection, requests, concurrency, warmup), bulk(served, connection, bulk_requests, recipients)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Initialize through the local host vs the raw SDK (Azurite)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--bulk-requests", type=int, default=20)
    parser.add_argument("--recipients", type=int, default=500)
    args = parser.parse_args(argv)
    run(args.requests, args.concurrency, args.bulk_requests, args.recipients)


if __name__ == "__main__":
    main()
