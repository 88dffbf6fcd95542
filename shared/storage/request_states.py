"""Request states in Table Storage: one entity per request, the mutable state of all its
correspondences and the sender's search listing in one (same storage account).

Why a table: the sender's search needs "this organisation's correspondences of one resource,
newest first, filtered by status, date range, sendersReference or idempotentKey, page by page".
Blob index tags cannot sort (let alone newest first) and cannot hold a 4096-character
sendersReference; a table keyed for exactly this query answers it with one range scan of one
partition. Azurite serves tables too. And because the listing is the state itself (not a copy
written after it), it can never disagree with it, and a status change is one write.

Table ``CorrespondenceRequests``::

    PartitionKey  <sender org number>|<resourceId, percent-encoded>
    RowKey        <inverted requestedPublishTime ticks, 19 digits>_<request key>
    properties    requestKey, sender, resourceId, created, requestedPublishTime,
                  sendersReference, idempotentKey (when set), count, status (the search status),
                  attachmentIds, statusHistory, diverged (JSON)

The natural order of a partition is newest ``requestedPublishTime`` first, upstream's order
(``OrderByDescending(RequestedPublishTime)``), and upstream's ``from``/``to`` filters (both
exclusive) become a RowKey range. The sender's organisation is part of the partition key, so a
query only ever sees the caller's own correspondences. Every change is a read-modify-write with
``If-Match`` on the entity's ETag (``update``): the publisher and a purge never both win.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, UpdateMode

from shared.core.clock import as_utc
from shared.core.decisions import Decision
from shared.core.documents import CorrespondenceStatusEvent, Divergence, RequestState
from shared.core.identifiers import organization_of
from shared.core.statuses import CorrespondenceStatus
from shared.storage import clients
from shared.storage.clients import Profile

logger = logging.getLogger(__name__)

R = TypeVar("R")

TABLE_NAME = "CorrespondenceRequests"
# .NET DateTime.MaxValue.Ticks; ticks are 100 ns since 0001-01-01T00:00:00Z.
_MAX_TICKS = 3_155_378_975_999_999_999
_EPOCH = datetime(1, 1, 1, tzinfo=timezone.utc)
_UPDATE_ATTEMPTS = 20


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


def row_key(requested_publish_time: datetime, request_key: str) -> str:
    return f"{time_prefix(requested_publish_time)}_{request_key}"


@dataclass(frozen=True)
class Keys:
    partition: str
    row: str

    @classmethod
    def of(cls, state: RequestState) -> "Keys":
        return cls(partition_key(state.sender, state.resourceId), row_key(state.requestedPublishTime, state.requestKey))


# --- entity <-> state ----------------------------------------------------------------------
def to_entity(state: RequestState) -> dict[str, Any]:
    keys = Keys.of(state)
    entity: dict[str, Any] = {
        "PartitionKey": keys.partition,
        "RowKey": keys.row,
        "requestKey": state.requestKey,
        "sender": state.sender,
        "resourceId": state.resourceId,
        "created": as_utc(state.created),
        "requestedPublishTime": as_utc(state.requestedPublishTime),
        "sendersReference": state.sendersReference,
        "count": state.count,
        "status": state.search_status().value,
        "attachmentIds": json.dumps([str(a) for a in state.attachmentIds]),
        "statusHistory": json.dumps([e.model_dump(mode="json") for e in state.statusHistory]),
        "diverged": json.dumps({str(i): d.model_dump(mode="json") for i, d in state.diverged.items()}),
    }
    if state.idempotentKey is not None:
        entity["idempotentKey"] = str(state.idempotentKey)
    return entity


def from_entity(entity: dict[str, Any]) -> RequestState:
    return RequestState(
        requestKey=entity["requestKey"],
        sender=entity["sender"],
        resourceId=entity["resourceId"],
        created=entity["created"],
        requestedPublishTime=entity["requestedPublishTime"],
        sendersReference=entity["sendersReference"],
        idempotentKey=entity.get("idempotentKey"),
        count=entity["count"],
        attachmentIds=json.loads(entity["attachmentIds"]),
        statusHistory=[CorrespondenceStatusEvent.model_validate(e) for e in json.loads(entity["statusHistory"])],
        diverged={int(i): Divergence.model_validate(d) for i, d in json.loads(entity["diverged"]).items()},
    )


# --- the client (created once per process, per target and profile) -------------------------
_lock = threading.Lock()
# Keyed by the service client itself: shared.storage.clients builds a new one per account.
_tables: dict[tuple[object, Profile], TableClient] = {}
_created: set[object] = set()


def table(profile: Profile = "request") -> TableClient:
    """The table; created (if missing) on first use in this process.

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


# --- reads and writes ----------------------------------------------------------------------
def create(state: RequestState, profile: Profile = "request") -> None:
    """Write a new request's state: the commit point. A create that already landed (the SDK
    retried after a lost answer) is ours (request keys are random): not an error."""
    try:
        table(profile).create_entity(to_entity(state))
    except ResourceExistsError:
        pass


def read(keys: Keys, profile: Profile = "request") -> tuple[RequestState, str] | None:
    try:
        entity = table(profile).get_entity(keys.partition, keys.row)
    except ResourceNotFoundError:
        return None
    return from_entity(entity), entity.metadata["etag"]


def exists(keys: Keys, profile: Profile = "request", **kwargs: Any) -> bool:
    try:
        table(profile).get_entity(keys.partition, keys.row, select=["RowKey"], **kwargs)
    except ResourceNotFoundError:
        return False
    return True


def update(
    keys: Keys,
    change: Callable[[RequestState], Decision[R]],
    profile: Profile = "request",
    read_already: tuple[RequestState, str] | None = None,
) -> tuple[RequestState, R | None] | None:
    """Read-modify-write with ETag retries; ``None`` when the request is not committed.
    ``read_already``: the state and ETag the caller just read, used for the first attempt."""
    table_client = table(profile)
    for attempt in range(_UPDATE_ATTEMPTS):
        found = read_already if attempt == 0 and read_already is not None else read(keys, profile)
        if found is None:
            return None
        state, etag = found
        decision = change(state)
        if not decision.write:
            return state, decision.outcome
        try:
            table_client.update_entity(
                to_entity(state), mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
            )
            return state, decision.outcome
        except ResourceModifiedError:
            continue
    raise RuntimeError(f"request {keys.row} kept changing under us")


def delete(keys: Keys, profile: Profile = "request") -> None:
    try:
        table(profile).delete_entity(keys.partition, keys.row)
    except ResourceNotFoundError:
        pass


# --- queries -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Criteria:
    """What a sender's search asks for; ``query`` turns it into one range scan of one partition."""

    organization: str
    resource_id: str
    published_after: datetime | None = None  # requestedPublishTime > this (exclusive)
    published_before: datetime | None = None  # requestedPublishTime < this (exclusive)
    from_row_key: str | None = None  # resume at this request (inclusive)
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
        if self.from_row_key is not None:
            parts.append("RowKey ge @resume")
            parameters["resume"] = self.from_row_key
        if self.status is not None:
            parts.append("status eq @status")
            parameters["status"] = self.status.value
        for position, hidden in enumerate(sorted(self.hidden)):
            parts.append(f"status ne @hidden{position}")
            parameters[f"hidden{position}"] = hidden.value
        if self.senders_reference:
            parts.append("sendersReference eq @ref")
            parameters["ref"] = self.senders_reference
        if self.idempotent_key is not None:
            parts.append("idempotentKey eq @key")
            parameters["key"] = str(self.idempotent_key)
        return " and ".join(parts), parameters


def query(criteria: Criteria, profile: Profile = "request") -> Iterator[RequestState]:
    """Matching requests in RowKey order (newest first), fetched page by page as consumed."""
    query_filter, parameters = criteria.table_filter()
    for entity in table(profile).query_entities(query_filter, parameters=parameters, results_per_page=100):
        yield from_entity(entity)


def stuck(status: CorrespondenceStatus, published_before: datetime, limit: int) -> list[RequestState]:
    """Requests whose shared status is ``status`` and whose publish time is before the cutoff
    (the sweeper's question; a scan across partitions, bounded by ``limit``)."""
    found = []
    entities = table("background").query_entities(
        "status eq @status and requestedPublishTime lt @cutoff",
        parameters={"status": status.value, "cutoff": published_before},
    )
    for entity in entities:
        found.append(from_entity(entity))
        if len(found) >= limit:
            break
    return found
