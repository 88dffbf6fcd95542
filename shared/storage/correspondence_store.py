"""Correspondence requests in Azure Storage: stored once per request, whatever its recipients.

Layout::

    container correspondences
      requests/{requestKey}.json     RequestContent: what the request says (never changed)
      idempotency/{key}.json         IdempotencyClaim (created with If-None-Match: *)
      config/correspondence-ids.key  the id codec's key (shared.storage.id_key)
    table CorrespondenceRequests       RequestState: the lifecycle of all its correspondences and
                                       the sender's search listing (shared.storage.request_states)
    queue correspondence-publish       one PublishMessage per request (shared.storage.publish_queue)

Write order of one accepted request (``store_new``), the same few operations for 1 or 500
recipients::

    claim key (if any) -> publish message -> content -> attachment links -> state (commit)

The publish message goes first so that every later crash leaves work that the publisher
finishes: a message whose state never appears is, after ``ABORT_AFTER``, an aborted request
whose content, links and claim it removes. A failure that we see is compensated at once before
the client gets its 503. Readers treat a request without its state as not existing, so a client
never sees, and the publisher never publishes, a correspondence whose request did not commit.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
)

from shared.core import correspondence_ids, log_context
from shared.core.clock import as_utc, utcnow
from shared.core.documents import IdempotencyClaim, RequestContent, RequestState
from shared.core.errors import ServiceUnavailable
from shared.storage import clients, id_key, publish_queue, request_states
from shared.storage.publish_queue import PublishMessage
from shared.storage.request_states import Keys

logger = logging.getLogger(__name__)

ABORT_AFTER = timedelta(minutes=5)
# A request never writes its commit point later than this after its writes began ...
COMMIT_DEADLINE = timedelta(seconds=10)
# ... so an idempotency claim this old without a commit belongs to a request that failed.
CLAIM_GRACE = timedelta(seconds=30)
# How long a request whose commit write failed without a definite answer keeps asking whether
# it landed: long enough for a blip, short enough that an outage still answers 503 in seconds.
COMMIT_RESOLVE_WAIT = timedelta(seconds=2)
COMMIT_RESOLVE_INTERVAL = 0.2
# How long a request waits for another in-flight request with the same key to settle.
IN_FLIGHT_WAIT = timedelta(seconds=3)


class AttachmentLinks(Protocol):
    """How the request's attachments are linked (and the links undone): the use case's rule
    (an attachment must still be ``Published``), done at the right point of the write order."""

    def link(self, attachment_id: uuid.UUID, state: RequestState) -> None: ...

    def unlink(self, attachment_id: uuid.UUID, request_key: str) -> None: ...


@dataclass
class NewRequest:
    content: RequestContent
    state: RequestState

    @property
    def keys(self) -> Keys:
        return Keys.of(self.state)


def content_name(request_key: str) -> str:
    return f"requests/{request_key}.json"


def claim_name(key: uuid.UUID) -> str:
    return f"idempotency/{key}.json"


def container():
    clients.ensure_storage_once()
    return clients.blob_service().get_container_client(clients.CORRESPONDENCES_CONTAINER)


def correspondence_ids_of(state: RequestState) -> list[uuid.UUID]:
    return correspondence_ids.ids_of(id_key.key(), correspondence_ids.parse_request_name(state.requestKey), state.count)


def correspondence_id(request_key: str, index: int) -> uuid.UUID:
    return correspondence_ids.encode(id_key.key(), correspondence_ids.parse_request_name(request_key), index)


# --- reads -------------------------------------------------------------------------------
def _read_json(name: str) -> tuple[bytes, str] | None:
    try:
        downloader = container().download_blob(name)
        return downloader.readall(), downloader.properties.etag
    except ResourceNotFoundError:
        return None


def read_content(request_key: str) -> RequestContent | None:
    found = _read_json(content_name(request_key))
    return None if found is None else RequestContent.model_validate_json(found[0])


@dataclass(frozen=True)
class Visible:
    """One correspondence as clients see it: its request's content and state, and its place."""

    content: RequestContent
    state: RequestState
    index: int
    correspondence_id: uuid.UUID

    @property
    def keys(self) -> Keys:
        return Keys.of(self.state)


def read_visible(correspondence_id: uuid.UUID) -> Visible | None:
    """Two reads: the content (which names where the state is) and the state. ``None`` unless
    the id is one of ours and its request committed."""
    decoded = correspondence_ids.decode(id_key.key(), correspondence_id)
    if decoded is None:
        return None
    request_key, index = decoded
    content = read_content(correspondence_ids.request_name(request_key))
    if content is None or index >= len(content.recipients):
        return None
    found = request_states.read(Keys(request_states.partition_key(content.sender, content.resourceId),
                                     request_states.row_key(content.requestedPublishTime, content.requestKey)))
    if found is None:
        return None
    return Visible(content, found[0], index, correspondence_id)


def read_claim(key: uuid.UUID) -> tuple[IdempotencyClaim, str] | None:
    found = _read_json(claim_name(key))
    return None if found is None else (IdempotencyClaim.model_validate_json(found[0]), found[1])


# --- idempotency -------------------------------------------------------------------------
class IdempotentKeyTaken(Exception):
    """The key's request is stored; ``correspondence_id`` is the correspondence it created."""

    def __init__(self, correspondence_id: uuid.UUID) -> None:
        super().__init__(str(correspondence_id))
        self.correspondence_id = correspondence_id


def _claim_state(claim: IdempotencyClaim, now: datetime) -> str:
    """committed (its request is stored), in-flight (may still commit) or stale (never will).

    A request refuses to commit after ``COMMIT_DEADLINE``, so a claim older than
    ``CLAIM_GRACE`` without a commit can be taken over without risking a duplicate.
    """
    if request_states.exists(Keys(claim.partition, claim.row)):
        return "committed"
    return "in-flight" if now - as_utc(claim.created) < CLAIM_GRACE else "stale"


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
        if found is not None and found[0].requestKey == claim.requestKey:
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
class CommitOutcomeUnknown(ServiceUnavailable):
    """The commit write failed without a definite answer and storage did not answer again
    within ``COMMIT_RESOLVE_WAIT``: the request may have committed (its response was lost)."""

    client_detail = (
        "Storage failed while this request was being stored; it may have been stored. Send it "
        "again with the same idempotentKey: a 409 (1034) names the stored correspondence."
    )


def _commit(request: NewRequest) -> None:
    """Create the state entity (the commit point), and find out whether it landed when storage
    fails without a definite answer.

    A write whose response is lost (storage stopped or the connection broke after the write
    was applied) may have committed; the SDK's retry then fails too, or finds the entity there.
    Answering 503 for a request that committed would tell the client "failed" about a
    correspondence that will be published, so the state is read back, for up to
    ``COMMIT_RESOLVE_WAIT``: there means committed (the caller answers 200), absent means not
    (the caller compensates and answers 503). Still unknown: ``CommitOutcomeUnknown``, a 503
    that says so. Then the compensation deletes the state first and stops at the first call
    storage does not answer, so the request stays whole (a retry with the same key answers 409
    naming the stored correspondence) or is gone.
    """
    try:
        request_states.create(request.state)
        return
    except AzureError as exc:
        status = getattr(exc, "status_code", None)
        if status is not None and status < 500 and status != 408:
            raise  # a definite refusal: nothing was written
        failure = exc
    deadline = time.monotonic() + COMMIT_RESOLVE_WAIT.total_seconds()
    while True:
        try:
            landed = request_states.exists(request.keys, retry_total=0)  # this loop paces the retries
        except AzureError:
            if time.monotonic() > deadline:
                raise CommitOutcomeUnknown("the outcome of the commit write is unknown") from failure
            time.sleep(COMMIT_RESOLVE_INTERVAL)
            continue
        if not landed:
            raise failure  # definitely not committed
        logger.warning("request %s committed although its commit write failed (%s)", request.state.requestKey, type(failure).__name__)
        return


def store_new(request: NewRequest, attachments: AttachmentLinks, first_id: uuid.UUID) -> None:
    """Store and queue one accepted request, or leave nothing that will be published.

    Raises the storage error after compensating (the HTTP layer answers 503), or
    ``IdempotentKeyTaken`` when another request stored the key first.
    """
    state, content = request.state, request.content
    log_context.bind(request=state.requestKey)
    started = time.monotonic()
    claim = None
    if state.idempotentKey is not None:
        claim = IdempotencyClaim(
            key=state.idempotentKey,
            requestKey=state.requestKey,
            partition=request.keys.partition,
            row=request.keys.row,
            correspondenceId=first_id,
            created=utcnow(),
        )
        _claim(claim)
    sent = None
    stored = False
    linked: list[uuid.UUID] = []
    try:
        # Visible at the publish time, at once when due: the publisher waits briefly for a
        # commit that is a few milliseconds behind its message (publish_correspondence).
        delay = publish_queue.visibility_delay(state.requestedPublishTime, utcnow())
        sent = publish_queue.send(PublishMessage.for_request(state), delay)
        container().upload_blob(content_name(state.requestKey), content.to_bytes(), overwrite=True)
        stored = True
        for attachment_id in state.attachmentIds:
            attachments.link(attachment_id, state)
            linked.append(attachment_id)
        if time.monotonic() - started > COMMIT_DEADLINE.total_seconds():
            raise ServiceUnavailable("storage too slow: the request was not committed")
        _commit(request)
    except BaseException:
        _compensate(request, sent, stored, linked, claim, attachments)
        raise


def _compensate(
    request: NewRequest,
    sent,
    stored: bool,
    linked: list[uuid.UUID],
    claim: IdempotencyClaim | None,
    attachments: AttachmentLinks,
) -> None:
    """Best effort: whatever fails here, the publisher aborts the request after ABORT_AFTER.

    The commit point goes first: a commit whose answer was lost may have landed, and a
    committed request must never lose its content, message or claim underneath it. Deleting
    it first (or stopping at the first unreachable call) keeps the request whole or gone.
    """
    state = request.state
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
            logger.warning("compensation of request %s incomplete (%s)", state.requestKey, type(exc).__name__)

    attempt(lambda: request_states.delete(request.keys))
    if claim is not None:  # next: it is what a retrying client needs
        attempt(lambda: container().delete_blob(claim_name(claim.key)))
    if sent is not None:
        attempt(lambda: publish_queue.delete(sent))
    for attachment_id in linked:
        attempt(lambda aid=attachment_id: attachments.unlink(aid, state.requestKey))
    if stored:
        attempt(lambda: container().delete_blob(content_name(state.requestKey)))


def abort_request(message: PublishMessage, attachments: AttachmentLinks) -> None:
    """Remove what an uncommitted request left behind (its client never got a 200)."""
    for attachment_id in message.attachmentIds:
        attachments.unlink(attachment_id, message.requestKey)
    if message.idempotentKey is not None:
        claim = read_claim(message.idempotentKey)
        if claim is not None and claim[0].requestKey == message.requestKey:
            try:
                container().delete_blob(claim_name(message.idempotentKey))
            except ResourceNotFoundError:
                pass
    try:
        container().delete_blob(content_name(message.requestKey))
    except ResourceNotFoundError:
        pass
    logger.info("aborted uncommitted request %s", message.requestKey)
