"""The queue-triggered publisher (``publish_correspondence``), and the lifecycle after initialize.

One message per accepted request, whatever its number of recipients, and the same few storage
operations to publish it: read the request's state, read its attachments, write the state once
(``ReadyForPublish`` if missing, then ``Published``, for every correspondence still sharing the
request's lifecycle). An attachment that ``Failed`` (or was purged) fails them instead. Work
that is not due, or waits for attachments, is re-scheduled with a visibility delay; a request
already final is left alone, so a duplicate delivery changes nothing. An exception leaves the
message to the queue's retries and, after five, its poison queue; the error line names the
request and its correspondence ids.

Publishing yields to the request path (``shared.core.capacity``): at most ``PUBLISH_CONCURRENCY``
messages at once, one while the API is busy.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

from shared.core.capacity import capacity
from shared.core.clock import as_utc, utcnow
from shared.core.documents import AttachmentLink, RequestState
from shared.core.statuses import AttachmentStatus
from shared.rules import correspondence_lifecycle as lifecycle
from shared.rules.correspondence_lifecycle import AttachmentsState
from shared.storage import attachment_store, publish_queue, request_states
from shared.storage import correspondence_store as store
from shared.storage.publish_queue import PublishMessage
from shared.storage.request_states import Keys
from shared.use_cases.attachment_links import AttachmentLinks

logger = logging.getLogger(__name__)

# A message is sent before its request commits (so a crash leaves work for the publisher) and
# is visible at once when due: a commit a few milliseconds behind it is waited for here ...
COMMIT_LAG = timedelta(seconds=1)
COMMIT_LAG_POLL = 0.1
# ... and a longer one is looked at again later.
UNCOMMITTED_RETRY = timedelta(seconds=5)
# Waiting for a malware scan: a clean result re-queues at once, this is the safety net.
ATTACHMENT_WAIT = timedelta(minutes=1)
# Listed in error lines to find a failed request's correspondences (never personal data).
_LOGGED_IDS = 5


def publish_correspondence(body: bytes, now: datetime | None = None) -> str:
    """Process one publish message; returns what happened (for logs and tests)."""
    message = publish_queue.decode(body)
    with capacity.background_work():
        try:
            return _handle(message, now or utcnow())
        except Exception:
            logger.error("publishing request %s failed; correspondences %s", message.requestKey, _ids_for_log(message))
            raise


def _ids_for_log(message: PublishMessage) -> str:
    """The first correspondence ids of the request (its state may be what cannot be read)."""
    try:
        count = None
        try:
            found = request_states.read(message.keys, profile="background")
            count = found[0].count if found is not None else None
        except Exception:  # noqa: BLE001 - a corrupt or unreadable state: name the first one
            pass
        shown = min(count or 1, _LOGGED_IDS)
        ids = ", ".join(str(store.correspondence_id(message.requestKey, index)) for index in range(shown))
        if count is None:
            return ids + " (and any others of the request)"
        return ids + (f" and {count - shown} more" if count > shown else "")
    except Exception:  # noqa: BLE001 - storage may be what failed; the request key is logged anyway
        return "(unavailable)"


def _handle(message: PublishMessage, now: datetime) -> str:
    found = request_states.read(message.keys, profile="background")
    while found is None and utcnow() - as_utc(message.created) < COMMIT_LAG:
        time.sleep(COMMIT_LAG_POLL)
        found = request_states.read(message.keys, profile="background")
    if found is None:
        if now - as_utc(message.created) < store.ABORT_AFTER:
            _reschedule(message, UNCOMMITTED_RETRY)
            return "uncommitted"
        store.abort_request(message, AttachmentLinks())
        return "aborted"
    state = found[0]
    publish_at = as_utc(state.requestedPublishTime)
    if publish_at > now:
        _reschedule(message, publish_queue.visibility_delay(publish_at, now))
        return "not-due"
    # Every correspondence of a request links the same attachments: look them up once.
    attachments = attachments_state(state.attachmentIds)
    updated = request_states.update(
        message.keys, lambda current: lifecycle.publish(current, attachments, now), profile="background", read_already=found
    )
    if updated is None:
        raise LookupError(f"committed request {message.requestKey} is missing")
    if updated[1] == "waiting":
        _reschedule(message, ATTACHMENT_WAIT)
        return "waiting"
    return "done"


def attachments_state(attachment_ids: list[uuid.UUID]) -> AttachmentsState:
    if not attachment_ids:
        return AttachmentsState(all_published=True)
    all_published = True
    for attachment_id in attachment_ids:
        record = attachment_store.read(attachment_id)
        status = record.status if record is not None else AttachmentStatus.Purged
        if status in (AttachmentStatus.Failed, AttachmentStatus.Purged, AttachmentStatus.Expired):
            return AttachmentsState(False, f"Attachment {attachment_id} is {status}")
        if status is not AttachmentStatus.Published:
            all_published = False
    return AttachmentsState(all_published)


def _reschedule(message: PublishMessage, delay: timedelta) -> None:
    publish_queue.send(message, delay, profile="background")


def fail_correspondences(links: list[AttachmentLink], text: str) -> None:
    """An attachment failed (malicious scan): the correspondences linking it fail, if not final
    (one write per linking request; purged ones let go of it and stay purged)."""
    now = utcnow()
    for link in links:
        if link.positions():
            request_states.update(Keys(link.partition, link.row), lambda state: lifecycle.fail(state, text, now))


def requeue_for(links: list[AttachmentLink]) -> None:
    """An attachment became Published: look at the waiting requests now instead of later."""
    for link in links:
        found = request_states.read(Keys(link.partition, link.row), profile="background")
        if found is None:
            continue
        state: RequestState = found[0]
        delay = publish_queue.visibility_delay(as_utc(state.requestedPublishTime), utcnow())
        publish_queue.send(PublishMessage.for_request(state), delay, profile="background")
