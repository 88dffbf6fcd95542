"""Correspondences in Blob Storage and their publish messages in a Storage Queue.

Layout (container ``correspondences``)::

    items/{correspondenceId}.json   CorrespondenceRecord (small; status history)
    requests/{requestId}.json       RequestManifest (content shared by the recipients; commit point)
    idempotency/{key}.json          IdempotencyClaim (created with If-None-Match: *)

Write order of one accepted request (``store_new``)::

    claim key (if any) -> enqueue publish message -> write records -> write manifest (commit)

The publish message goes first so that every later crash leaves work that the publisher
finishes: a message whose manifest never appears is, after ``ABORT_AFTER``, an aborted request
whose records and claim it deletes. A failure that we see is compensated at once (message,
records and claim deleted) before the client gets its 503. Readers treat a record without a
manifest as not existing, so a client never sees, and the publisher never publishes, a
correspondence whose request did not commit.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Protocol, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from pydantic import BaseModel

from shared.core.clock import as_utc, utcnow
from shared.core.decisions import Decision
from shared.core.documents import (
    CorrespondenceRecord,
    IdempotencyClaim,
    RequestManifest,
    correspondence_ids,
)
from shared.core.errors import ServiceUnavailable
from shared.storage import clients, optimistic

logger = logging.getLogger(__name__)

ABORT_AFTER = timedelta(minutes=5)
# A request never writes its commit point later than this after it started ...
COMMIT_DEADLINE = timedelta(seconds=30)
# ... so an idempotency claim this old without a commit belongs to a request that failed.
CLAIM_GRACE = timedelta(seconds=60)
# How long a request whose commit-point write failed without a definite answer keeps asking
# whether it landed: long enough for a blip, short enough that an outage still answers 503
# within seconds.
COMMIT_RESOLVE_WAIT = timedelta(seconds=2)
COMMIT_RESOLVE_INTERVAL = 0.2
# How long a request waits for another in-flight request with the same key to settle.
IN_FLIGHT_WAIT = timedelta(seconds=3)
# A just-sent message must not overtake the writes that follow it in the same request.
FIRST_DELIVERY_DELAY = timedelta(seconds=2)
# Storage Queues refuse a visibility timeout beyond 7 days; longer waits are re-scheduled.
MAX_VISIBILITY = timedelta(days=7)
WRITE_CONCURRENCY = 16

T = TypeVar("T")
R = TypeVar("R")
_pool = ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY, thread_name_prefix="store")


class PublishMessage(BaseModel):
    """The claim check on the publish queue: a reference, never the content."""

    requestId: uuid.UUID
    count: int
    created: datetime
    publishAt: datetime

    def correspondence_ids(self) -> list[uuid.UUID]:
        return correspondence_ids(self.requestId, self.count)

    @classmethod
    def for_request(cls, manifest: RequestManifest) -> "PublishMessage":
        return cls(
            requestId=manifest.requestId,
            count=len(manifest.correspondenceIds),
            created=manifest.created,
            publishAt=manifest.requestedPublishTime,
        )


class AttachmentLinks(Protocol):
    """How the request's attachments are linked (and the links undone): the use case's rule
    (an attachment must still be ``Published``), done at the right point of the write order."""

    def link(self, attachment_id: uuid.UUID, correspondence_ids: list[uuid.UUID]) -> None: ...

    def unlink(self, attachment_id: uuid.UUID, correspondence_ids: list[uuid.UUID]) -> None: ...


@dataclass
class NewRequest:
    manifest: RequestManifest
    records: list[CorrespondenceRecord]


def record_name(correspondence_id: uuid.UUID) -> str:
    return f"items/{correspondence_id}.json"


def manifest_name(request_id: uuid.UUID) -> str:
    return f"requests/{request_id}.json"


def claim_name(key: uuid.UUID) -> str:
    return f"idempotency/{key}.json"


def container():
    clients.ensure_storage_once()
    return clients.blob_service().get_container_client(clients.CORRESPONDENCES_CONTAINER)


def publish_queue(profile: clients.Profile = "request"):
    clients.ensure_storage_once()
    return clients.queue_client(clients.PUBLISH_QUEUE, profile)


def parallel(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``fn`` over ``items`` in the store's pool; the results in order (the first error raised)."""
    items = list(items)
    if len(items) == 1:
        return [fn(items[0])]
    return [future.result() for future in [_pool.submit(fn, item) for item in items]]


# --- reads -------------------------------------------------------------------------------

def _read_json(name: str) -> tuple[bytes, str] | None:
    try:
        downloader = container().download_blob(name)
        return downloader.readall(), downloader.properties.etag
    except ResourceNotFoundError:
        return None


def read_record(correspondence_id: uuid.UUID) -> tuple[CorrespondenceRecord, str] | None:
    found = _read_json(record_name(correspondence_id))
    if found is None:
        return None
    return CorrespondenceRecord.model_validate_json(found[0]), found[1]


def read_manifest(request_id: uuid.UUID) -> RequestManifest | None:
    found = _read_json(manifest_name(request_id))
    return None if found is None else RequestManifest.model_validate_json(found[0])


def read_visible(correspondence_id: uuid.UUID) -> tuple[CorrespondenceRecord, RequestManifest, str] | None:
    """A correspondence as clients see it: only when its request committed."""
    found = read_record(correspondence_id)
    if found is None:
        return None
    record, etag = found
    manifest = read_manifest(record.requestId)
    if manifest is None:
        return None
    return record, manifest, etag


def read_claim(key: uuid.UUID) -> tuple[IdempotencyClaim, str] | None:
    found = _read_json(claim_name(key))
    return None if found is None else (IdempotencyClaim.model_validate_json(found[0]), found[1])


# --- idempotency -------------------------------------------------------------------------

def _claim_state(claim: IdempotencyClaim, now: datetime) -> str:
    """committed (its request is stored), in-flight (may still commit) or stale (never will).

    A request refuses to commit after ``COMMIT_DEADLINE``, so a claim older than
    ``CLAIM_GRACE`` without a manifest can be taken over without risking a duplicate.
    """
    if read_manifest(claim.requestId) is not None:
        return "committed"
    return "in-flight" if now - as_utc(claim.created) < CLAIM_GRACE else "stale"


class IdempotentKeyTaken(Exception):
    """The key's request is stored; ``correspondence_id`` is the correspondence it created."""

    def __init__(self, correspondence_id: uuid.UUID) -> None:
        super().__init__(str(correspondence_id))
        self.correspondence_id = correspondence_id


def committed_correspondence(key: uuid.UUID, now: datetime | None = None) -> uuid.UUID | None:
    """The correspondence a stored request created with this key, if any. Requests still in
    flight are settled when the key is claimed (``store_new``)."""
    found = read_claim(key)
    if found is not None and _claim_state(found[0], now or utcnow()) == "committed":
        return found[0].correspondenceId
    return None


def _claim(claim: IdempotencyClaim) -> None:
    blobs = container()
    deadline = time.monotonic() + IN_FLIGHT_WAIT.total_seconds()
    while True:
        try:
            blobs.upload_blob(claim_name(claim.key), claim.to_bytes(), overwrite=False)
            return
        except ResourceExistsError:
            pass
        found = read_claim(claim.key)
        if found is not None and found[0].requestId == claim.requestId:
            return  # ours: the SDK retried a create that had landed (its answer was lost)
        if found is None:
            if time.monotonic() > deadline:
                raise ServiceUnavailable("the idempotentKey claim keeps changing")
            continue  # released meanwhile: try again
        existing, etag = found
        state = _claim_state(existing, utcnow())
        if state == "committed":
            raise IdempotentKeyTaken(existing.correspondenceId) from None
        if state == "stale":  # left by a request that can no longer commit: take it over
            try:
                blobs.delete_blob(claim_name(claim.key), etag=etag, match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                pass
            continue
        if time.monotonic() > deadline:
            # Another request with this key is still being stored: its outcome decides.
            raise ServiceUnavailable("a request with the same idempotentKey is in progress")
        time.sleep(0.05)


# --- the one write of an accepted request ------------------------------------------------

def visibility_delay(publish_at: datetime, now: datetime) -> timedelta:
    return min(max(publish_at - now, timedelta(0)), MAX_VISIBILITY)


def send_publish_message(message: PublishMessage, delay: timedelta, profile: clients.Profile = "request"):
    return publish_queue(profile).send_message(
        message.model_dump_json().encode("utf-8"),
        visibility_timeout=int(delay.total_seconds()),
        time_to_live=-1,  # never expires: a message that waits for its publish time must not vanish
    )


class CommitOutcomeUnknown(ServiceUnavailable):
    """The manifest write failed without a definite answer and storage did not answer again
    within ``COMMIT_RESOLVE_WAIT``: the request may have committed (its response was lost)."""

    client_detail = (
        "Storage failed while this request was being stored; it may have been stored. Send it "
        "again with the same idempotentKey: a 409 (1034) names the stored correspondence."
    )


def _write_commit_point(blobs, manifest: RequestManifest) -> None:
    """Write the manifest (the commit point), and find out whether it landed when storage
    fails without a definite answer.

    A write whose response is lost (storage stopped or the connection broke after the write
    was applied) may have committed; the SDK's retry then fails too, or finds the blob there.
    Answering 503 for a request that committed would tell the client "failed" about a
    correspondence that will be published, so the manifest is read back, for up to
    ``COMMIT_RESOLVE_WAIT``: there means committed (the caller answers 200), absent means not
    (the caller compensates and answers 503). Still unknown: ``CommitOutcomeUnknown``, a 503
    that says so. If the manifest landed, the compensation cannot have deleted it (it deletes
    the manifest first, and stops at the first unreachable call), so neither is the claim: a
    retry with the same key answers 409 naming the stored correspondence.
    """
    name = manifest_name(manifest.requestId)
    try:
        blobs.upload_blob(name, manifest.to_bytes(), overwrite=False)
        return
    except ResourceExistsError:
        return  # ours (a fresh random request id): a retried create that had landed
    except AzureError as exc:
        status = getattr(exc, "status_code", None)
        if status is not None and status < 500 and status != 408:
            raise  # a definite refusal: nothing was written
        failure = exc
    deadline = time.monotonic() + COMMIT_RESOLVE_WAIT.total_seconds()
    while True:
        try:
            blobs.get_blob_client(name).get_blob_properties(retry_total=0)  # this loop paces the retries
        except ResourceNotFoundError:
            raise failure from None  # definitely not committed
        except AzureError:
            if time.monotonic() > deadline:
                raise CommitOutcomeUnknown("the outcome of the manifest write is unknown") from failure
            time.sleep(COMMIT_RESOLVE_INTERVAL)
            continue
        logger.warning("request %s committed although its manifest write failed (%s)", manifest.requestId, type(failure).__name__)
        return


def store_new(request: NewRequest, attachments: AttachmentLinks) -> None:
    """Store and queue one accepted request, or leave nothing that will be published.

    Raises the storage error after compensating (the HTTP layer answers 503), or
    ``IdempotentKeyTaken`` when another request stored the key first. The caller lists
    the committed request for search (``correspondence_index.add``).
    """
    manifest = request.manifest
    now = manifest.created
    claim = None
    if manifest.idempotentKey is not None:
        claim = IdempotencyClaim(
            key=manifest.idempotentKey,
            correspondenceId=manifest.correspondenceIds[0],
            requestId=manifest.requestId,
            created=now,
        )
        _claim(claim)
    sent = None
    written: list[uuid.UUID] = []
    linked: list[uuid.UUID] = []
    try:
        message = PublishMessage.for_request(manifest)
        delay = max(visibility_delay(manifest.requestedPublishTime, now), FIRST_DELIVERY_DELAY)
        sent = send_publish_message(message, delay)
        blobs = container()

        def write(record: CorrespondenceRecord) -> None:
            try:
                blobs.upload_blob(record_name(record.id), record.to_bytes(), overwrite=False)
            except ResourceExistsError:
                pass  # ours (ids derive from a fresh random request id): a retried create that landed
            written.append(record.id)

        parallel(write, request.records)
        for attachment_id in manifest.attachmentIds:
            attachments.link(attachment_id, manifest.correspondenceIds)
            linked.append(attachment_id)
        if utcnow() - now > COMMIT_DEADLINE:
            raise ServiceUnavailable("storage too slow: the request was not committed")
        _write_commit_point(blobs, manifest)
    except BaseException:
        _compensate(manifest, sent, written, linked, claim, attachments)
        raise


def _compensate(
    manifest: RequestManifest,
    sent,
    written: list[uuid.UUID],
    linked: list[uuid.UUID],
    claim: IdempotencyClaim | None,
    attachments: AttachmentLinks,
) -> None:
    """Best effort: whatever fails here, the publisher aborts the request after ABORT_AFTER."""
    unreachable = False

    def attempt(action: Callable[[], object]) -> None:
        nonlocal unreachable
        if unreachable:  # storage is down: don't make the client wait for more failures
            return
        try:
            action()
        except ResourceNotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001 - storage may be the thing that is down
            unreachable = isinstance(exc, ServiceRequestError)
            logger.warning("compensation of request %s incomplete (%s)", manifest.requestId, type(exc).__name__)

    blobs = clients.blob_service().get_container_client(clients.CORRESPONDENCES_CONTAINER)
    attempt(lambda: blobs.delete_blob(manifest_name(manifest.requestId)))
    if claim is not None:  # first after the commit point: it is what a retrying client needs
        attempt(lambda: blobs.delete_blob(claim_name(claim.key)))
    if sent is not None:
        attempt(lambda: publish_queue().delete_message(sent.id, sent.pop_receipt))
    for correspondence_id in written:
        attempt(lambda cid=correspondence_id: blobs.delete_blob(record_name(cid)))
    for attachment_id in linked:
        attempt(lambda aid=attachment_id: attachments.unlink(aid, manifest.correspondenceIds))


def abort_request(message: PublishMessage, attachments: AttachmentLinks) -> None:
    """Delete what an uncommitted request left behind (its client never got a 200)."""
    blobs = container()
    key = None
    attachment_ids: set[uuid.UUID] = set()
    for correspondence_id in message.correspondence_ids():
        found = read_record(correspondence_id)
        if found is not None:
            key = key or found[0].idempotentKey
            attachment_ids.update(found[0].attachmentIds)
            try:
                blobs.delete_blob(record_name(correspondence_id))
            except ResourceNotFoundError:
                pass
    for attachment_id in attachment_ids:
        attachments.unlink(attachment_id, message.correspondence_ids())
    if key is not None:
        claim = read_claim(key)
        if claim is not None and claim[0].requestId == message.requestId:
            try:
                blobs.delete_blob(claim_name(key))
            except ResourceNotFoundError:
                pass
    logger.info("aborted uncommitted request %s (%d correspondences)", message.requestId, message.count)


def save_record(record: CorrespondenceRecord, etag: str) -> str:
    """Optimistic concurrency: fails with ResourceModifiedError if someone else wrote first."""
    result = container().get_blob_client(record_name(record.id)).upload_blob(
        record.to_bytes(), overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified
    )
    return result["etag"]


def update_record(
    correspondence_id: uuid.UUID, change: Callable[[CorrespondenceRecord], Decision[R]]
) -> optimistic.Updated[CorrespondenceRecord, R] | None:
    """Read-modify-write with ETag retries (``shared.storage.optimistic``)."""
    return optimistic.update(
        lambda: read_record(correspondence_id), save_record, change, attempts=10, what=f"correspondence {correspondence_id}"
    )


def decode_message(body: bytes) -> PublishMessage:
    return PublishMessage.model_validate(json.loads(body))
