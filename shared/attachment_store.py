"""Attachments in Blob Storage: one metadata document per attachment, one blob for its bytes.

Layout::

    attachment-records/{id}.json   AttachmentRecord (metadata, status history, links, upload state)
    attachments/{id}               the file (a block blob, committed when the upload completes)

Every change is a read-modify-write of the record with ``If-Match`` on its ETag, retried on a
conflict, so that concurrent writers never lose each other's changes: a purge racing with a
link, two uploads racing for the same attachment, a malware-scan result racing with the end of
an upload. Status rows are append-only; the current status is the latest row by time (§6.1).

Functions used by the correspondence code: ``read_attachment``, ``current_status``, ``link``,
``unlink``, ``set_scan_result``. The upload and purge services use ``update``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Callable, Iterable, Literal

from pydantic import Field

from shared import errors, optimistic, storage_clients
from shared.records import StatusEvent, _Stored, utcnow

logger = logging.getLogger(__name__)

# Attachment statuses (AttachmentStatusExt) and the integer values upstream gives them.
INITIALIZED = "Initialized"
UPLOAD_PROCESSING = "UploadProcessing"
PUBLISHED = "Published"
PURGED = "Purged"
FAILED = "Failed"
EXPIRED = "Expired"
ATTACHMENT_STATUS_ORDER = {INITIALIZED: 0, UPLOAD_PROCESSING: 1, PUBLISHED: 2, PURGED: 3, FAILED: 4, EXPIRED: 5}

_UPDATE_ATTEMPTS = 20


class UploadState(_Stored):
    """An upload in progress (absent when none is).

    ``single``: one request carries the whole file; the state only marks the claim.
    ``chunked``: ``Content-Range`` requests; ``ranges`` are the byte ranges ``[start, end)``
    already staged as blocks (coalesced, sorted). Blocks are laid out on a fixed grid of
    ``blockSize`` bytes (block ``i`` covers ``[i*blockSize, (i+1)*blockSize)``, the last one
    shorter), so that any chunk boundaries give the same block list. ``hashedTo`` is the length
    of the prefix whose MD5 state ``md5State`` (serialised by ``md5Impl``) holds; the rest is
    hashed at completion by reading the committed blob back.
    """

    mode: Literal["single", "chunked"]
    started: datetime
    total: int | None = None
    blockSize: int | None = None
    ranges: list[tuple[int, int]] = Field(default_factory=list)
    hashedTo: int = 0
    md5State: str | None = None
    md5Impl: str | None = None
    # Set by the request that stored the last missing range while it commits and verifies.
    completing: datetime | None = None

    def received(self) -> int:
        return sum(end - start for start, end in self.ranges)

    def is_complete(self) -> bool:
        return self.total is not None and self.ranges == [(0, self.total)]


class AttachmentRecord(_Stored):
    id: uuid.UUID
    resourceId: str
    sender: str  # urn:altinn:organization:identifier-no:<owner org>
    fileName: str | None = None
    displayName: str | None = None
    isEncrypted: bool = False
    checksum: str | None = ""
    sendersReference: str
    expirationInDays: int | None = None
    dataType: str
    size: int | None = None
    created: datetime
    statusHistory: list[StatusEvent] = Field(default_factory=list)
    correspondenceIds: list[uuid.UUID] = Field(default_factory=list)
    upload: UploadState | None = None

    def has_status(self, status: str) -> bool:
        return any(event.status == status for event in self.statusHistory)

    def current(self) -> StatusEvent:
        """The latest row by time; rows written in the same instant: the later one."""
        indexed = list(enumerate(self.statusHistory))
        return max(indexed, key=lambda item: (item[1].statusChanged, item[0]))[1]

    def add_status(self, status: str, text: str | None = None, when: datetime | None = None) -> None:
        when = when or utcnow()
        if self.statusHistory:  # keep "latest by time" equal to "last appended"
            when = max(when, max(e.statusChanged for e in self.statusHistory))
        self.statusHistory.append(StatusEvent(status=status, statusText=text or status, statusChanged=when))


def current_status(record: AttachmentRecord) -> str:
    return record.current().status


def record_name(attachment_id: uuid.UUID) -> str:
    return f"{attachment_id}.json"


def ensure_ready() -> None:
    """Create containers on first use in this process (Bicep creates them in Azure)."""
    storage_clients.ensure_storage_once()


def records_container():
    ensure_ready()
    return storage_clients.blob_service().get_container_client(storage_clients.ATTACHMENT_RECORDS_CONTAINER)


def blob_client(attachment_id: uuid.UUID):
    """The file's block blob, named by the attachment id (container ``attachments``)."""
    ensure_ready()
    return storage_clients.blob_service().get_blob_client(storage_clients.ATTACHMENTS_CONTAINER, str(attachment_id))


# --- reads and writes ----------------------------------------------------------------------

def read_with_etag(attachment_id: uuid.UUID) -> tuple[AttachmentRecord, str] | None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        downloader = records_container().download_blob(record_name(attachment_id))
        return AttachmentRecord.model_validate_json(downloader.readall()), downloader.properties.etag
    except ResourceNotFoundError:
        return None


def read_attachment(attachment_id: uuid.UUID) -> AttachmentRecord | None:
    found = read_with_etag(attachment_id)
    return None if found is None else found[0]


def create(record: AttachmentRecord) -> None:
    """Store a new record; never overwrites (ids are random, a clash is a bug)."""
    from azure.core.exceptions import ResourceExistsError

    try:
        records_container().upload_blob(record_name(record.id), record.to_bytes(), overwrite=False)
    except ResourceExistsError:
        pass  # ours: the SDK retried a create that had landed (its answer was lost)


def save(record: AttachmentRecord, etag: str) -> str:
    """Write ``record`` only if nobody wrote since ``etag`` (else ``ResourceModifiedError``)."""
    from azure.core import MatchConditions

    blob = records_container().get_blob_client(record_name(record.id))
    result = blob.upload_blob(record.to_bytes(), overwrite=True, etag=etag, match_condition=MatchConditions.IfNotModified)
    return result["etag"]


def update(attachment_id: uuid.UUID, change: Callable[[AttachmentRecord], bool]) -> AttachmentRecord | None:
    """Read-modify-write with ETag retries.

    ``change`` mutates the record and returns whether to write it; it may raise (e.g. a
    ``ProblemError``) to abort, and is called again on a fresh copy after a conflict, so it
    must decide from the record it is given. Returns the record as written (or as read when
    nothing was written), ``None`` when the attachment does not exist.
    """
    return optimistic.update(
        lambda: read_with_etag(attachment_id), save, change, attempts=_UPDATE_ATTEMPTS, what=f"attachment {attachment_id}"
    )


# --- used by the correspondence code -------------------------------------------------------

def link(attachment_id: uuid.UUID, correspondence_ids: Iterable[uuid.UUID], *, require_published: bool = True) -> None:
    """Record that these correspondences use the attachment (atomically, with ETag).

    Re-checks in the same write that the attachment is still ``Published`` and was never
    purged, so a purge racing with a link never leaves a purged attachment linked: either the
    link is written first (the purge then sees it: 2007) or the purge is (this raises 1018).
    A record that no longer exists raises 1007.

    ``require_published=False``: a file the same request uploaded (multipart initialize). It
    may still await its malware scan; nobody else knows its id, and the publisher fails the
    correspondence if the scan fails it.
    """
    ids = list(correspondence_ids)

    def change(record: AttachmentRecord) -> bool:
        if require_published and (
            current_status(record) != PUBLISHED or record.has_status(PURGED) or record.has_status(EXPIRED)
        ):
            raise errors.ATTACHMENT_NOT_PUBLISHED.error()
        missing = [cid for cid in ids if cid not in record.correspondenceIds]
        record.correspondenceIds.extend(missing)
        return bool(missing)

    if update(attachment_id, change) is None:
        raise errors.EXISTING_ATTACHMENT_NOT_FOUND.error()


def unlink(attachment_id: uuid.UUID, correspondence_ids: Iterable[uuid.UUID]) -> None:
    """Remove links (idempotent; an unknown attachment is fine: nothing to undo)."""
    ids = set(correspondence_ids)

    def change(record: AttachmentRecord) -> bool:
        kept = [cid for cid in record.correspondenceIds if cid not in ids]
        if len(kept) == len(record.correspondenceIds):
            return False
        record.correspondenceIds = kept
        return True

    update(attachment_id, change)


def set_scan_result(attachment_id: uuid.UUID, clean: bool, text: str) -> AttachmentRecord | None:
    """Apply a malware-scan result (whatever ``MALWARE_SCAN_MODE`` is).

    Clean: ``Published`` if the attachment is ``UploadProcessing`` (otherwise unchanged, e.g. a
    duplicate event or an upload that failed its checksum). Malicious: ``Failed``, even when it
    was already ``Published`` (a late result), unless it was purged or expired. Returns the
    record so that the caller can fail the correspondences in ``correspondenceIds``; ``None``
    when the attachment does not exist.
    """

    def change(record: AttachmentRecord) -> bool:
        status = current_status(record)
        if clean:
            if status != UPLOAD_PROCESSING:
                return False
            record.add_status(PUBLISHED, text)
            return True
        if status in (FAILED, PURGED, EXPIRED):
            return False
        record.add_status(FAILED, text)
        return True

    record = update(attachment_id, change)
    if record is not None:
        logger.info("scan result applied to attachment %s: %s", attachment_id, current_status(record))
    return record


__all__ = [
    "ATTACHMENT_STATUS_ORDER",
    "AttachmentRecord",
    "EXPIRED",
    "FAILED",
    "INITIALIZED",
    "PUBLISHED",
    "PURGED",
    "UPLOAD_PROCESSING",
    "UploadState",
    "blob_client",
    "create",
    "current_status",
    "link",
    "read_attachment",
    "read_with_etag",
    "save",
    "set_scan_result",
    "unlink",
    "update",
]
