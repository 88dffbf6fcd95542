"""The retention job (timer, every 5 minutes): expired attachments and abandoned uploads.

* An attachment past ``expiresAt``, the latest expiry of its links (set when correspondences
  link it), becomes ``Expired`` and its file is deleted (behaviour §7.2 item 2). The record is
  marked first, then the file deleted, then the deletion recorded (``fileDeletedAt``): a run
  that stops half-way leaves the record indexed, and the next run finishes it.
* An upload still open at its ``abandonAt`` (``ATTACHMENT_UPLOAD_TIMEOUT_HOURS`` after a chunked
  upload started, default 24; 10 minutes after a single-request one) is abandoned: ``Failed``,
  the blob deleted (deleting a block blob discards its staged blocks; Azure would drop
  uncommitted blocks after 7 days anyway), a direct upload's staging blob deleted, and a chunked
  or direct upload's quota released.

Candidates come from the blob index (``attachment_store.due``: the records' ``expiresAt`` and
``abandonAt`` tags, written with each record), so a run reads only records with work due, never
every record; each candidate is then decided on the record itself
(``shared.rules.attachment_retention``), so a stale index hit changes nothing. At most
``MAX_PER_RUN`` of each kind per run; the rest waits for the next run. ``now`` is the job's
clock: tests pass a later one.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.core.clock import utcnow
from shared.core.identifiers import organization_of
from shared.rules import attachment_retention as retention
from shared.storage import attachment_store, blocks
from shared.use_cases.upload_attachment import discard_upload

logger = logging.getLogger(__name__)

MAX_PER_RUN = 500


@dataclass(frozen=True)
class RetentionRun:
    expired: int = 0
    abandoned: int = 0
    failed: int = 0  # candidates whose handling failed (retried next run)


def expire_attachments(now: datetime | None = None) -> RetentionRun:
    now = now or utcnow()
    expired = abandoned = failed = 0
    for attachment_id in attachment_store.due("expiresAt", now, MAX_PER_RUN):
        try:
            expired += _expire(attachment_id, now)
        except Exception as exc:  # noqa: BLE001 - one candidate must not stop the others
            failed += 1
            logger.warning("expiring attachment %s failed (%s); next run retries", attachment_id, type(exc).__name__)
    for attachment_id in attachment_store.due("abandonAt", now, MAX_PER_RUN):
        try:
            abandoned += _abandon(attachment_id, now)
        except Exception as exc:  # noqa: BLE001
            failed += 1
            logger.warning("abandoning the upload of %s failed (%s); next run retries", attachment_id, type(exc).__name__)
    if expired or abandoned or failed:
        log = logger.error if failed else logger.info
        log("retention: %d attachment(s) expired, %d upload(s) abandoned, %d failed", expired, abandoned, failed)
    return RetentionRun(expired, abandoned, failed)


def _expire(attachment_id: uuid.UUID, now: datetime) -> int:
    updated = attachment_store.update(attachment_id, lambda r: retention.expire(r, now))
    if updated is None or not updated.outcome:
        return 0
    blocks.delete_blob_background(attachment_id)
    attachment_store.update(attachment_id, lambda r: retention.file_deleted(r, now))
    logger.info("attachment %s expired; its file is deleted", attachment_id)
    return 1


def _abandon(attachment_id: uuid.UUID, now: datetime) -> int:
    updated = attachment_store.update(attachment_id, lambda r: retention.abandon_upload(r, now))
    if updated is None or updated.outcome is None:
        return 0
    blocks.delete_blob_background(attachment_id)
    discard_upload(organization_of(updated.document.sender), attachment_id, updated.outcome, profile="background")
    logger.info("the %s upload of attachment %s was abandoned", updated.outcome.mode, attachment_id)
    return 1
