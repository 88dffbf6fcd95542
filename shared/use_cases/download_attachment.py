"""``GET /correspondence/api/v1/attachment/{attachmentId}/download``: the sender's download
(behaviour §6.8).

Order: 2001, 4001, 2019 (ever purged), 2020 (ever expired), 2016 (a linking correspondence
was ever published), then the bytes: whole, or the range a ``Range`` header asks for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Optional

from azure.core.exceptions import ResourceNotFoundError

from shared.auth.caller import Caller
from shared.core import errors
from shared.core.operations import Answer, Operation
from shared.core.statuses import CorrespondenceStatus
from shared.models.ranges import parse_range
from shared.rules import attachment_lifecycle as lifecycle
from shared.storage import blocks, correspondence_store
from shared.use_cases.attachment_access import accessible

# Without a Range header: the Functions worker holds a response in memory.
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
_BINARY = {"type": "string", "format": "binary"}

OPERATION = Operation(
    summary="Download an attachment's file (whole, or a byte range)",
    tags=("Attachment",),
    headers=(("Range", "bytes=start-end, bytes=start- or bytes=-length (one range)."),),
    answers=(
        Answer(200, "The file.", _BINARY, media_type="application/octet-stream"),
        Answer(206, "A part of the file.", _BINARY, media_type="application/octet-stream",
               headers=(("Content-Range", "bytes start-end/size"),)),
    ),
    errors=(
        errors.ATTACHMENT_NOT_FOUND,
        errors.NO_ACCESS_TO_RESOURCE,
        errors.ATTACHMENT_PURGED_CANT_DOWNLOAD,
        errors.ATTACHMENT_EXPIRED_CANT_DOWNLOAD,
        errors.ATTACHED_TO_PUBLISHED,
    ),
    problems=(
        (400, f"The file is larger than {MAX_DOWNLOAD_BYTES} bytes and no Range was sent."),
        (416, "The range is not satisfiable."),
    ),
)


@dataclass
class Download:
    status: int
    body: bytes
    headers: dict[str, str]





def _ever_published(correspondence_ids: list[uuid.UUID]) -> bool:
    if not correspondence_ids:
        return False

    def published(cid: uuid.UUID) -> bool:
        found = correspondence_store.read_record(cid)
        return found is not None and found[0].has_status(CorrespondenceStatus.Published)

    return any(blocks.bounded(published, correspondence_ids, 16))


def download_attachment(caller: Caller, attachment_id: uuid.UUID, range_header: Optional[str] = None) -> Download:
    record = accessible(caller, attachment_id)  # 2001, 4001
    lifecycle.check_downloadable(record)  # 2019, 2020
    if _ever_published(record.correspondenceIds):
        raise errors.ATTACHED_TO_PUBLISHED.error()  # 2016
    blob = blocks.blob_client(attachment_id)
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
    data = blob.download_blob(offset=start, length=end - start, max_concurrency=blocks.UPLOAD_CONCURRENCY).readall()
    return Download(status, data, headers)
