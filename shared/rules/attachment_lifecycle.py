"""The attachment state machine (behaviour §6.1), in one place.

Statuses are append-only rows; the current status is the latest row by time::

    Initialized -> UploadProcessing -> Published          (clean scan, or no scanner)
                                    -> Failed             (checksum, storage, interrupted, malware)
    any but Purged/Expired -> Purged                      (DELETE, when not linked)
    Published -> Failed                                   (a late malicious scan result)
    UploadProcessing (upload open too long) -> Failed     (retention: shared.rules.attachment_retention)
    any but Purged/Expired, past expiresAt -> Expired     (retention; the file is deleted)

Each function here either checks (raising the rule's catalog error) or changes a record and
returns a ``Decision`` saying whether to write it; the use cases run them inside
``attachment_store.update`` (read-modify-write with ETag), so a decision is always taken on the
version it overwrites. Nothing here does I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from shared.core import errors, settings
from shared.core.clock import as_utc, utcnow
from shared.core.decisions import Decision, keep, save
from shared.core.documents import (
    AttachmentLink,
    AttachmentRecord,
    Md5Advance,
    UploadState,
)
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

DEFAULT_UPLOAD_TIMEOUT_HOURS = 24
# Defender for Storage's verdict, as it writes it in the blob index tag (and nothing else is clean).
SCAN_VERDICT_CLEAN = "No threats found"
# What a scan verdict did (``apply_scan_verdict``).
VERDICT_APPLIED = "applied"
VERDICT_IGNORED = "ignored"
VERDICT_PENDING = "pending"  # not decidable yet: ask Event Grid to deliver it again later


def scan_mode() -> str:
    mode = (settings.get(settings.MALWARE_SCAN_MODE, SCAN_MODE_NONE) or SCAN_MODE_NONE).lower()
    if mode not in (SCAN_MODE_NONE, SCAN_MODE_DEFENDER):
        raise ValueError(f"App setting {settings.MALWARE_SCAN_MODE} must be 'none' or 'defender'")
    return mode


def upload_timeout() -> timedelta:
    """How long a chunked upload may stay open before the retention job abandons it."""
    hours = settings.get_int(settings.ATTACHMENT_UPLOAD_TIMEOUT_HOURS, DEFAULT_UPLOAD_TIMEOUT_HOURS)
    if hours < 1:
        raise ValueError(f"App setting {settings.ATTACHMENT_UPLOAD_TIMEOUT_HOURS} must be at least 1")
    return timedelta(hours=hours)


def file_size_error() -> errors.ProblemError:
    entry = errors.INVALID_FILE_SIZE
    return entry.error(detail=entry.message.format(limit=MAX_FILE_SIZE_TEXT))


# --- uploads ---------------------------------------------------------------------------------
def check_can_start_upload(record: AttachmentRecord, chunked_upload_ok: bool = False, direct_upload_ok: bool = False) -> None:
    """2005 (ever UploadProcessing: quirk Q14; or an upload in progress), 2003 (linked),
    then 2006 for a purged attachment (upstream would upload it; we refuse). An open upload
    of the kind the caller continues (``chunked_upload_ok``, ``direct_upload_ok``) passes."""
    mode = record.upload.mode if record.upload is not None else None
    in_progress_chunked = (chunked_upload_ok and mode == "chunked") or (direct_upload_ok and mode == "direct")
    if not in_progress_chunked and (record.has_status(AttachmentStatus.UploadProcessing) or record.upload is not None):
        raise errors.FILE_ALREADY_UPLOADED.error()
    if record.is_linked():
        raise errors.CANT_UPLOAD_TO_EXISTING_CORRESPONDENCE.error()
    if record.has_status(AttachmentStatus.Purged):
        raise errors.FILE_ALREADY_PURGED.error()


def start_single_upload(record: AttachmentRecord) -> Decision[None]:
    """Claim the attachment for one request carrying the whole file: of two, one gets 2005."""
    check_can_start_upload(record)
    record.add_status(AttachmentStatus.UploadProcessing, TEXT_UPLOAD_PROCESSING)
    now = utcnow()
    record.upload = UploadState(mode="single", started=now, abandonAt=now + SINGLE_UPLOAD_MAX_DURATION)
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
    now = utcnow()
    record.upload = UploadState(
        mode="chunked", started=now, total=total, blockSize=block_size, md5State=md5_state, md5Impl=md5_impl,
        abandonAt=now + upload_timeout(),
    )
    return save(record.upload)


def start_direct_upload(
    record: AttachmentRecord, total: int, staging: str, now: datetime
) -> Decision[Optional[UploadState]]:
    """An upload URL was asked for: record ``UploadProcessing`` and a ``direct`` upload whose
    current staging blob is ``staging``, or point an open direct upload at a new staging blob
    (its URL expired, or the client starts over). Outcome: the state it replaced, if any (the
    caller deletes that staging blob). Refused while a completion runs (2005)."""
    check_can_start_upload(record, direct_upload_ok=True)
    previous = record.upload
    if previous is not None:
        if previous.total != total:
            raise errors.HttpProblem(400, f"This direct upload was started for {previous.total} bytes; size must say so.")
        if previous.completing is not None and now - as_utc(previous.completing) <= COMPLETION_STALE_AFTER:
            raise errors.FILE_ALREADY_UPLOADED.error()
        record.upload = previous.model_copy(update={"staging": staging, "completing": None})
        return save(previous)
    record.add_status(AttachmentStatus.UploadProcessing, TEXT_UPLOAD_PROCESSING)
    record.upload = UploadState(mode="direct", started=now, total=total, staging=staging, abandonAt=now + upload_timeout())
    return save(None)


def claim_direct_completion(record: AttachmentRecord, now: datetime) -> Decision[UploadState]:
    """``upload/complete``: claim the open direct upload (of two completes, one gets 2005).
    Without one: the upload endpoint's errors (2005, 2003, 2006), or 400 when no URL was asked for."""
    state = record.upload
    if state is None or state.mode != "direct":
        check_can_start_upload(record)
        raise errors.HttpProblem(400, "No direct upload is open: ask for an upload URL (POST .../upload/url) first.")
    check_can_start_upload(record, direct_upload_ok=True)
    if state.completing is not None and now - as_utc(state.completing) <= COMPLETION_STALE_AFTER:
        raise errors.FILE_ALREADY_UPLOADED.error()
    state.completing = now
    return save(state)


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
    new: AttachmentLink,
    *,
    require_published: bool = True,
    linked_at: Optional[datetime] = None,
) -> Decision[None]:
    """Record that every correspondence of this request uses the attachment (one link per
    request, whatever its number of recipients).

    Checks, in the same write, that the attachment is still ``Published`` and was never
    purged or expired, so a purge racing with a link never leaves a purged attachment linked:
    either the link is written first (the purge then sees it: 2007) or the purge is (1018).

    ``require_published=False``: a file the same request uploaded (multipart initialize). It
    may still await its malware scan; nobody else knows its id, and the publisher fails the
    correspondence if the scan fails it.

    With ``expirationInDays`` set, the new link expires that many days after ``linked_at``
    (the later of the correspondence's publish time and now); the attachment keeps the latest
    expiry of its links (``expiresAt``).
    """
    if require_published and (record.status is not AttachmentStatus.Published or record.has_status(*GONE_ATTACHMENT)):
        raise errors.ATTACHMENT_NOT_PUBLISHED.error()
    if record.link_of(new.requestKey) is not None:
        return keep()  # a retried link (the first write's answer was lost)
    record.links.append(new)
    if record.expirationInDays is not None and linked_at is not None:
        expires = linked_at + timedelta(days=record.expirationInDays)
        if record.expiresAt is None or as_utc(record.expiresAt) < expires:
            record.expiresAt = expires
    return save()


def unlink(record: AttachmentRecord, request_key: str) -> Decision[None]:
    """Remove a request's link (its request did not commit). Idempotent."""
    kept = [link for link in record.links if link.requestKey != request_key]
    if len(kept) == len(record.links):
        return keep()
    record.links = kept
    return save()


def release(record: AttachmentRecord, request_key: str, index: int) -> Decision[None]:
    """One correspondence of a request let go of the attachment (it was purged). Idempotent."""
    link = record.link_of(request_key)
    if link is None or index in link.released:
        return keep()
    link.released.append(index)
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


def apply_scan_verdict(record: AttachmentRecord, verdict: Optional[str], blob_size: int) -> Decision[str]:
    """The verdict Defender wrote on the committed blob itself (its index tag), never what an
    event says. Outcome: ``VERDICT_APPLIED``, ``VERDICT_IGNORED`` or ``VERDICT_PENDING``.

    Clean (exactly ``No threats found``): ``Published`` only when the attachment waits for it
    (``UploadProcessing``), its upload has finished (committed and verified by us) and the
    blob still has the length we verified; pending while the upload is still finishing.
    Anything else: ``Failed`` as ``apply_scan_result`` does, even when published. No verdict yet
    on an attachment that waits for one: pending (Event Grid retries; Defender writes the tag
    when the scan ends)."""
    waiting = record.status is AttachmentStatus.UploadProcessing
    if verdict is None:
        return keep(VERDICT_PENDING if waiting else VERDICT_IGNORED)
    if verdict == SCAN_VERDICT_CLEAN:
        if not waiting:
            return keep(VERDICT_IGNORED)
        if record.upload is not None:
            return keep(VERDICT_PENDING)
        if record.size != blob_size:
            return keep(VERDICT_IGNORED)
        record.add_status(AttachmentStatus.Published, TEXT_SCAN_CLEAN)
        return save(VERDICT_APPLIED)
    if record.status in (AttachmentStatus.Failed, *GONE_ATTACHMENT):
        return keep(VERDICT_IGNORED)
    record.add_status(AttachmentStatus.Failed, f"Malware scan failed: {verdict}")
    return save(VERDICT_APPLIED)


# --- purge and download ----------------------------------------------------------------------
def check_purgeable(record: AttachmentRecord) -> None:
    """2006 purged, 2018 expired, 2007 linked (behaviour §6.7)."""
    if record.has_status(AttachmentStatus.Purged):
        raise errors.FILE_ALREADY_PURGED.error()
    if record.has_status(AttachmentStatus.Expired):
        raise errors.ATTACHMENT_EXPIRED_CANT_PURGE.error()
    if record.is_linked():
        raise errors.PURGE_LINKED_ATTACHMENT.error()


def purge(record: AttachmentRecord) -> Decision[Optional[UploadState]]:
    """Outcome: the upload still open, if any: it can no longer finish (its next chunk gets
    2006), so its quota is released; the retention job drops its state later."""
    check_purgeable(record)  # again, against the version we write over (a link may race)
    record.add_status(AttachmentStatus.Purged, TEXT_PURGED)
    return save(record.upload)


def check_downloadable(record: AttachmentRecord) -> None:
    """2019 ever purged, 2020 ever expired (behaviour §6.8; 2016 needs the correspondences)."""
    if record.has_status(AttachmentStatus.Purged):
        raise errors.ATTACHMENT_PURGED_CANT_DOWNLOAD.error()
    if record.has_status(AttachmentStatus.Expired):
        raise errors.ATTACHMENT_EXPIRED_CANT_DOWNLOAD.error()
