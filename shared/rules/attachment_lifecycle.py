"""The attachment state machine (behaviour §6.1), in one place.

Statuses are append-only rows; the current status is the latest row by time::

    Initialized -> UploadProcessing -> Published          (clean scan, or no scanner)
                                    -> Failed             (checksum, storage, interrupted, malware)
    any but Purged/Expired -> Purged                      (DELETE, when not linked)
    Published -> Failed                                   (a late malicious scan result)

Each function here either checks (raising the rule's catalog error) or changes a record and
returns a ``Decision`` saying whether to write it; the use cases run them inside
``attachment_store.update`` (read-modify-write with ETag), so a decision is always taken on the
version it overwrites. Nothing here does I/O.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Iterable, Optional

from shared.core import errors, settings
from shared.core.clock import as_utc, utcnow
from shared.core.decisions import Decision, keep, save
from shared.core.documents import AttachmentRecord, Md5Advance, UploadState
from shared.core.statuses import GONE_ATTACHMENT, AttachmentStatus
from shared.models.ranges import covered, merge_range

MAX_FILE_SIZE = 50_000_000_000  # upstream's stream-upload ceiling
MAX_FILE_SIZE_TEXT = "50GB"
# A completion that has not finished after this long is taken to have crashed: the next
# chunk or status request for the upload does it again (commit and verify are idempotent).
COMPLETION_STALE_AFTER = timedelta(minutes=15)
# Longer than any HTTP request may last (the Functions front end ends one after 230 s).
SINGLE_UPLOAD_MAX_DURATION = timedelta(minutes=10)

SCAN_MODE_NONE = "none"
SCAN_MODE_DEFENDER = "defender"

TEXT_UPLOAD_PROCESSING = "UploadProcessing"
TEXT_PUBLISHED_NO_SCANNER = "Published: no malware scanner is configured, the file was not scanned"
TEXT_CHECKSUM_MISMATCH = "Checksum mismatch: the MD5 of the uploaded file differs from the declared checksum"
TEXT_UPLOAD_FAILED = "Error occurred during upload"
TEXT_UPLOAD_INTERRUPTED = "Upload interrupted: the upload request did not finish"
TEXT_PURGED = "Attachment has been purged"
TEXT_SCAN_CLEAN = "Published"


def scan_mode() -> str:
    mode = (settings.get(settings.MALWARE_SCAN_MODE, SCAN_MODE_NONE) or SCAN_MODE_NONE).lower()
    if mode not in (SCAN_MODE_NONE, SCAN_MODE_DEFENDER):
        raise ValueError(f"App setting {settings.MALWARE_SCAN_MODE} must be 'none' or 'defender'")
    return mode


def file_size_error() -> errors.ProblemError:
    entry = errors.INVALID_FILE_SIZE
    return entry.error(detail=entry.message.format(limit=MAX_FILE_SIZE_TEXT))


# --- uploads ---------------------------------------------------------------------------------
def check_can_start_upload(record: AttachmentRecord, chunked_upload_ok: bool = False) -> None:
    """2005 (ever UploadProcessing: quirk Q14; or an upload in progress), 2003 (linked),
    then 2006 for a purged attachment (upstream would upload it; we refuse)."""
    in_progress_chunked = chunked_upload_ok and record.upload is not None and record.upload.mode == "chunked"
    if not in_progress_chunked and (record.has_status(AttachmentStatus.UploadProcessing) or record.upload is not None):
        raise errors.FILE_ALREADY_UPLOADED.error()
    if record.correspondenceIds:
        raise errors.CANT_UPLOAD_TO_EXISTING_CORRESPONDENCE.error()
    if record.has_status(AttachmentStatus.Purged):
        raise errors.FILE_ALREADY_PURGED.error()


def start_single_upload(record: AttachmentRecord) -> Decision[None]:
    """Claim the attachment for one request carrying the whole file: of two, one gets 2005."""
    check_can_start_upload(record)
    record.add_status(AttachmentStatus.UploadProcessing, TEXT_UPLOAD_PROCESSING)
    record.upload = UploadState(mode="single", started=utcnow())
    return save()


def start_chunked_upload(
    record: AttachmentRecord, total: int, block_size: int, md5_state: Optional[str], md5_impl: Optional[str]
) -> Decision[UploadState]:
    """Record ``UploadProcessing`` and the upload state, or join the one a parallel request began."""
    check_can_start_upload(record, chunked_upload_ok=True)
    if record.upload is not None:
        check_same_total(record.upload, total)
        return keep(record.upload)
    record.add_status(AttachmentStatus.UploadProcessing, TEXT_UPLOAD_PROCESSING)
    record.upload = UploadState(
        mode="chunked", started=utcnow(), total=total, blockSize=block_size, md5State=md5_state, md5Impl=md5_impl
    )
    return save(record.upload)


def check_same_total(state: UploadState, total: int) -> None:
    if state.total != total:
        raise errors.HttpProblem(416, f"This upload is {state.total} bytes long; Content-Range must say so.")


def _completion_due(state: UploadState, now: datetime) -> bool:
    if not state.is_complete():
        return False
    return state.completing is None or now - as_utc(state.completing) > COMPLETION_STALE_AFTER


def record_chunk(
    record: AttachmentRecord, total: int, start: int, end: int, advanced: Optional[Md5Advance]
) -> Decision[Optional[UploadState]]:
    """Add the staged range ``[start, end)``; the outcome is the upload state when this request
    stored the last missing range and must now complete the upload (it claims that)."""
    check_can_start_upload(record, chunked_upload_ok=True)
    state = record.upload
    if state is None:  # completed (or failed) by another request meanwhile
        raise errors.FILE_ALREADY_UPLOADED.error()
    check_same_total(state, total)
    changed = False
    if not covered(state.ranges, start, end):
        state.ranges = merge_range(state.ranges, (start, end))
        changed = True
    if advanced is not None and state.hashedTo == advanced.hashed_from:
        state.hashedTo, state.md5State = advanced.hashed_to, advanced.state
        changed = True
    now = utcnow()
    if _completion_due(state, now):
        state.completing = now
        return save(state)
    return Decision(changed, None)


def claim_stalled_completion(record: AttachmentRecord) -> Decision[Optional[UploadState]]:
    """A status query (``bytes */total``) finishes a completion that never finished."""
    now = utcnow()
    state = record.upload
    if state is not None and state.mode == "chunked" and _completion_due(state, now):
        state.completing = now
        return save(state)
    return keep()


def release_completion(record: AttachmentRecord) -> Decision[None]:
    """The completion failed: let the next chunk or status request try again."""
    if record.upload is None or record.upload.completing is None:
        return keep()
    record.upload.completing = None
    return save()


def checksum_matches(record: AttachmentRecord, md5: str) -> bool:
    """Quirk Q15: compared case-insensitively; no declared checksum always matches."""
    declared = (record.checksum or "").strip()
    return not declared or declared.lower() == md5


def finish_upload(record: AttachmentRecord, size: int, md5: str, publish: bool) -> Decision[bool]:
    """The bytes are committed and verified: record size and MD5, and ``Published`` when no
    scanner is configured. Outcome: True when the attachment was purged meanwhile (the caller
    deletes the blob)."""
    record.upload = None
    record.size = size
    if not (record.checksum or "").strip():
        record.checksum = md5
    if record.has_status(AttachmentStatus.Purged):
        return save(True)
    if publish and record.status is AttachmentStatus.UploadProcessing:
        record.add_status(AttachmentStatus.Published, TEXT_PUBLISHED_NO_SCANNER)
    return save(False)


def fail_upload(record: AttachmentRecord, text: str) -> Decision[None]:
    record.upload = None
    if record.status not in (AttachmentStatus.Purged, AttachmentStatus.Failed):
        record.add_status(AttachmentStatus.Failed, text)
    return save()


def is_interrupted(record: AttachmentRecord, now: datetime | None = None) -> bool:
    """A single-request upload still open long after any request could have lasted: its
    process died or storage failed mid-way. Shown as Failed instead of UploadProcessing
    forever (the client starts over with a new attachment, as after any failed upload)."""
    upload = record.upload
    return (
        upload is not None
        and upload.mode == "single"
        and record.status is AttachmentStatus.UploadProcessing
        and (now or utcnow()) - as_utc(upload.started) > SINGLE_UPLOAD_MAX_DURATION
    )


# --- links from correspondences --------------------------------------------------------------
def link(
    record: AttachmentRecord,
    correspondence_ids: Iterable[uuid.UUID],
    *,
    require_published: bool = True,
    linked_at: Optional[datetime] = None,
) -> Decision[None]:
    """Record that these correspondences use the attachment.

    Checks, in the same write, that the attachment is still ``Published`` and was never
    purged or expired, so a purge racing with a link never leaves a purged attachment linked:
    either the link is written first (the purge then sees it: 2007) or the purge is (1018).

    ``require_published=False``: a file the same request uploaded (multipart initialize). It
    may still await its malware scan; nobody else knows its id, and the publisher fails the
    correspondence if the scan fails it.

    With ``expirationInDays`` set, the new links expire that many days after ``linked_at``
    (the later of the correspondence's publish time and now); the attachment keeps the latest
    expiry of its links (``expiresAt``).
    """
    if require_published and (record.status is not AttachmentStatus.Published or record.has_status(*GONE_ATTACHMENT)):
        raise errors.ATTACHMENT_NOT_PUBLISHED.error()
    missing = [cid for cid in correspondence_ids if cid not in record.correspondenceIds]
    record.correspondenceIds.extend(missing)
    expiry_changed = False
    if missing and record.expirationInDays is not None and linked_at is not None:
        expires = linked_at + timedelta(days=record.expirationInDays)
        if record.expiresAt is None or as_utc(record.expiresAt) < expires:
            record.expiresAt = expires
            expiry_changed = True
    return Decision(bool(missing) or expiry_changed)


def unlink(record: AttachmentRecord, correspondence_ids: Iterable[uuid.UUID]) -> Decision[None]:
    """Remove links (idempotent)."""
    ids = set(correspondence_ids)
    kept = [cid for cid in record.correspondenceIds if cid not in ids]
    if len(kept) == len(record.correspondenceIds):
        return keep()
    record.correspondenceIds = kept
    return save()


# --- malware scan results --------------------------------------------------------------------
def apply_scan_result(record: AttachmentRecord, clean: bool, text: str) -> Decision[None]:
    """Whatever ``MALWARE_SCAN_MODE`` is. Clean: ``Published`` if the attachment is
    ``UploadProcessing`` (otherwise unchanged, e.g. a duplicate event or an upload that failed
    its checksum). Malicious: ``Failed``, even when it was already ``Published`` (a late
    result), unless it was purged or expired."""
    status = record.status
    if clean:
        if status is not AttachmentStatus.UploadProcessing:
            return keep()
        record.add_status(AttachmentStatus.Published, text)
        return save()
    if status in (AttachmentStatus.Failed, *GONE_ATTACHMENT):
        return keep()
    record.add_status(AttachmentStatus.Failed, text)
    return save()


# --- purge and download ----------------------------------------------------------------------
def check_purgeable(record: AttachmentRecord) -> None:
    """2006 purged, 2018 expired, 2007 linked (behaviour §6.7)."""
    if record.has_status(AttachmentStatus.Purged):
        raise errors.FILE_ALREADY_PURGED.error()
    if record.has_status(AttachmentStatus.Expired):
        raise errors.ATTACHMENT_EXPIRED_CANT_PURGE.error()
    if record.correspondenceIds:
        raise errors.PURGE_LINKED_ATTACHMENT.error()


def purge(record: AttachmentRecord) -> Decision[None]:
    check_purgeable(record)  # again, against the version we write over (a link may race)
    record.add_status(AttachmentStatus.Purged, TEXT_PURGED)
    return save()


def check_downloadable(record: AttachmentRecord) -> None:
    """2019 ever purged, 2020 ever expired (behaviour §6.8; 2016 needs the correspondences)."""
    if record.has_status(AttachmentStatus.Purged):
        raise errors.ATTACHMENT_PURGED_CANT_DOWNLOAD.error()
    if record.has_status(AttachmentStatus.Expired):
        raise errors.ATTACHMENT_EXPIRED_CANT_DOWNLOAD.error()
