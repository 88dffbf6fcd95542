"""The listing index of correspondences, in Azure Table Storage (same storage account).

Why a table: the sender's search needs "this organisation's correspondences of one resource,
newest first, filtered by status, date range, sendersReference or idempotentKey, page by page".
Blob index tags cannot sort (let alone newest first) and cannot hold a 4096-character
sendersReference; a table keyed for exactly this query answers it with one range scan of one
partition. Azurite serves tables too.

Table ``CorrespondenceIndex``, one entity per committed correspondence::

    PartitionKey  <sender org number>|<resourceId, percent-encoded>
    RowKey        <inverted requestedPublishTime ticks, 19 digits>_<correspondenceId>
    properties    correspondenceId, status, statusVersion, created, requestedPublishTime,
                  sendersReference, idempotentKey (when set), recipient, requestId

The natural order of a partition is therefore newest ``requestedPublishTime`` first, which is
upstream's order (``OrderByDescending(RequestedPublishTime)``), and upstream's ``from``/``to``
filters (on ``requestedPublishTime``, both exclusive) become a RowKey range. The sender's
organisation is part of the partition key, so a query can only ever see the caller's own
correspondences.

Consistency with initialize: entries are written only after the request's commit point (the
manifest), so an uncommitted or aborted request never appears. Index writes never fail the
operation that triggers them (initialize has already committed; the publisher must publish
anyway): a failed write is logged and repaired by the publisher, whose every delivery of a
request puts its entries (creating missing ones). ``statusVersion`` is the length of the
record's append-only status history: a write only replaces an entity with a lower version, so
two writers racing (initialize's late first write against the publisher's ``Published``) can
never move the index back to an older status.

``status`` is the record's latest status by time, ignoring ``Fetched``: what upstream's search
compares the ``status`` filter with (its current status elsewhere is the highest one).

Settings: the connection is the application's storage (``CorrespondenceStorage``, falling back
to ``AzureWebJobsStorage``) - a connection string, or identity-based with
``CorrespondenceStorage__tableServiceUri`` (+ ``__clientId``).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.core.clock import as_utc
from shared.core.documents import CorrespondenceRecord, RequestManifest
from shared.core.identifiers import organization_of
from shared.core.statuses import CorrespondenceStatus
from shared.storage import clients
from shared.storage.clients import Profile

logger = logging.getLogger(__name__)


TABLE_NAME = "CorrespondenceIndex"
# A table transaction holds at most 100 operations, all in one partition.
MAX_BATCH = 100
# .NET DateTime.MaxValue.Ticks; ticks are 100 ns since 0001-01-01T00:00:00Z.
_MAX_TICKS = 3_155_378_975_999_999_999
_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
_PUT_ATTEMPTS = 5


# --- keys ----------------------------------------------------------------------------------

def partition_key(sender_or_org: str, resource_id: str) -> str:
    # Percent-encoding keeps '/', '\\', '#' and '?' (not allowed in keys) out of the key.
    return f"{organization_of(sender_or_org)}|{quote(resource_id, safe='')}"


def inverted_ticks(value: datetime) -> int:
    delta = as_utc(value) - _EPOCH
    ticks = (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10
    return _MAX_TICKS - ticks


def time_prefix(value: datetime) -> str:
    return f"{inverted_ticks(value):019d}"


def row_key(requested_publish_time: datetime, correspondence_id: uuid.UUID) -> str:
    return f"{time_prefix(requested_publish_time)}_{correspondence_id}"


def entity(record: CorrespondenceRecord) -> dict[str, Any]:
    value: dict[str, Any] = {
        "PartitionKey": partition_key(record.sender, record.resourceId),
        "RowKey": row_key(record.requestedPublishTime, record.id),
        "correspondenceId": str(record.id),
        "status": record.search_status().name,
        "statusVersion": len(record.statusHistory),
        "created": as_utc(record.created),
        "requestedPublishTime": as_utc(record.requestedPublishTime),
        "sendersReference": record.sendersReference,
        "recipient": record.recipient,
        "requestId": str(record.requestId),
    }
    if record.idempotentKey is not None:
        value["idempotentKey"] = str(record.idempotentKey)
    return value


# --- the client (created once per process, per target and profile) -------------------------

_lock = threading.Lock()
# Keyed by the service client itself: shared.storage.clients builds a new one per account.
_tables: dict[tuple[object, Profile], TableClient] = {}
_created: set[object] = set()


def table(profile: Profile = "request") -> TableClient:
    """The index table; created (if missing) on first use in this process.

    No lock is held across network calls: while storage is down, callers fail on their own
    instead of queueing behind one slow first call.
    """
    service = clients.table_service(profile)
    key = (service, profile)
    client = _tables.get(key)
    if client is not None:
        return client
    if service not in _created:
        service.create_table_if_not_exists(TABLE_NAME)  # idempotent; a failure is not cached
        with _lock:
            _created.add(service)
    with _lock:
        client = _tables.setdefault(key, service.get_table_client(TABLE_NAME))
    return client


def reset_clients() -> None:
    """For tests that point the process at another storage account."""
    with _lock:
        _tables.clear()
        _created.clear()


# --- writes --------------------------------------------------------------------------------

def _put(client: TableClient, value: dict[str, Any]) -> None:
    """Create the entity, or replace it when ours is newer (higher statusVersion)."""
    for _ in range(_PUT_ATTEMPTS):
        try:
            current = client.get_entity(value["PartitionKey"], value["RowKey"], select=["statusVersion"])
        except ResourceNotFoundError:
            try:
                client.create_entity(value)
                return
            except ResourceExistsError:
                continue  # created meanwhile: compare versions
        if int(current.get("statusVersion") or 0) >= value["statusVersion"]:
            return  # the index already shows this state or a newer one
        try:
            client.update_entity(
                value,
                mode=UpdateMode.REPLACE,
                etag=current.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
            return
        except (ResourceModifiedError, ResourceNotFoundError):
            continue
    raise RuntimeError("index entity kept changing")


def _put_all(client: TableClient, records: Iterable[CorrespondenceRecord]) -> None:
    """Entity batch transactions of at most 100 creates per partition; an entity that exists
    already (a racing writer or an earlier repair) makes its batch fall back to ``_put``."""
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        value = entity(record)
        by_partition.setdefault(value["PartitionKey"], []).append(value)
    for values in by_partition.values():
        for start in range(0, len(values), MAX_BATCH):
            chunk = values[start:start + MAX_BATCH]
            try:
                client.submit_transaction([("create", value) for value in chunk])
            except TableTransactionError:
                for value in chunk:
                    _put(client, value)


def add(manifest: RequestManifest, records: list[CorrespondenceRecord]) -> bool:
    """Index a just-committed request. Never raises: a failure is logged and repaired by the
    publisher (its first delivery comes at least 2 seconds after the commit)."""
    try:
        _put_all(table("request"), records)
        return True
    except Exception as exc:  # noqa: BLE001 - the request has committed; the publisher repairs
        logger.warning(
            "index entries of request %s not written (%s); the publisher repairs them",
            manifest.requestId,
            type(exc).__name__,
        )
        return False


def set_status(record: CorrespondenceRecord, profile: Profile = "request") -> bool:
    """Upsert one correspondence's entry after a status change (creates a missing entry: a
    repair). Never raises; returns False when the write failed (logged).

    Fail-fast by default, also for the publisher: a failed write is retried by the
    publisher's next delivery, so table trouble never slows publishing down."""
    try:
        _put(table(profile), entity(record))
        return True
    except Exception as exc:  # noqa: BLE001 - the status change itself is stored
        logger.warning("index entry of correspondence %s not updated (%s)", record.id, type(exc).__name__)
        return False


def ensure_request(manifest: RequestManifest, read_record: Callable[[uuid.UUID], CorrespondenceRecord | None]) -> bool:
    """Repair: make sure every correspondence of a committed request has an entry.

    One range query over the request's RowKey prefix (its correspondences share the
    requested publish time) in the common case; records are read only for missing entries.
    Never raises; returns False when the repair could not be done (logged).
    """
    try:
        client = table("request")  # fail fast: the publisher comes back for a failed repair
        prefix = time_prefix(manifest.requestedPublishTime)
        found = client.query_entities(
            "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
            parameters={"pk": partition_key(manifest.sender, manifest.resourceId), "low": f"{prefix}_", "high": f"{prefix}`"},
            select=["correspondenceId"],
        )
        present = {item.get("correspondenceId") for item in found}
        missing = [cid for cid in manifest.correspondenceIds if str(cid) not in present]
        if not missing:
            return True
        records = []
        for correspondence_id in missing:
            record = read_record(correspondence_id)
            if record is not None:
                records.append(record)
        _put_all(client, records)
        logger.info("index repaired for request %s (%d entries)", manifest.requestId, len(records))
        return True
    except Exception as exc:  # noqa: BLE001 - publishing goes on; the next delivery retries
        logger.warning("index repair of request %s failed (%s)", manifest.requestId, type(exc).__name__)
        return False


# --- reads ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Criteria:
    """What a sender's search asks for; ``query`` turns it into one range scan of one partition."""

    organization: str
    resource_id: str
    published_after: datetime | None = None  # requestedPublishTime > this (exclusive)
    published_before: datetime | None = None  # requestedPublishTime < this (exclusive)
    after_row_key: str | None = None  # the previous page's last entry
    status: CorrespondenceStatus | None = None
    hidden: frozenset[CorrespondenceStatus] = frozenset()
    senders_reference: str | None = None
    idempotent_key: uuid.UUID | None = None

    def table_filter(self) -> tuple[str, dict[str, Any]]:
        parts = ["PartitionKey eq @pk"]
        parameters: dict[str, Any] = {"pk": partition_key(self.organization, self.resource_id)}
        # Newer publish times have smaller RowKeys (inverted ticks).
        if self.published_after is not None:
            parts.append("RowKey lt @fromKey")
            parameters["fromKey"] = time_prefix(self.published_after)
        if self.published_before is not None:
            parts.append("RowKey ge @toKey")
            parameters["toKey"] = f"{inverted_ticks(self.published_before) + 1:019d}"
        if self.after_row_key is not None:
            parts.append("RowKey gt @after")
            parameters["after"] = self.after_row_key
        if self.status is not None:
            parts.append("status eq @status")
            parameters["status"] = self.status.name
        for position, hidden in enumerate(sorted(self.hidden)):
            parts.append(f"status ne @hidden{position}")
            parameters[f"hidden{position}"] = hidden.name
        if self.senders_reference:
            parts.append("sendersReference eq @ref")
            parameters["ref"] = self.senders_reference
        if self.idempotent_key is not None:
            parts.append("idempotentKey eq @key")
            parameters["key"] = str(self.idempotent_key)
        return " and ".join(parts), parameters


def query(criteria: Criteria, limit: int, profile: Profile = "request") -> list[dict[str, Any]]:
    """Up to ``limit`` entries (RowKey, correspondenceId) in RowKey order: newest first."""
    query_filter, parameters = criteria.table_filter()
    client = table(profile)
    pages = client.query_entities(
        query_filter,
        parameters=parameters,
        select=["RowKey", "correspondenceId"],
        results_per_page=min(limit, 1000),
    )
    results: list[dict[str, Any]] = []
    for item in pages:
        results.append({"RowKey": item["RowKey"], "correspondenceId": item["correspondenceId"]})
        if len(results) >= limit:
            break
    return results
