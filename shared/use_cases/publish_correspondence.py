"""Publishing: the consumer of the publish queue, and the lifecycle after initialize.

One message per accepted request. For each of its correspondences, once the publish time has
come and every linked attachment is ``Published``: ``ReadyForPublish`` (if missing), then
``Published`` with a ``published`` time. An attachment that ``Failed`` (or was purged) fails
the correspondence. Work that is not due, or waits for attachments, is re-scheduled with a
visibility delay; a correspondence already final is left alone, so a duplicate delivery changes
nothing. An exception leaves the message to the queue's retries and, after five, its poison
queue; the error line names the correspondence ids.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.core.clock import as_utc, utcnow
from shared.core.documents import RequestManifest
from shared.core.statuses import AttachmentStatus
from shared.rules import correspondence_lifecycle as lifecycle
from shared.rules.correspondence_lifecycle import AttachmentsState
from shared.storage import attachment_store, correspondence_index
from shared.storage import correspondence_store as store
from shared.use_cases.attachment_links import AttachmentLinks

logger = logging.getLogger(__name__)

# While the writes of a just-accepted request are still in flight, look again soon.
UNCOMMITTED_RETRY = timedelta(seconds=5)
# Waiting for a malware scan: a clean result re-queues at once, this is the safety net.
ATTACHMENT_WAIT = timedelta(minutes=1)
# A listing-index write failed: come back this soon to repair it.
INDEX_RETRY = timedelta(minutes=1)
INDEX_REPAIR_WINDOW = timedelta(days=1)


def publish_correspondence(body: bytes, now: datetime | None = None) -> str:
    """Process one publish message; returns what happened (for logs and tests)."""
    message = store.decode_message(body)
    ids = message.correspondence_ids()
    try:
        return _handle(message, now or utcnow())
    except Exception:
        logger.error("publishing request %s failed; correspondences %s", message.requestId, ", ".join(map(str, ids)))
        raise


def _handle(message: store.PublishMessage, now: datetime) -> str:
    manifest = store.read_manifest(message.requestId)
    if manifest is None:
        if now - as_utc(message.created) < store.ABORT_AFTER:
            _reschedule(message, UNCOMMITTED_RETRY)
            return "uncommitted"
        store.abort_request(message, AttachmentLinks())
        return "aborted"
    publish_at = as_utc(manifest.requestedPublishTime)
    if publish_at > now:
        delay = store.visibility_delay(publish_at, now)
        if not correspondence_index.ensure_request(manifest, _read_record):  # repairs initialize's index write
            delay = min(delay, INDEX_RETRY)
        _reschedule(message, delay)
        return "not-due"
    # Every correspondence of a request links the same attachments: look them up once.
    attachments = attachments_state(manifest.attachmentIds)
    results = store.parallel(lambda cid: publish_one(cid, manifest, now, attachments), message.correspondence_ids())
    if any(result.outcome == "waiting" for result in results):
        _reschedule(message, ATTACHMENT_WAIT)
        return "waiting"
    if not all(result.indexed for result in results) and now - publish_at < INDEX_REPAIR_WINDOW:
        # not yet listed with its status
        _reschedule(message, INDEX_RETRY)
        return "index-retry"
    return "done"


def _read_record(correspondence_id: uuid.UUID):
    found = store.read_record(correspondence_id)
    return None if found is None else found[0]


def attachments_state(attachment_ids: list[uuid.UUID]) -> AttachmentsState:
    if not attachment_ids:
        return AttachmentsState(all_published=True)
    all_published = True
    for attachment_id in attachment_ids:
        record = attachment_store.read(attachment_id)
        status = record.status if record is not None else AttachmentStatus.Purged
        if status in (AttachmentStatus.Failed, AttachmentStatus.Purged, AttachmentStatus.Expired):
            return AttachmentsState(False, f"Attachment {attachment_id} is {status.name}")
        if status is not AttachmentStatus.Published:
            all_published = False
    return AttachmentsState(all_published)


@dataclass(frozen=True)
class Published:
    outcome: lifecycle.PublishOutcome
    indexed: bool  # False: the index entry could not be written (the next delivery repairs it)


def publish_one(
    correspondence_id: uuid.UUID, manifest: RequestManifest, now: datetime, attachments: AttachmentsState
) -> Published:
    updated = store.update_record(correspondence_id, lambda record: lifecycle.publish(record, attachments, now))
    if updated is None:
        raise LookupError(f"correspondence {correspondence_id} of committed request {manifest.requestId} is missing")
    # Every delivery puts the entry (creating a missing one): the index follows the status.
    return Published(updated.outcome, correspondence_index.set_status(updated.document))


def _reschedule(message: store.PublishMessage, delay: timedelta) -> None:
    store.send_publish_message(message, delay, profile="background")


def fail_correspondences(correspondence_ids: list[uuid.UUID], text: str) -> None:
    """An attachment failed (malicious scan): every correspondence linking it fails, if not final."""
    now = utcnow()

    def fail(correspondence_id: uuid.UUID) -> None:
        updated = store.update_record(correspondence_id, lambda record: lifecycle.fail(record, text, now))
        if updated is not None:
            correspondence_index.set_status(updated.document)

    store.parallel(fail, correspondence_ids)


def requeue_for(correspondence_ids: list[uuid.UUID]) -> None:
    """An attachment became Published: look at the waiting requests now instead of later."""
    seen: set[uuid.UUID] = set()
    for correspondence_id in correspondence_ids:
        found = store.read_record(correspondence_id)
        if found is None or found[0].requestId in seen:
            continue
        record = found[0]
        seen.add(record.requestId)
        manifest = store.read_manifest(record.requestId)
        if manifest is None:
            continue
        message = store.PublishMessage.for_request(manifest)
        store.send_publish_message(message, store.visibility_delay(as_utc(manifest.requestedPublishTime), utcnow()), profile="background")
