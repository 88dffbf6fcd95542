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
from datetime import datetime, timedelta

from shared import correspondence_index
from shared import correspondence_store as store
from shared.records import FINAL_FOR_PUBLISHING, CorrespondenceRecord, RequestManifest, as_utc, utcnow

logger = logging.getLogger(__name__)

# While the writes of a just-accepted request are still in flight, look again soon.
UNCOMMITTED_RETRY = timedelta(seconds=5)
# Waiting for a malware scan: a clean result re-queues at once, this is the safety net.
ATTACHMENT_WAIT = timedelta(minutes=1)
# A listing-index write failed: come back this soon to repair it.
INDEX_RETRY = timedelta(minutes=1)
INDEX_REPAIR_WINDOW = timedelta(days=1)


def handle_message(body: bytes, now: datetime | None = None) -> str:
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
        store.abort_request(message)
        return "aborted"
    publish_at = as_utc(manifest.requestedPublishTime)
    if publish_at > now:
        delay = store.visibility_delay(publish_at, now)
        if not correspondence_index.ensure_request(manifest):  # repairs initialize's index write
            delay = min(delay, INDEX_RETRY)
        _reschedule(message, delay)
        return "not-due"
    outcomes = {}
    index_failures: list[uuid.UUID] = []
    # Every correspondence of a request links the same attachments: look them up once.
    attachments = _attachment_states(manifest.attachmentIds)

    def publish(correspondence_id: uuid.UUID) -> None:
        outcomes[correspondence_id] = publish_one(correspondence_id, manifest, now, attachments, index_failures)

    store.parallel(publish, message.correspondence_ids())
    if "waiting" in outcomes.values():
        _reschedule(message, ATTACHMENT_WAIT)
        return "waiting"
    if index_failures and now - publish_at < INDEX_REPAIR_WINDOW:  # not yet listed with its status
        _reschedule(message, INDEX_RETRY)
        return "index-retry"
    return "done"


def _attachment_states(attachment_ids: list[uuid.UUID]) -> tuple[bool, str | None]:
    """(all published, failure text or None)."""
    if not attachment_ids:
        return True, None
    from shared import attachment_store

    all_published = True
    for attachment_id in attachment_ids:
        record = attachment_store.read_attachment(attachment_id)
        status = attachment_store.current_status(record) if record is not None else "Purged"
        if status in ("Failed", "Purged", "Expired"):
            return False, f"Attachment {attachment_id} is {status}"
        if status != "Published":
            all_published = False
    return all_published, None


def publish_one(
    correspondence_id: uuid.UUID,
    manifest: RequestManifest,
    now: datetime,
    attachments: tuple[bool, str | None],
    index_failures: list | None = None,
) -> str:
    """``attachments`` is ``_attachment_states`` of the request's attachments."""
    ready, failure = attachments
    state = {"outcome": "skipped"}

    def change(record: CorrespondenceRecord) -> bool:
        if any(record.has_status(s) for s in FINAL_FOR_PUBLISHING):
            state["outcome"] = "final"
            return False
        record.committed = True
        if failure is not None:
            record.add_status("Failed", f"Publish failed: {failure}", now)
            state["outcome"] = "failed"
            return True
        if not ready:
            state["outcome"] = "waiting"
            return False
        if not record.has_status("ReadyForPublish"):
            record.add_status("ReadyForPublish", when=now)
        record.add_status("Published", when=utcnow())
        record.published = record.statusHistory[-1].statusChanged
        state["outcome"] = "published"
        return True

    record = store.update_record(correspondence_id, change)
    if record is None:
        raise LookupError(f"correspondence {correspondence_id} of committed request {manifest.requestId} is missing")
    # Every delivery puts the entry (creating a missing one): the index follows the status.
    if not correspondence_index.set_status(record) and index_failures is not None:
        index_failures.append(correspondence_id)
    return state["outcome"]


def _reschedule(message: store.PublishMessage, delay: timedelta) -> None:
    store.send_publish_message(message, delay, profile="background")


def fail_correspondences(correspondence_ids: list[uuid.UUID], text: str) -> None:
    """An attachment failed (malicious scan): every correspondence linking it fails, if not final."""
    now = utcnow()

    def change(record: CorrespondenceRecord) -> bool:
        if any(record.has_status(s) for s in ("Failed", "PurgedByAltinn", "PurgedByRecipient")):
            return False
        record.add_status("Failed", text, now)
        return True

    def fail(correspondence_id: uuid.UUID) -> None:
        record = store.update_record(correspondence_id, change)
        if record is not None:
            correspondence_index.set_status(record)

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
