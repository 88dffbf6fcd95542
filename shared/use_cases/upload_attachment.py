"""``POST /correspondence/api/v1/attachment/{attachmentId}/upload``: the file (behaviour §6.3).

* **Single request** (no ``Content-Range``): the body is staged in blocks, a few at a time,
  while the MD5 of the whole file is computed beside it (hashlib releases the GIL). Then the
  block list is committed and the declared checksum verified.
* **Chunked** (``Content-Range: bytes start-end/total``): each request stages its blocks and
  records its range on the attachment record (ETag); chunks must start on the block grid and
  end on it or at the end of the file. ``Content-Range: bytes */total`` with an empty body asks
  which ranges are stored. The request that stores the last missing range commits the block
  list and verifies the MD5 of the whole file (``shared.storage.md5_state``). See
  docs/attachments.md for the protocol. The first chunk reserves the declared total on the
  organisation's quota of bytes in unfinished uploads (``shared.rules.upload_quota``: 429, or
  413 when it can never fit); finishing, failing, purging or abandoning the upload releases it.

Order: 2001, 4001 (the attachment), 2004 (size), 2005, 2003, 2006 (may it start), then the
upload; 2008 on a checksum mismatch (blob deleted, ``Failed``), 502/2002 when storage fails.
The answer is the attachment's overview, fetched after the attempt (quirk Q13: its error wins).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Optional

from azure.core.exceptions import AzureError

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.clock import utcnow
from shared.core.identifiers import organization_of
from shared.core.documents import AttachmentRecord, UploadState
from shared.core.operations import Answer, Operation
from shared.models.ranges import (
    ChunkRange,
    check_chunk_alignment,
    covered,
    parse_content_range,
)
from shared.models.responses import AttachmentOverview, UploadedRange, UploadProgress
from shared.rules import attachment_lifecycle as lifecycle
from shared.rules import upload_quota as quota_rules
from shared.storage import attachment_store, blocks, clients, direct_upload, md5_state, upload_quota
from shared.use_cases.attachment_access import accessible, update_existing
from shared.use_cases.get_attachment import get_attachment

logger = logging.getLogger(__name__)


OCTET_STREAM = "application/octet-stream"

OPERATION = Operation(
    summary="Upload an attachment's file: whole, or in chunks with Content-Range",
    description="One request carries at most 100 MB (the Functions host's limit); larger files go in "
    "chunks (docs/attachments.md).",
    tags=("Attachment",),
    request=(OCTET_STREAM, {"type": "string", "format": "binary"}),
    headers=(("Content-Range", "bytes start-end/total for one chunk, or bytes */total to ask for progress."),),
    answers=(
        Answer(200, "Uploaded: the attachment's overview.", AttachmentOverview),
        Answer(202, "A chunked upload in progress.", UploadProgress),
    ),
    errors=(
        errors.ATTACHMENT_NOT_FOUND,
        errors.NO_ACCESS_TO_RESOURCE,
        errors.INVALID_FILE_SIZE,
        errors.FILE_ALREADY_UPLOADED,
        errors.CANT_UPLOAD_TO_EXISTING_CORRESPONDENCE,
        errors.FILE_ALREADY_PURGED,
        errors.CHECKSUM_MISMATCH,
        errors.UPLOAD_FAILED,
    ),
    problems=(
        (400, "The Content-Range is malformed, or the body length differs from it."),
        (413, "A chunked upload declares more bytes than the organisation's quota of bytes in unfinished uploads."),
        (416, "The Content-Range does not fit this upload (its total, or the block grid)."),
        (429, "The organisation's unfinished chunked uploads would exceed its quota (Retry-After)."),
    ),
)


@dataclass
class UploadResult:
    status: int  # 200: the overview; 202: chunked upload in progress
    body: AttachmentOverview | UploadProgress


def upload_attachment(
    caller: Caller,
    attachment_id: uuid.UUID,
    body: bytes,
    content_length: Optional[str] = None,
    content_range: Optional[str] = None,
) -> UploadResult:
    """Upload the file in one request, or one chunk of it (``content_range``)."""
    upload_error: Optional[errors.ProblemError] = None
    try:
        result = _upload(caller, attachment_id, body, content_length, content_range)
        if result is not None:
            return result
    except errors.ProblemError as exc:
        upload_error = exc
    # Quirk Q13: the overview is fetched after the attempt; its error (2001/4001) wins.
    overview = get_attachment(caller, attachment_id)
    if upload_error is not None:
        raise upload_error
    return UploadResult(200, overview)


def _upload(
    caller: Caller, attachment_id: uuid.UUID, body: bytes, content_length: Optional[str], content_range: Optional[str]
) -> Optional[UploadResult]:
    """``None`` means "done: answer with the overview"."""
    record = accessible(caller, attachment_id)  # 2001, 4001
    chunk = parse_content_range(content_range) if content_range and content_range.strip() else None
    if chunk is not None:
        return _upload_chunk(record, chunk, body, content_length)
    size = _content_length(content_length, body)
    if not 1 <= size <= lifecycle.MAX_FILE_SIZE or len(body) == 0:  # 2004
        raise lifecycle.file_size_error()
    lifecycle.check_can_start_upload(record)  # 2005, 2003
    update_existing(attachment_id, lifecycle.start_single_upload)
    _upload_single(attachment_id, body)
    return None


def _content_length(header: Optional[str], body: bytes) -> int:
    if header is None or not header.strip():
        return len(body)
    try:
        return int(header.strip())
    except ValueError:
        raise lifecycle.file_size_error() from None


def upload_new_file(attachment_id: uuid.UUID, data: bytes | memoryview) -> AttachmentRecord:
    """Upload the whole file of an attachment created just now (no access checks: the caller
    made them). ``data`` may be a memoryview slice of the request body; it is staged from
    slices, never copied whole.

    ``UploadProcessing`` -> blocks + MD5 -> declared checksum verified (mismatch: ``Failed``,
    blob deleted, 400/2008) -> ``Published`` in scan mode ``none``. Storage errors: ``Failed``,
    502/2002. Returns the record as written.
    """
    if len(data) == 0:
        raise lifecycle.file_size_error()
    update_existing(attachment_id, lifecycle.start_single_upload)
    return _upload_single(attachment_id, data)


def _fail(attachment_id: uuid.UUID, text: str) -> None:
    attachment_store.update(attachment_id, lambda record: lifecycle.fail_upload(record, text))


def _upload_single(attachment_id: uuid.UUID, body: bytes | memoryview) -> AttachmentRecord:
    blob = blocks.blob_client(attachment_id)
    view = memoryview(body)
    try:
        hashing = blocks.submit(lambda: hashlib.md5(body, usedforsecurity=False).hexdigest())
        try:
            blocks.stage_blocks(blob, view, 0, blocks.BLOCK_SIZE)
        finally:
            md5 = hashing.result()
        blocks.commit_blocks(blob, len(body), blocks.BLOCK_SIZE)
    except AzureError as exc:
        logger.warning("upload of attachment %s failed (%s)", attachment_id, type(exc).__name__)
        _fail(attachment_id, lifecycle.TEXT_UPLOAD_FAILED)
        blocks.delete_blob(attachment_id)
        raise errors.UPLOAD_FAILED.error() from None
    return finish_upload(attachment_id, len(body), md5)


def finish_upload(attachment_id: uuid.UUID, size: int, md5: str) -> AttachmentRecord:
    """Verify the declared checksum and record the outcome (the blob is committed)."""
    record = attachment_store.read(attachment_id)
    if record is None:  # records are never deleted; be safe anyway
        blocks.delete_blob(attachment_id)
        raise errors.ATTACHMENT_NOT_FOUND.error()
    if not lifecycle.checksum_matches(record, md5):
        blocks.delete_blob(attachment_id)
        _fail(attachment_id, lifecycle.TEXT_CHECKSUM_MISMATCH)
        logger.info("attachment %s failed its checksum", attachment_id)
        raise errors.CHECKSUM_MISMATCH.error()
    publish = lifecycle.scan_mode() == lifecycle.SCAN_MODE_NONE
    updated = update_existing(attachment_id, lambda r: lifecycle.finish_upload(r, size, md5, publish))
    if updated.outcome:  # purged while we uploaded: the blob must go
        blocks.delete_blob(attachment_id)
    logger.info("attachment %s uploaded (%d bytes)", attachment_id, size)
    return updated.document


# --- chunked upload ------------------------------------------------------------------------
def progress_of(record: AttachmentRecord, total: int) -> UploadProgress:
    state = record.upload if record.upload is not None and record.upload.mode == "chunked" else None
    ranges = state.ranges if state is not None else []
    return UploadProgress(
        attachment_id=record.id,
        status=record.status,
        size=state.total if state is not None and state.total is not None else total,
        received=sum(end - start for start, end in ranges),
        ranges=[UploadedRange(start=start, end=end - 1) for start, end in ranges],
        block_size=state.blockSize if state is not None and state.blockSize else blocks.BLOCK_SIZE,
        complete=state is not None and state.is_complete(),
    )


def _upload_chunk(record: AttachmentRecord, chunk: ChunkRange, body: bytes, content_length: Optional[str]) -> Optional[UploadResult]:
    attachment_id = record.id
    if not 1 <= chunk.total <= lifecycle.MAX_FILE_SIZE:  # 2004 (the whole file's size)
        raise lifecycle.file_size_error()
    if not chunk.is_query:
        size = _content_length(content_length, body)
        if not 1 <= size <= lifecycle.MAX_FILE_SIZE:  # 2004 (this request's body)
            raise lifecycle.file_size_error()
        if size != chunk.length or len(body) != chunk.length:
            raise errors.HttpProblem(400, "The body length must equal the length of the Content-Range.")
    lifecycle.check_can_start_upload(record, chunked_upload_ok=True)  # 2005, 2003, (2006)
    state = record.upload
    if state is not None:
        lifecycle.check_same_total(state, chunk.total)

    if chunk.is_query:
        if state is None:
            return UploadResult(202, progress_of(record, chunk.total))
        return _maybe_complete(attachment_id, chunk.total)

    block_size = state.blockSize if state is not None and state.blockSize else blocks.BLOCK_SIZE
    check_chunk_alignment(chunk, block_size)
    if state is None:
        state = _start_chunked(record, chunk.total)
    assert chunk.start is not None and chunk.end is not None
    start, end = chunk.start, chunk.end + 1
    hashing = blocks.submit(md5_state.advance, state, start, end, body)  # beside the staging; a leaf task
    try:
        if not covered(state.ranges, start, end):
            blocks.stage_blocks(blocks.blob_client(attachment_id), memoryview(body), start, block_size)
    finally:
        advanced = hashing.result()
    updated = update_existing(attachment_id, lambda r: lifecycle.record_chunk(r, chunk.total, start, end, advanced))
    if updated.outcome is None:
        return UploadResult(202, progress_of(updated.document, chunk.total))
    _complete(attachment_id, updated.outcome)
    return None


def _start_chunked(record: AttachmentRecord, total: int) -> UploadState:
    """Reserve the declared total on the organisation's quota, then record the upload (or join
    the one a parallel request began: same reservation). Refused: nothing is recorded."""
    organization = organization_of(record.sender)
    reserve(organization, record.id, total)
    md5_state_value, md5_impl = md5_state.new_state()
    try:
        state = update_existing(
            record.id, lambda r: lifecycle.start_chunked_upload(r, total, blocks.BLOCK_SIZE, md5_state_value, md5_impl)
        ).outcome
    except errors.ProblemError:
        # It could neither start nor join a chunked upload, so no upload of this attachment
        # holds the reservation.
        release(organization, record.id)
        raise
    assert state is not None
    return state


def reserve(organization: str, attachment_id: uuid.UUID, total: int) -> None:
    """Reserve ``total`` bytes of the organisation's unfinished-upload quota (429/413)."""
    now = utcnow()
    cap, stale = quota_rules.quota_bytes(), quota_rules.stale_before(now, lifecycle.upload_timeout())
    upload_quota.update(organization, lambda q: quota_rules.reserve(q, attachment_id, total, cap, now, stale))


def release(organization: str, attachment_id: uuid.UUID, profile: clients.Profile = "request") -> None:
    """Release an upload's reservation (idempotent). Failing here only delays the release: a
    reservation older than the upload timeout is dropped anyway."""
    try:
        upload_quota.update(organization, lambda q: quota_rules.release(q, attachment_id), profile=profile)
    except Exception as exc:  # noqa: BLE001 - the upload's own outcome matters more
        logger.warning("could not release the upload quota of attachment %s (%s)", attachment_id, type(exc).__name__)


def discard_upload(organization: str, attachment_id: uuid.UUID, state: Optional[UploadState],
                   profile: clients.Profile = "request") -> None:
    """Give up what an upload that ended unfinished (purge, abandonment) holds besides the
    attachment's blob: a direct upload's staging blob, a chunked or direct upload's quota."""
    if state is None:
        return
    if state.mode == "direct":  # the URL may not have expired yet
        direct_upload.delete_staging(state.staging, profile=profile)
    if state.mode in ("chunked", "direct"):
        release(organization, attachment_id, profile=profile)


def _maybe_complete(attachment_id: uuid.UUID, total: int) -> Optional[UploadResult]:
    """Status query: complete a stalled completion, else report the stored ranges."""
    updated = update_existing(attachment_id, lifecycle.claim_stalled_completion)
    if updated.outcome is not None:
        _complete(attachment_id, updated.outcome)
        return None
    return UploadResult(202, progress_of(updated.document, total))


def _complete(attachment_id: uuid.UUID, state: UploadState) -> None:
    """All ranges are staged: commit the block list, finish the MD5, verify, record."""
    assert state.total is not None and state.blockSize is not None
    blob = blocks.blob_client(attachment_id)
    try:
        blocks.commit_blocks(blob, state.total, state.blockSize)
        hasher, hashed_from = md5_state.new_hasher(state)
        if hashed_from < state.total:
            blocks.hash_committed(blob, hasher, hashed_from, state.total, blocks.READBACK_RANGE)
        digest = md5_state.hexdigest(hasher)
    except BaseException:
        release_completion(attachment_id)  # the next chunk or status request tries again
        raise
    logger.info(
        "attachment %s: chunked upload committed, %d of %d bytes hashed at completion",
        attachment_id, state.total - hashed_from, state.total,
    )
    try:
        record = finish_upload(attachment_id, state.total, digest)
    except errors.ProblemError:  # checksum mismatch: the upload is over (Failed)
        _release_of(attachment_id)
        raise
    release(organization_of(record.sender), attachment_id)


def _release_of(attachment_id: uuid.UUID) -> None:
    record = attachment_store.read(attachment_id)
    if record is not None:
        release(organization_of(record.sender), attachment_id)


def release_completion(attachment_id: uuid.UUID) -> None:
    try:
        attachment_store.update(attachment_id, lifecycle.release_completion)
    except Exception as exc:  # noqa: BLE001 - storage may be what failed; the claim goes stale
        logger.warning("could not release the completion claim of %s (%s)", attachment_id, type(exc).__name__)
