"""Retention of attachments, run by the ``expire_attachments`` timer (part of the attachment
state machine of ``shared.rules.attachment_lifecycle``; kept apart so that module stays about
requests).

* An attachment past ``expiresAt`` (the latest expiry of its links, set when correspondences
  link it) becomes ``Expired`` and its file is deleted (behaviour §7.2 item 2), unless it was
  purged or expired already.
* An upload still open at its ``abandonAt`` (a chunked upload ``ATTACHMENT_UPLOAD_TIMEOUT_HOURS``
  after it started; a single-request one after ``SINGLE_UPLOAD_MAX_DURATION``) is abandoned:
  ``Failed``, its staged blocks discarded, a chunked upload's quota released.

The functions take ``now`` (the job's clock, which tests move) and return ``Decision``s; the
use case runs them inside ``attachment_store.update``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from shared.core.clock import as_utc
from shared.core.decisions import Decision, keep, save
from shared.core.documents import AttachmentRecord, UploadState
from shared.core.statuses import AttachmentStatus
from shared.rules.attachment_lifecycle import COMPLETION_STALE_AFTER, TEXT_UPLOAD_INTERRUPTED

TEXT_UPLOAD_ABANDONED = "Upload abandoned: it did not finish within the time allowed"
TEXT_EXPIRED = "Attachment has expired"


def abandon_upload(record: AttachmentRecord, now: datetime) -> Decision[Optional[UploadState]]:
    """An upload still open at its ``abandonAt`` is abandoned: ``Failed`` (unless purged or
    failed already) and its state dropped; unless a completion is running right now. Outcome:
    the abandoned upload's state (the caller deletes the blob, which discards staged blocks,
    and releases a chunked upload's quota)."""
    state = record.upload
    if state is None or state.abandonAt is None or as_utc(state.abandonAt) > now:
        return keep()
    if state.completing is not None and now - as_utc(state.completing) <= COMPLETION_STALE_AFTER:
        return keep()
    record.upload = None
    if record.status not in (AttachmentStatus.Purged, AttachmentStatus.Failed):
        text = TEXT_UPLOAD_INTERRUPTED if state.mode == "single" else TEXT_UPLOAD_ABANDONED
        record.add_status(AttachmentStatus.Failed, text, when=now)
    return save(state)


def expire(record: AttachmentRecord, now: datetime) -> Decision[bool]:
    """Behaviour §7.2 item 2: past ``expiresAt`` (the latest expiry of its links) an attachment
    becomes ``Expired`` unless purged or expired already. Outcome: True while its file must
    still be deleted (then ``file_deleted``)."""
    if record.expiresAt is None or record.fileDeletedAt is not None or record.has_status(AttachmentStatus.Purged):
        return keep(False)
    if record.has_status(AttachmentStatus.Expired):
        return keep(True)  # expired by an earlier run whose deletion did not finish
    if as_utc(record.expiresAt) > now:
        return keep(False)
    record.add_status(AttachmentStatus.Expired, TEXT_EXPIRED, when=now)
    return save(True)


def file_deleted(record: AttachmentRecord, now: datetime) -> Decision[None]:
    if record.fileDeletedAt is not None:
        return keep()
    record.fileDeletedAt = now
    return save()
