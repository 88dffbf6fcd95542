"""Attachment use cases (spec §6): initialize, upload (single request or chunked), overview,
details, purge, download. Function folders call one function here each.

Uploads
-------
The file is a block blob named by the attachment id (container ``attachments``). Blocks sit
on a fixed grid of ``BLOCK_SIZE`` bytes: block ``i`` covers ``[i*B, (i+1)*B)`` (the last one
shorter) and its id is derived from its offset, so any way of cutting the file into requests
yields the same block list.

* **Single request** (no ``Content-Range``): the body is staged in blocks, ``UPLOAD_CONCURRENCY``
  at a time, each with its own Content-MD5 (transport integrity, checked by the service), while
  the MD5 of the whole file is computed in the request thread (hashlib releases the GIL). Then
  the block list is committed.
* **Chunked** (``Content-Range: bytes start-end/total``): each request stages its blocks and
  records its range on the attachment record (ETag); chunks must start on the grid and end on it
  or at the end of the file. ``Content-Range: bytes */total`` with an empty body asks which
  ranges are stored. The request that stores the last missing range commits the block list and
  verifies the MD5 of the whole file. See docs/attachments.md for the protocol.

MD5 across requests (nothing lives in process memory between requests): when the optional
``rehashes`` package (MD5 with a serialisable state, RustCrypto) is installed, a chunk that
continues the hashed prefix advances the MD5 state kept on the record (88 bytes); whatever was
not hashed that way (chunks sent out of order or in parallel, or no ``rehashes``) is hashed at
completion by reading the committed blob back in ranges, a few ranged reads in flight at a time.
Either way the digest covers exactly the committed bytes, and memory stays bounded by the
chunk size plus a few blocks.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Optional

from pydantic import Field

from shared import access, errors, settings
from shared import attachment_store as store
from shared.attachment_rules import check_expiration_days, check_file_name
from shared.attachment_store import (
    FAILED,
    INITIALIZED,
    PUBLISHED,
    PURGED,
    UPLOAD_PROCESSING,
    AttachmentRecord,
    UploadState,
)
from shared.auth import Caller
from shared.correspondence_models import BaseAttachment, ResourceId, validate_model
from shared.records import StatusEvent, as_utc, utcnow

logger = logging.getLogger(__name__)

MAX_FILE_SIZE = 50_000_000_000  # upstream's stream-upload ceiling
MAX_FILE_SIZE_TEXT = "50GB"
BLOCK_SIZE = 8 * 1024 * 1024  # the block grid of new uploads (stored per upload)
UPLOAD_CONCURRENCY = 4  # blocks in flight per request
READBACK_CONCURRENCY = 4  # ranged reads in flight while hashing a committed blob
READBACK_RANGE = 4 * 1024 * 1024  # bytes per ranged read
# A completion that has not finished after this long is taken to have crashed: the next
# chunk or status request for the upload does it again (commit and verify are idempotent).
COMPLETION_STALE_AFTER = timedelta(minutes=15)
# Sender download without a Range header: the Functions worker holds a response in memory.
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
# Tests switch this off to exercise the read-back path even when ``rehashes`` is installed.
INCREMENTAL_MD5 = True

SCAN_MODE_NONE = "none"
SCAN_MODE_DEFENDER = "defender"

TEXT_UPLOAD_PROCESSING = "UploadProcessing"
TEXT_PUBLISHED_NO_SCANNER = "Published: no malware scanner is configured, the file was not scanned"
TEXT_CHECKSUM_MISMATCH = "Checksum mismatch: the MD5 of the uploaded file differs from the declared checksum"
TEXT_UPLOAD_FAILED = "Error occurred during upload"
TEXT_UPLOAD_INTERRUPTED = "Upload interrupted: the upload request did not finish"
# Longer than any HTTP request may last (the Functions front end ends one after 230 s).
SINGLE_UPLOAD_MAX_DURATION = timedelta(minutes=10)
TEXT_PURGED = "Attachment has been purged"

_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="blocks")

# --- data types (spec §6.4) ----------------------------------------------------------------
_DATA_TYPES = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pps": "application/vnd.ms-powerpoint",
    ".zip": "application/zip",
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".txt": "text/plain",
    ".xml": "text/xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".png": "image/png",
    ".json": "application/json",
    ".csv": "text/csv",
    ".dcm": "application/dicom",
    ".dicom": "application/dicom",
}
UNKNOWN_DATA_TYPE = "binary_octet_stream"


def data_type_for(file_name: Optional[str]) -> str:
    """MIME type from the extension (case-insensitive), else upstream's ``binary_octet_stream``."""
    if not file_name or "." not in file_name:
        return UNKNOWN_DATA_TYPE
    return _DATA_TYPES.get(file_name[file_name.rfind("."):].lower(), UNKNOWN_DATA_TYPE)


# --- initialize (§6.2) ---------------------------------------------------------------------
class InitializeAttachmentRequest(BaseAttachment):
    """``InitializeAttachmentExt``: ``BaseAttachmentExt`` + ``resourceId`` (``sender`` ignored)."""

    resource_id: ResourceId = Field(alias="resourceId")


def initialize_attachment(caller: Caller, body: Any) -> uuid.UUID:
    request = validate_model(InitializeAttachmentRequest, body)
    resource = access.authorize_sender(  # 1036 -> 4001 -> 4009
        caller,
        request.resource_id,
        allowed_types=(access.CORRESPONDENCE_SERVICE, access.GENERIC_ACCESS_RESOURCE),
        type_error=errors.ATTACHMENT_RESOURCE_TYPE,
    )
    check_file_name(request.file_name)  # 2010, 2011, 2013, 2012, 2021
    check_expiration_days(request.expiration_in_days)  # 2017
    return create_attachment(request.resource_id, access.sender_urn(resource.owner_organization), request)


def create_attachment(resource_id: str, sender: str, metadata: BaseAttachment) -> uuid.UUID:
    """Store a new attachment record (``Initialized``) from validated metadata; no checks.

    Used by ``initialize_attachment`` and by the multipart initialize correspondence, which
    has checked access and the attachment rules itself.
    """
    now = utcnow()
    record = AttachmentRecord(
        id=uuid.uuid4(),
        resourceId=resource_id,
        sender=sender,
        fileName=metadata.file_name,
        displayName=metadata.display_name,
        isEncrypted=metadata.is_encrypted,
        checksum=metadata.checksum,
        sendersReference=metadata.senders_reference,
        expirationInDays=metadata.expiration_in_days,
        dataType=data_type_for(metadata.file_name),
        created=now,
        statusHistory=[StatusEvent(status=INITIALIZED, statusText=INITIALIZED, statusChanged=now)],
    )
    store.create(record)
    logger.info("attachment %s initialized for resource %s", record.id, record.resourceId)
    return record.id


# --- overview and details (§6.4, §6.5) -----------------------------------------------------
def _accessible(caller: Caller, attachment_id: uuid.UUID) -> AttachmentRecord:
    """404/2001 unknown, then 401/4001 when the caller may not act for its sender."""
    record = store.read_attachment(attachment_id)
    if record is None:
        raise errors.ATTACHMENT_NOT_FOUND.error()
    access.ensure_owner(caller, record.sender, resource_id=record.resourceId)
    if _interrupted(record):
        _fail(attachment_id, TEXT_UPLOAD_INTERRUPTED)
        record = store.read_attachment(attachment_id) or record
    return record


def _interrupted(record: AttachmentRecord, now: datetime | None = None) -> bool:
    """A single-request upload still open long after any request could have lasted: its
    process died or storage failed mid-way. Shown as Failed instead of UploadProcessing
    forever (the client starts over with a new attachment, as after any failed upload)."""
    upload = record.upload
    return (
        upload is not None
        and upload.mode == "single"
        and store.current_status(record) == UPLOAD_PROCESSING
        and (now or utcnow()) - as_utc(upload.started) > SINGLE_UPLOAD_MAX_DURATION
    )


def overview_of(record: AttachmentRecord) -> dict[str, Any]:
    current = record.current()
    return {
        "attachmentId": str(record.id),
        "resourceId": record.resourceId,
        "sender": record.sender,
        "fileName": record.fileName,
        "displayName": record.displayName,
        "isEncrypted": False,  # quirk Q11: upstream never maps it
        "checksum": record.checksum,
        "sendersReference": record.sendersReference,
        "expirationInDays": record.expirationInDays,
        "status": current.status,
        "statusText": current.statusText,
        "statusChanged": current.statusChanged.isoformat(),
        "correspondenceIds": [str(cid) for cid in record.correspondenceIds],
        "dataType": record.dataType,
    }


def details_of(record: AttachmentRecord) -> dict[str, Any]:
    body = overview_of(record)
    body["displayName"] = record.displayName if record.displayName is not None else record.fileName
    body["checksum"] = record.checksum if record.checksum is not None else ""
    body["statusHistory"] = [
        {"status": e.status, "statusText": e.statusText, "statusChanged": e.statusChanged.isoformat()}
        for e in record.statusHistory
    ]
    return body


def get_overview(caller: Caller, attachment_id: uuid.UUID) -> dict[str, Any]:
    return overview_of(_accessible(caller, attachment_id))


def get_details(caller: Caller, attachment_id: uuid.UUID) -> dict[str, Any]:
    return details_of(_accessible(caller, attachment_id))


# --- Content-Range (pure) ------------------------------------------------------------------
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d{1,15})-(\d{1,15})|(\*))/(\d{1,15})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ChunkRange:
    """``bytes start-end/total`` (``end`` inclusive, as HTTP has it); ``start is None`` for a
    status query ``bytes */total``."""

    start: Optional[int]
    end: Optional[int]
    total: int

    @property
    def is_query(self) -> bool:
        return self.start is None

    @property
    def length(self) -> int:
        assert self.start is not None and self.end is not None
        return self.end - self.start + 1


def parse_content_range(value: str) -> ChunkRange:
    """Parse a ``Content-Range`` request header (400 when malformed or inconsistent)."""
    found = _CONTENT_RANGE.match(value)
    if found is None:
        raise errors.HttpProblem(400, "Content-Range must be 'bytes start-end/total' or 'bytes */total'.")
    first, last, star, total_text = found.groups()
    total = int(total_text)
    if star:
        return ChunkRange(None, None, total)
    start, end = int(first), int(last)
    if end < start or end >= total:
        raise errors.HttpProblem(400, "Content-Range must satisfy start <= end < total.")
    return ChunkRange(start, end, total)


def check_chunk_alignment(chunk: ChunkRange, block_size: int) -> None:
    """416 unless the chunk starts on the block grid and ends on it or at the end of the file."""
    assert chunk.start is not None and chunk.end is not None
    next_start = chunk.end + 1
    if chunk.start % block_size or (next_start != chunk.total and next_start % block_size):
        raise errors.HttpProblem(
            416,
            f"A chunk must start at a multiple of {block_size} bytes and end at one or at the end "
            "of the file.",
        )


def merge_range(ranges: Iterable[tuple[int, int]], new: tuple[int, int]) -> list[tuple[int, int]]:
    """Add ``[start, end)`` to sorted, coalesced ranges."""
    result: list[tuple[int, int]] = []
    start, end = new
    for a, b in sorted(ranges):
        if b < start or a > end:
            result.append((a, b))
        else:
            start, end = min(a, start), max(b, end)
    result.append((start, end))
    return sorted(result)


def covered(ranges: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in ranges)


def block_id(offset: int) -> str:
    """The id of the block at ``offset`` (same length for every block of a blob; the SDK
    base64-encodes it)."""
    return f"{offset:016x}"


def _file_size_error() -> errors.ProblemError:
    entry = errors.INVALID_FILE_SIZE
    return entry.error(detail=entry.message.format(limit=MAX_FILE_SIZE_TEXT))


def _content_length(header: Optional[str], body: bytes) -> int:
    if header is None or not header.strip():
        return len(body)
    try:
        return int(header.strip())
    except ValueError:
        raise _file_size_error() from None


def scan_mode() -> str:
    mode = (settings.get(settings.MALWARE_SCAN_MODE, SCAN_MODE_NONE) or SCAN_MODE_NONE).lower()
    if mode not in (SCAN_MODE_NONE, SCAN_MODE_DEFENDER):
        raise ValueError(f"App setting {settings.MALWARE_SCAN_MODE} must be 'none' or 'defender'")
    return mode


# --- MD5 with a state that survives between requests ----------------------------------------
_md5_impl_cache: list[Optional[str]] = []


def _md5_impl() -> Optional[str]:
    """``"rehashes <version>"`` when the serialisable MD5 is available (and enabled)."""
    if not INCREMENTAL_MD5:
        return None
    if not _md5_impl_cache:
        try:
            import rehashes  # noqa: F401
            from importlib.metadata import version

            _md5_impl_cache.append(f"rehashes {version('rehashes')}")
        except Exception:  # noqa: BLE001 - optional: the read-back path covers its absence
            _md5_impl_cache.append(None)
    return _md5_impl_cache[0]


def _new_md5_state() -> tuple[Optional[str], Optional[str]]:
    impl = _md5_impl()
    if impl is None:
        return None, None
    from rehashes import PyMd5

    return base64.b64encode(PyMd5().serialize()).decode("ascii"), impl


def _resume_md5(state: Optional[str], impl: Optional[str]):
    """The stored hasher, or ``None`` when there is none or it was made by another version."""
    if state is None or impl is None or impl != _md5_impl():
        return None
    from rehashes import PyMd5

    return PyMd5.deserialize(base64.b64decode(state))


# --- staging and reading blocks ------------------------------------------------------------
def _bounded(fn: Callable[[Any], Any], items: Iterable[Any], limit: int) -> list[Any]:
    """Run ``fn`` over ``items`` in the pool, at most ``limit`` at a time, in order of results."""
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    futures: list[Future] = []
    results: list[Any] = []
    try:
        for item in items:
            if len(futures) - len(results) >= limit:
                results.append(futures[len(results)].result())
            futures.append(_pool.submit(fn, item))
        while len(results) < len(futures):
            results.append(futures[len(results)].result())
    except BaseException:
        for future in futures:
            future.cancel()
        for future in futures:
            if not future.cancelled():
                try:
                    future.result()
                except BaseException:  # noqa: BLE001 - the first error is the one raised
                    pass
        raise
    return results


def _stage_blocks(blob, body: memoryview, start: int, block_size: int) -> None:
    """Stage ``body`` (file bytes from ``start``, which is on the grid) as grid blocks."""
    end = start + len(body)

    def stage(offset: int) -> None:
        part = body[offset - start: min(offset + block_size, end) - start]
        blob.stage_block(
            block_id(offset), part, length=len(part), transactional_content_md5=hashlib.md5(part, usedforsecurity=False).digest()
        )

    _bounded(stage, range(start, end, block_size), UPLOAD_CONCURRENCY)


def _commit_blocks(blob, total: int, block_size: int) -> None:
    from azure.storage.blob import BlobBlock, ContentSettings

    blocks = [BlobBlock(block_id(offset)) for offset in range(0, total, block_size)]
    blob.commit_block_list(blocks, content_settings=ContentSettings(content_type="application/octet-stream"))


def _hash_committed(blob, hasher, start: int, total: int, range_size: int) -> None:
    """Feed ``[start, total)`` of the committed blob to ``hasher`` in order, with a few ranged
    reads in flight (memory: READBACK_CONCURRENCY x range_size)."""
    offsets = list(range(start, total, range_size))

    def read(offset: int) -> bytes:
        length = min(range_size, total - offset)
        return blob.download_blob(offset=offset, length=length).readall()

    futures: list[Future] = []
    index = 0
    try:
        for offset in offsets[:READBACK_CONCURRENCY]:
            futures.append(_pool.submit(read, offset))
        while index < len(offsets):
            data = futures[index].result()
            futures[index] = None  # type: ignore[call-overload] - drop the bytes once hashed
            nxt = index + READBACK_CONCURRENCY
            if nxt < len(offsets):
                futures.append(_pool.submit(read, offsets[nxt]))
            hasher.update(data)
            index += 1
    finally:
        for future in futures:
            if future is not None:
                future.cancel()


def _delete_blob(attachment_id: uuid.UUID) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        store.blob_client(attachment_id).delete_blob()
    except ResourceNotFoundError:
        pass


# --- upload (§6.3) -------------------------------------------------------------------------
@dataclass
class UploadResult:
    status: int  # 200: the overview; 202: chunked upload in progress (progress document)
    body: dict[str, Any]


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
    overview = get_overview(caller, attachment_id)
    if upload_error is not None:
        raise upload_error
    return UploadResult(200, overview)


def _upload(
    caller: Caller, attachment_id: uuid.UUID, body: bytes, content_length: Optional[str], content_range: Optional[str]
) -> Optional[UploadResult]:
    """``None`` means "done: answer with the overview"."""
    record = _accessible(caller, attachment_id)  # 2001, 4001
    chunk = parse_content_range(content_range) if content_range and content_range.strip() else None
    if chunk is not None:
        return _upload_chunk(record, chunk, body, content_length)
    size = _content_length(content_length, body)
    if not 1 <= size <= MAX_FILE_SIZE or len(body) == 0:  # 2004
        raise _file_size_error()
    _check_can_start(record)  # 2005, 2003
    _claim_single(attachment_id)
    _upload_single(attachment_id, body)
    return None


def _check_can_start(record: AttachmentRecord, chunked_upload_ok: bool = False) -> None:
    """2005 (ever UploadProcessing: quirk Q14; or an upload in progress), 2003 (linked),
    then 2006 for a purged attachment (upstream would upload it; we refuse)."""
    in_progress_chunked = chunked_upload_ok and record.upload is not None and record.upload.mode == "chunked"
    if not in_progress_chunked and (record.has_status(UPLOAD_PROCESSING) or record.upload is not None):
        raise errors.FILE_ALREADY_UPLOADED.error()
    if record.correspondenceIds:
        raise errors.CANT_UPLOAD_TO_EXISTING_CORRESPONDENCE.error()
    if record.has_status(PURGED):
        raise errors.FILE_ALREADY_PURGED.error()


def _claim_single(attachment_id: uuid.UUID) -> None:
    """Record ``UploadProcessing`` atomically: of two concurrent uploads, one gets 2005."""

    def change(record: AttachmentRecord) -> bool:
        _check_can_start(record)
        record.add_status(UPLOAD_PROCESSING, TEXT_UPLOAD_PROCESSING)
        record.upload = UploadState(mode="single", started=utcnow())
        return True

    if store.update(attachment_id, change) is None:
        raise errors.ATTACHMENT_NOT_FOUND.error()


def upload_new_file(attachment_id: uuid.UUID, data: bytes | memoryview) -> AttachmentRecord:
    """Upload the whole file of an attachment created just now by ``create_attachment`` (no
    access checks: the caller made them). ``data`` may be a memoryview slice of the request
    body; it is staged from slices, never copied whole.

    ``UploadProcessing`` -> blocks + MD5 -> declared checksum verified (mismatch: ``Failed``,
    blob deleted, 400/2008) -> ``Published`` in scan mode ``none``. Storage errors: ``Failed``,
    502/2002. Returns the record as written.
    """
    if len(data) == 0:
        raise _file_size_error()
    _claim_single(attachment_id)
    return _upload_single(attachment_id, data)


def _fail(attachment_id: uuid.UUID, text: str) -> None:
    def change(record: AttachmentRecord) -> bool:
        record.upload = None
        if store.current_status(record) in (PURGED, FAILED):
            return True
        record.add_status(FAILED, text)
        return True

    store.update(attachment_id, change)


def _upload_single(attachment_id: uuid.UUID, body: bytes | memoryview) -> AttachmentRecord:
    from azure.core.exceptions import AzureError

    blob = store.blob_client(attachment_id)
    view = memoryview(body)
    try:
        # The MD5 runs beside the staging (hashlib releases the GIL). Only leaf tasks go to the
        # pool: a task that waited for other pool tasks could deadlock a saturated pool.
        hashing = _pool.submit(lambda: hashlib.md5(body, usedforsecurity=False).hexdigest())
        try:
            _stage_blocks(blob, view, 0, BLOCK_SIZE)
        finally:
            md5 = hashing.result()
        _commit_blocks(blob, len(body), BLOCK_SIZE)
    except AzureError as exc:
        logger.warning("upload of attachment %s failed (%s)", attachment_id, type(exc).__name__)
        _fail(attachment_id, TEXT_UPLOAD_FAILED)
        _delete_blob(attachment_id)
        raise errors.UPLOAD_FAILED.error() from None
    return _finish(attachment_id, len(body), md5)


def _finish(attachment_id: uuid.UUID, size: int, md5: str) -> AttachmentRecord:
    """Verify the declared checksum and record the outcome (the blob is committed)."""
    record = store.read_attachment(attachment_id)
    if record is None:  # records are never deleted; be safe anyway
        _delete_blob(attachment_id)
        raise errors.ATTACHMENT_NOT_FOUND.error()
    declared = (record.checksum or "").strip()
    if declared and declared.lower() != md5:
        _delete_blob(attachment_id)
        _fail(attachment_id, TEXT_CHECKSUM_MISMATCH)
        logger.info("attachment %s failed its checksum", attachment_id)
        raise errors.CHECKSUM_MISMATCH.error()
    publish = scan_mode() == SCAN_MODE_NONE
    purged = []

    def change(record: AttachmentRecord) -> bool:
        record.upload = None
        record.size = size
        if not (record.checksum or "").strip():
            record.checksum = md5
        if record.has_status(PURGED):  # purged while we uploaded: the blob must go
            purged.append(True)
        elif publish and store.current_status(record) == UPLOAD_PROCESSING:
            record.add_status(PUBLISHED, TEXT_PUBLISHED_NO_SCANNER)
        return True

    record = store.update(attachment_id, change)
    if purged:
        _delete_blob(attachment_id)
    logger.info("attachment %s uploaded (%d bytes)", attachment_id, size)
    if record is None:  # records are never deleted
        raise errors.ATTACHMENT_NOT_FOUND.error()
    return record


# --- chunked upload ------------------------------------------------------------------------
def progress_of(record: AttachmentRecord, total: int) -> dict[str, Any]:
    state = record.upload if record.upload is not None and record.upload.mode == "chunked" else None
    ranges = state.ranges if state is not None else []
    block_size = state.blockSize if state is not None and state.blockSize else BLOCK_SIZE
    return {
        "attachmentId": str(record.id),
        "status": store.current_status(record),
        "size": state.total if state is not None and state.total is not None else total,
        "received": sum(end - start for start, end in ranges),
        "ranges": [{"start": start, "end": end - 1} for start, end in ranges],
        "blockSize": block_size,
        "complete": state is not None and state.is_complete(),
    }


def _completion_due(state: UploadState) -> bool:
    if not state.is_complete():
        return False
    return state.completing is None or utcnow() - state.completing > COMPLETION_STALE_AFTER


def _upload_chunk(record: AttachmentRecord, chunk: ChunkRange, body: bytes, content_length: Optional[str]) -> Optional[UploadResult]:
    attachment_id = record.id
    if not 1 <= chunk.total <= MAX_FILE_SIZE:  # 2004 (the whole file's size)
        raise _file_size_error()
    if not chunk.is_query:
        size = _content_length(content_length, body)
        if not 1 <= size <= MAX_FILE_SIZE:  # 2004 (this request's body)
            raise _file_size_error()
        if size != chunk.length or len(body) != chunk.length:
            raise errors.HttpProblem(400, "The body length must equal the length of the Content-Range.")
    _check_can_start(record, chunked_upload_ok=True)  # 2005, 2003, (2006)
    state = record.upload
    if state is not None and state.total != chunk.total:
        raise errors.HttpProblem(416, f"This upload is {state.total} bytes long; Content-Range must say so.")

    if chunk.is_query:
        if state is None:
            return UploadResult(202, progress_of(record, chunk.total))
        return _maybe_complete(attachment_id, chunk.total)

    block_size = state.blockSize if state is not None and state.blockSize else BLOCK_SIZE
    check_chunk_alignment(chunk, block_size)
    if state is None:
        state = _start_chunked(attachment_id, chunk.total)
    assert chunk.start is not None and chunk.end is not None
    start, end = chunk.start, chunk.end + 1
    hashing = _pool.submit(_advance_md5, state, start, end, body)  # beside the staging; a leaf task
    try:
        if not covered(state.ranges, start, end):
            _stage_blocks(store.blob_client(attachment_id), memoryview(body), start, block_size)
    finally:
        advanced = hashing.result()
    claimed = _record_range(attachment_id, chunk.total, start, end, advanced)
    if claimed is None:
        record = store.read_attachment(attachment_id)
        assert record is not None
        return UploadResult(202, progress_of(record, chunk.total))
    return _complete(attachment_id, claimed)


def _start_chunked(attachment_id: uuid.UUID, total: int) -> UploadState:
    """Record ``UploadProcessing`` and the upload state (or join one a parallel request began)."""

    def change(record: AttachmentRecord) -> bool:
        _check_can_start(record, chunked_upload_ok=True)
        if record.upload is not None:
            if record.upload.total != total:
                raise errors.HttpProblem(416, f"This upload is {record.upload.total} bytes long; Content-Range must say so.")
            return False
        md5_state, md5_impl = _new_md5_state()
        record.add_status(UPLOAD_PROCESSING, TEXT_UPLOAD_PROCESSING)
        record.upload = UploadState(
            mode="chunked", started=utcnow(), total=total, blockSize=BLOCK_SIZE, md5State=md5_state, md5Impl=md5_impl
        )
        return True

    record = store.update(attachment_id, change)
    if record is None:
        raise errors.ATTACHMENT_NOT_FOUND.error()
    assert record.upload is not None
    return record.upload


@dataclass
class _Md5Advance:
    hashed_from: int  # the hashedTo this state continues
    hashed_to: int
    state: str


_MD5_PIECE = 1024 * 1024


def _advance_md5(state: UploadState, start: int, end: int, body: bytes) -> Optional[_Md5Advance]:
    """Extend the stored MD5 prefix with this chunk when it continues it."""
    if not start <= state.hashedTo < end:
        return None
    hasher = _resume_md5(state.md5State, state.md5Impl)
    if hasher is None:
        return None
    # rehashes holds the GIL while it hashes: 1 MiB at a time lets the staging threads run
    # between pieces instead of stalling for the whole chunk (bench: docs/benchmarks.md).
    for offset in range(state.hashedTo - start, len(body), _MD5_PIECE):
        hasher.update(body[offset:offset + _MD5_PIECE])
    return _Md5Advance(state.hashedTo, end, base64.b64encode(hasher.serialize()).decode("ascii"))


def _record_range(
    attachment_id: uuid.UUID, total: int, start: int, end: int, advanced: Optional[_Md5Advance]
) -> Optional[UploadState]:
    """Add the staged range (ETag); returns the state when this request must complete it."""
    claim: list[UploadState] = []

    def change(record: AttachmentRecord) -> bool:
        claim.clear()
        _check_can_start(record, chunked_upload_ok=True)
        state = record.upload
        if state is None:  # completed (or failed) by another request meanwhile
            raise errors.FILE_ALREADY_UPLOADED.error()
        if state.total != total:
            raise errors.HttpProblem(416, f"This upload is {state.total} bytes long; Content-Range must say so.")
        changed = False
        if not covered(state.ranges, start, end):
            state.ranges = merge_range(state.ranges, (start, end))
            changed = True
        if advanced is not None and state.hashedTo == advanced.hashed_from:
            state.hashedTo, state.md5State = advanced.hashed_to, advanced.state
            changed = True
        if _completion_due(state):
            state.completing = utcnow()
            claim.append(state)
            changed = True
        return changed

    if store.update(attachment_id, change) is None:
        raise errors.ATTACHMENT_NOT_FOUND.error()
    return claim[0] if claim else None


def _maybe_complete(attachment_id: uuid.UUID, total: int) -> Optional[UploadResult]:
    """Status query: complete a stalled completion, else report the stored ranges."""
    claim: list[UploadState] = []

    def change(record: AttachmentRecord) -> bool:
        claim.clear()
        if record.upload is not None and record.upload.mode == "chunked" and _completion_due(record.upload):
            record.upload.completing = utcnow()
            claim.append(record.upload)
            return True
        return False

    record = store.update(attachment_id, change)
    if record is None:
        raise errors.ATTACHMENT_NOT_FOUND.error()
    if claim:
        return _complete(attachment_id, claim[0])
    return UploadResult(202, progress_of(record, total))


def _complete(attachment_id: uuid.UUID, state: UploadState) -> None:
    """All ranges are staged: commit the block list, finish the MD5, verify, record."""
    assert state.total is not None and state.blockSize is not None
    blob = store.blob_client(attachment_id)
    try:
        _commit_blocks(blob, state.total, state.blockSize)
        hasher = _resume_md5(state.md5State, state.md5Impl)
        hashed_from = state.hashedTo if hasher is not None else 0
        if hasher is None:
            hasher = hashlib.md5(usedforsecurity=False)
        if hashed_from < state.total:
            _hash_committed(blob, hasher, hashed_from, state.total, READBACK_RANGE)
        digest = hasher.hexdigest() if hasattr(hasher, "hexdigest") else hasher.finalize()
    except BaseException:
        _release_completion(attachment_id)  # the next chunk or status request tries again
        raise
    logger.info(
        "attachment %s: chunked upload committed, %d of %d bytes hashed at completion",
        attachment_id, state.total - hashed_from, state.total,
    )
    _finish(attachment_id, state.total, digest.lower())
    return None


def _release_completion(attachment_id: uuid.UUID) -> None:
    def change(record: AttachmentRecord) -> bool:
        if record.upload is None or record.upload.completing is None:
            return False
        record.upload.completing = None
        return True

    try:
        store.update(attachment_id, change)
    except Exception as exc:  # noqa: BLE001 - storage may be what failed; the claim goes stale
        logger.warning("could not release the completion claim of %s (%s)", attachment_id, type(exc).__name__)


# --- purge (§6.7) --------------------------------------------------------------------------
def _check_purgeable(record: AttachmentRecord) -> None:
    if record.has_status(PURGED):
        raise errors.FILE_ALREADY_PURGED.error()
    if record.has_status(store.EXPIRED):
        raise errors.ATTACHMENT_EXPIRED_CANT_PURGE.error()
    if record.correspondenceIds:
        raise errors.PURGE_LINKED_ATTACHMENT.error()


def purge_attachment(caller: Caller, attachment_id: uuid.UUID) -> None:
    """2001, 4001, 2006, 2018, 2007; then ``Purged`` (atomically with the checks) and the blob
    deleted. The record stays, so the id keeps answering 2006/2019."""
    _check_purgeable(_accessible(caller, attachment_id))

    def change(record: AttachmentRecord) -> bool:
        _check_purgeable(record)  # again, against the version we write over (a link may race)
        record.add_status(PURGED, TEXT_PURGED)
        return True

    if store.update(attachment_id, change) is None:
        raise errors.ATTACHMENT_NOT_FOUND.error()
    _delete_blob(attachment_id)
    logger.info("attachment %s purged", attachment_id)


# --- download (§6.8) -----------------------------------------------------------------------
@dataclass
class Download:
    status: int
    body: bytes
    headers: dict[str, str]


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d{0,15})\s*-\s*(\d{0,15})\s*$", re.IGNORECASE)


def parse_range(header: Optional[str], size: int) -> Optional[tuple[int, int]]:
    """A single ``Range: bytes=a-b`` / ``a-`` / ``-n`` as ``[start, end)``; ``None`` for no (or
    an unsupported, e.g. multi-part) Range; 416 when it cannot be satisfied."""
    if header is None or not header.strip():
        return None
    found = _RANGE.match(header)
    if found is None:
        return None
    first, last = found.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            raise errors.HttpProblem(416, "The range is not satisfiable.", {"Content-Range": f"bytes */{size}"})
        return max(size - length, 0), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size or end <= start:
        raise errors.HttpProblem(416, "The range is not satisfiable.", {"Content-Range": f"bytes */{size}"})
    return start, end


def _ever_published(correspondence_ids: list[uuid.UUID]) -> bool:
    if not correspondence_ids:
        return False
    from shared import correspondence_store

    def published(cid: uuid.UUID) -> bool:
        found = correspondence_store.read_record(cid)
        return found is not None and found[0].has_status("Published")

    return any(_bounded(published, correspondence_ids, 16))


def download_attachment(caller: Caller, attachment_id: uuid.UUID, range_header: Optional[str] = None) -> Download:
    from azure.core.exceptions import ResourceNotFoundError

    record = _accessible(caller, attachment_id)  # 2001, 4001
    if record.has_status(PURGED):
        raise errors.ATTACHMENT_PURGED_CANT_DOWNLOAD.error()  # 2019
    if record.has_status(store.EXPIRED):
        raise errors.ATTACHMENT_EXPIRED_CANT_DOWNLOAD.error()  # 2020
    if _ever_published(record.correspondenceIds):
        raise errors.ATTACHED_TO_PUBLISHED.error()  # 2016
    blob = store.blob_client(attachment_id)
    try:
        size = blob.get_blob_properties().size
    except ResourceNotFoundError:
        # Upstream fails with a 500 when no file was ever stored; "not found" says why.
        raise errors.ATTACHMENT_NOT_FOUND.error() from None
    headers = {"Accept-Ranges": "bytes"}
    wanted = parse_range(range_header, size)
    if wanted is None:
        if size > MAX_DOWNLOAD_BYTES:
            raise errors.HttpProblem(
                400,
                f"The file is larger than {MAX_DOWNLOAD_BYTES} bytes: download it in parts with a "
                "'Range: bytes=start-end' header.",
            )
        start, end, status = 0, size, 200
    else:
        start, end = wanted
        if end - start > MAX_DOWNLOAD_BYTES:
            end = start + MAX_DOWNLOAD_BYTES  # a shorter 206 than asked for is allowed
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if size == 0:
        return Download(200, b"", headers)
    data = blob.download_blob(offset=start, length=end - start, max_concurrency=UPLOAD_CONCURRENCY).readall()
    return Download(status, data, headers)
